// npm run build -w addin-outlook (the manifest part): writes into dist/ the files the gateway serves
// beside the handler bundle: manifest.xml (the checked-in root file as it is), the unified manifest
// with its Japanese strings, and the icons. It writes only its own files, so it may run after the
// bundle's build in either order of dist/'s other contents.
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writeIcons } from "./icons.js";
import { JA_FILE, renderUnifiedManifest } from "./json.js";
import { DIST, ROOT_MANIFEST } from "./paths.js";

await mkdir(DIST, { recursive: true });
await copyFile(ROOT_MANIFEST, join(DIST, "manifest.xml"));
const { manifest, japanese } = renderUnifiedManifest();
await writeFile(join(DIST, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
await writeFile(join(DIST, JA_FILE), `${JSON.stringify(japanese, null, 2)}\n`);
await writeIcons(DIST);
