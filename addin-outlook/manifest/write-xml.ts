// npm run manifest -w addin-outlook: writes manifest.xml at the repository root from source.ts.
import { writeFile } from "node:fs/promises";
import { ROOT_MANIFEST } from "./paths.js";
import { renderXmlManifest } from "./xml.js";

await writeFile(ROOT_MANIFEST, renderXmlManifest());
console.log(`wrote ${ROOT_MANIFEST}`);
