// The unified manifest's JSON schemas as Microsoft ships them in the npm package
// @microsoft/app-manifest, compiled with ajv: validation needs no network, and no copy of the
// schemas lives in this repository.
import Ajv from "ajv-draft-04";
import addFormats from "ajv-formats";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const packageDir = dirname(createRequire(import.meta.url).resolve("@microsoft/app-manifest/package.json"));

function schemaFile(version: string, name: "MicrosoftTeams" | "MicrosoftTeams.Localization"): object {
  return JSON.parse(
    readFileSync(join(packageDir, "build/json-schemas/teams", `v${version}`, `${name}.schema.json`), "utf8"),
  ) as object;
}

/** Validates `document` against its manifestVersion's schema; returns the errors, one line each. */
export function schemaErrors(
  document: unknown,
  version: string,
  kind: "manifest" | "localization",
): string[] {
  // The schemas' patterns are ECMAScript without the u flag (one escapes a "]" the u flag rejects).
  // Both packages are CommonJS: their classes are the default export's `default`.
  const ajv = new Ajv.default({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats.default(ajv);
  const validate = ajv.compile(
    schemaFile(version, kind === "manifest" ? "MicrosoftTeams" : "MicrosoftTeams.Localization"),
  );
  if (validate(document)) return [];
  return (validate.errors ?? []).map(
    (e) => `${e.instancePath || "(root)"} ${e.message ?? ""} ${JSON.stringify(e.params)}`,
  );
}
