// Builds the extension: bundles the background script, the pages (confirm window, options, held-messages
// popup) and the confirm dialog's UI module with esbuild, then packs dist/ into dist/sendguard.xpi (a ZIP
// with manifest.json at its root). The notifications' icon is a PNG drawn from icon.svg: Thunderbird's
// alert window cannot show an SVG one (held-notice.ts).
import { BlobWriter, TextReader, Uint8ArrayReader, ZipWriter } from "@zip.js/zip.js";
import { build } from "esbuild";
import { copyFile, mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { drawIcons } from "../scripts/draw-icons.js";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
const files = join(dist, "extension");

await rm(dist, { recursive: true, force: true });
await mkdir(files, { recursive: true });
const common = {
  outdir: files,
  bundle: true,
  target: "firefox128",
  jsx: "automatic",
  minify: true,
  legalComments: "none",
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "warning",
} as const;
await build({
  ...common,
  entryPoints: {
    background: join(here, "src/background.ts"),
    confirm: join(here, "src/confirm/main.ts"),
    options: join(here, "src/options/main.tsx"),
    held: join(here, "src/held/main.tsx"),
    "compose-awake": join(here, "src/compose/awake.ts"),
  },
  format: "iife",
});
// The confirm dialog's UI, which the background loads with import() (background.ts).
await build({ ...common, entryPoints: { "confirm-ui": join(here, "src/confirm/ui.tsx") }, format: "esm" });
for (const name of ["manifest.json", "confirm.html", "options.html", "held.html", "icon.svg"])
  await copyFile(join(here, name), join(files, name));
await drawIcons(join(here, "icon.svg"), [{ file: "icon-96.png", size: 96 }], files);

const zip = new ZipWriter(new BlobWriter("application/x-xpinstall"));
for (const name of (await readdir(files)).sort()) {
  const data = await readFile(join(files, name));
  await zip.add(
    name,
    /\.(json|html|svg)$/.test(name) ? new TextReader(data.toString("utf8")) : new Uint8ArrayReader(data),
  );
}
const xpi = Buffer.from(await (await zip.close()).arrayBuffer());
await writeFile(join(dist, "sendguard.xpi"), xpi);
console.log(`addin-thunderbird: dist/sendguard.xpi (${Math.round(xpi.length / 1024)} KB)`);
