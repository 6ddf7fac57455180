// The unified manifest's app package, the ZIP the Microsoft 365 admin centre takes ("Upload custom
// apps"): this gateway's manifest.json and the files it names (icons, localization), made on request
// so that it carries this gateway's publicUrl like the manifest it contains.
import { Uint8ArrayReader, Uint8ArrayWriter, ZipWriter } from "@zip.js/zip.js";
import { readFile } from "node:fs/promises";
import { join } from "node:path";

interface PackagedManifest {
  icons?: { color?: string; outline?: string };
  localizationInfo?: { additionalLanguages?: { file?: string }[] };
}

/** The package of `manifest` (as served), with its files from `dir`. */
export async function appPackage(manifest: string, dir: string): Promise<Buffer> {
  const parsed = JSON.parse(manifest) as PackagedManifest;
  const files = [
    parsed.icons?.color,
    parsed.icons?.outline,
    ...(parsed.localizationInfo?.additionalLanguages ?? []).map((language) => language.file),
  ].filter((name): name is string => typeof name === "string");
  const zip = new ZipWriter(new Uint8ArrayWriter(), { useWebWorkers: false, useCompressionStream: false });
  await zip.add("manifest.json", new Uint8ArrayReader(Buffer.from(manifest)));
  for (const name of files) await zip.add(name, new Uint8ArrayReader(await readFile(join(dir, name))));
  return Buffer.from(await zip.close());
}
