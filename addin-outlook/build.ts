// Builds the Outlook add-in into dist/: the send handler bundle and the HTML page that loads it, and
// the compose task pane (React + Fluent UI) with its page.
import { build } from "esbuild";
import { copyFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/**
 * dist/launchevent.js: ONE file (classic Outlook on Windows loads it alone, in a JavaScript-only
 * runtime: no import(), no DOM), and dist/launchevent.html, which loads office.js and then it.
 */
export async function bundleHandler(dist: string): Promise<void> {
  await mkdir(dist, { recursive: true });
  await build({
    entryPoints: { launchevent: join(here, "src/launchevent.ts") },
    outdir: dist,
    bundle: true,
    format: "iife",
    splitting: false,
    target: "es2019",
    minify: true,
    legalComments: "none",
    logLevel: "warning",
  });
  await copyFile(join(here, "launchevent.html"), join(dist, "launchevent.html"));
}

/** dist/taskpane.js and dist/taskpane.html: a browser page (Office's task panes are web views). */
export async function bundlePanes(dist: string): Promise<void> {
  await mkdir(dist, { recursive: true });
  await build({
    entryPoints: { taskpane: join(here, "src/pane/compose/main.tsx") },
    outdir: dist,
    bundle: true,
    format: "iife",
    // Outlook on the web's browsers, new Outlook and classic Outlook's WebView2 (Edge).
    target: "es2020",
    jsx: "automatic",
    minify: true,
    legalComments: "none",
    define: { "process.env.NODE_ENV": '"production"' },
    logLevel: "warning",
  });
  await copyFile(join(here, "taskpane.html"), join(dist, "taskpane.html"));
}

await bundleHandler(join(here, "dist"));
await bundlePanes(join(here, "dist"));
