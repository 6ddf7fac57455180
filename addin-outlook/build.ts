// Builds the Outlook add-in into dist/: the send handler bundle and the HTML page that loads it, and
// the read-mode task pane.
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

/** dist/read.js and dist/read.html: the read-mode task pane (React and Fluent UI, @sendguard/ui). */
export async function bundleReadPane(dist: string): Promise<void> {
  await mkdir(dist, { recursive: true });
  await build({
    entryPoints: { read: join(here, "src/pane/read.tsx") },
    outdir: dist,
    bundle: true,
    format: "iife",
    target: "es2020",
    jsx: "automatic",
    minify: true,
    legalComments: "none",
    define: { "process.env.NODE_ENV": '"production"' },
    logLevel: "warning",
  });
  await copyFile(join(here, "read.html"), join(dist, "read.html"));
}

await bundleHandler(join(here, "dist"));
await bundleReadPane(join(here, "dist"));
