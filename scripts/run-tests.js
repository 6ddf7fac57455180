// Runs every *.test.ts under shared/test, server/test, ui/test, addin-thunderbird/test, addin-outlook/test and test/ with Node's test runner (via tsx).
// Node 20 does not expand globs itself.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function find(dir) {
  let out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === "node_modules") continue;
    if (statSync(path).isDirectory()) out = out.concat(find(path));
    else if (name.endsWith(".test.ts")) out.push(path);
  }
  return out;
}

const only = process.argv.slice(2);
const files = only.length
  ? only
  : ["shared/test", "server/test", "ui/test", "addin-thunderbird/test", "addin-outlook/test", "test"]
      .flatMap(find)
      .sort();
// The gateway's settings from the caller's shell (SENDGUARD_DATA_DIR after following the README…)
// must not reach the tests; SENDGUARD_SCREENSHOTS is the tests' own (where screenshots go).
const env = Object.fromEntries(
  Object.entries(process.env).filter(
    ([name]) => !name.startsWith("SENDGUARD_") || name === "SENDGUARD_SCREENSHOTS",
  ),
);
const r = spawnSync(
  process.execPath,
  [
    "--import",
    "tsx",
    "--import",
    "./scripts/test-one-connection-per-request.js",
    "--test",
    "--test-concurrency=2",
    ...files,
  ],
  {
    stdio: "inherit",
    env,
  },
);
process.exit(r.status ?? 1);
