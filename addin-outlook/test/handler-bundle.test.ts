// The manifest and the handler bundle agree: every function a launch event names is registered
// with Office.actions.associate in launchevent.js, or classic Outlook on Windows (which runs the
// bundle alone) would find no handler and, under SoftBlock, hold every send.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { DIST } from "../manifest/paths.js";
import { FILES, LAUNCH_EVENTS } from "../manifest/source.js";

test("launchevent.js associates every function the manifest's launch events name", (t) => {
  const bundle = join(DIST, FILES.launchScript);
  if (!existsSync(bundle)) return t.skip(`${FILES.launchScript} is not built in this checkout`);
  const code = readFileSync(bundle, "utf8");
  assert.match(code, /\.associate\(/, "the bundle calls Office.actions.associate");
  for (const name of new Set(LAUNCH_EVENTS.map((event) => event.functionName))) {
    assert.match(code, new RegExp(`["'\`]${name}["'\`]`), `${name} is registered by name`);
  }
});
