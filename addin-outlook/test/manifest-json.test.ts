// The unified manifest, offline: manifest.xml converted by Microsoft's converter and our own
// rendering (dist/manifest.json) both validated against the schemas in @microsoft/app-manifest, and
// compared with each other, so that a tenant deploying either gets the same add-in.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { convert } from "office-addin-manifest-converter";
import { JA_FILE, MANIFEST_VERSION, renderUnifiedManifest } from "../manifest/json.js";
import { DIST, ROOT_MANIFEST } from "../manifest/paths.js";
import { EVENT_SETS, atLeast } from "./requirement-sets.js";
import { schemaErrors } from "./schemas.js";

interface Extension {
  requirements: { capabilities: { name: string; minVersion: string }[] };
  runtimes: { code: { page: string; script?: string }; actions: { id: string; type: string }[] }[];
  ribbons: { contexts: string[]; tabs: { groups: { controls: { id: string; actionId: string }[] }[] }[] }[];
  autoRunEvents: {
    requirements?: { capabilities: { minVersion: string }[] };
    events: { type: string; actionId: string; options?: { sendMode: string } }[];
  }[];
}
type Manifest = { manifestVersion: string; id: string; extensions: Extension[] };

/** What an add-in does, in terms both manifests must agree on (ids the converter invents aside). */
function behaviour(manifest: Manifest) {
  const [extension] = manifest.extensions;
  assert.ok(extension);
  const actionPage = new Map(
    extension.runtimes.flatMap((r) => r.actions.map((a) => [a.id, r.code.page] as const)),
  );
  return {
    id: manifest.id,
    events: extension.autoRunEvents
      .flatMap((group) => group.events)
      .map((e) => `${e.type} → ${e.actionId} (${e.options?.sendMode ?? "no send mode"})`)
      .sort(),
    scripts: extension.runtimes.flatMap((r) => (r.code.script ? [`${r.code.page} + ${r.code.script}`] : [])),
    buttons: extension.ribbons
      .flatMap((ribbon) =>
        ribbon.tabs.flatMap((tab) =>
          tab.groups.flatMap((g) =>
            g.controls.map((c) => `${ribbon.contexts.join()}: ${c.id} opens ${actionPage.get(c.actionId)}`),
          ),
        ),
      )
      .sort(),
  };
}

const read = (file: string) => JSON.parse(readFileSync(file, "utf8")) as unknown;

describe("unified manifest", () => {
  const dir = mkdtempSync(join(tmpdir(), "sendguard-manifest-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const ours = renderUnifiedManifest();
  const manifest = ours.manifest as unknown as Manifest;

  test("manifest.xml converts with office-addin-manifest-converter to a manifest the schema accepts", async () => {
    await convert(ROOT_MANIFEST, dir);
    const converted = read(join(dir, "manifest.json")) as Manifest;
    assert.deepEqual(schemaErrors(converted, converted.manifestVersion, "manifest"), []);
    assert.deepEqual(schemaErrors(read(join(dir, JA_FILE)), converted.manifestVersion, "localization"), []);
    assert.deepEqual(behaviour(manifest), behaviour(converted), "ours and the converted one do the same");
  });

  test("ours and its Japanese strings validate against the schemas shipped in @microsoft/app-manifest", () => {
    assert.deepEqual(schemaErrors(ours.manifest, MANIFEST_VERSION, "manifest"), []);
    assert.deepEqual(schemaErrors(ours.japanese, MANIFEST_VERSION, "localization"), []);
    const broken = { ...ours.manifest, accentColor: "blue" };
    assert.notDeepEqual(
      schemaErrors(broken, MANIFEST_VERSION, "manifest"),
      [],
      "the schema is really applied",
    );
  });

  test("every text a person reads has its Japanese string, and every Japanese string replaces one", () => {
    const texts = new Map<string, string>();
    const walk = (value: unknown, path: string) => {
      if (typeof value === "string") {
        if (/(^|\.)(short|full|label|title|description)$/.test(path)) texts.set(path, value);
      } else if (Array.isArray(value)) value.forEach((item, i) => walk(item, `${path}[${i}]`));
      else if (value && typeof value === "object")
        for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
    };
    walk(ours.manifest, "");
    const { $schema: _schema, ...japanese } = ours.japanese;
    assert.deepEqual(Object.keys(japanese).sort(), [...texts.keys()].sort());
    for (const [path, en] of texts)
      assert.ok(japanese[path] && japanese[path] !== "", `${path} (${en}) in Japanese`);
  });

  test("each event is declared under a requirement set that has it", () => {
    const [extension] = manifest.extensions;
    for (const group of extension?.autoRunEvents ?? []) {
      const min = group.requirements?.capabilities[0]?.minVersion ?? "1.1";
      for (const event of group.events) {
        const needs = EVENT_SETS[event.type];
        assert.ok(needs, `a known event: ${event.type}`);
        assert.ok(atLeast(min, needs), `${event.type} needs Mailbox ${needs}, declared under ${min}`);
      }
    }
  });

  test("the build wrote this manifest into dist/", (t) => {
    if (!existsSync(join(DIST, "manifest.json"))) return t.skip("not built: npm run build -w addin-outlook");
    assert.deepEqual(read(join(DIST, "manifest.json")), ours.manifest);
    assert.deepEqual(read(join(DIST, JA_FILE)), ours.japanese);
    assert.equal(readFileSync(join(DIST, "manifest.xml"), "utf8"), readFileSync(ROOT_MANIFEST, "utf8"));
  });
});
