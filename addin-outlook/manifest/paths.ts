// Where the manifests are read and written.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), "..");
export const ROOT_MANIFEST = join(PACKAGE_DIR, "..", "manifest.xml");
export const DIST = join(PACKAGE_DIR, "dist");
