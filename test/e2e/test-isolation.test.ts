// Tests must not depend on the caller's SENDGUARD_* environment (a shell set up as the README says):
// neither the gateways and CLIs they spawn nor the test processes scripts/run-tests.js starts see it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { uniqueId } from "../helpers/fixtures.js";
import { ROOT, TestGateway, waitFor } from "../helpers/gateway.js";
import { SmtpSink } from "../helpers/sink.js";

const PW = "correct-horse-1";
const ADMIN = "admin@corp.example";

describe("isolation from the caller's SENDGUARD_* environment", () => {
  const sharedDir = mkdtempSync(join(tmpdir(), "sendguard-shell-"));
  const shell: Record<string, string> = {
    SENDGUARD_DATA_DIR: sharedDir,
    SENDGUARD_CONFIG: join(sharedDir, "missing.yaml"),
    SENDGUARD_RELAY_URL: "smtp://127.0.0.1:9",
    SENDGUARD_HTTP_PORT: "1",
    SENDGUARD_SMTP_PORT: "2",
    SENDGUARD_PUBLIC_URL: "https://shell.example",
  };
  const saved: Record<string, string | undefined> = {};
  const sink = new SmtpSink();
  const gateways: TestGateway[] = [];

  before(async () => {
    for (const [name, value] of Object.entries(shell)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
    await sink.start();
  });
  after(async () => {
    await Promise.all(gateways.map((gw) => gw.stop()));
    await sink.stop();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  test("two gateways each keep their own data dir, ports and relay", async () => {
    const first = new TestGateway({ relayPort: sink.port });
    const second = new TestGateway();
    gateways.push(first, second);
    // With one shared data dir the second `user add` fails: "user admin@corp.example already exists".
    first.addUser(ADMIN, PW, "--role", "admin");
    second.addUser(ADMIN, PW, "--role", "admin");
    await Promise.all([first.start(), second.start()]);
    for (const gw of [first, second]) {
      assert.ok(existsSync(join(gw.dataDir, "sendguard.db")), `${gw.dataDir} holds its database`);
      assert.notEqual(gw.ports.http, 1);
      assert.notEqual(gw.ports.smtp, 2);
    }
    assert.deepEqual(readdirSync(sharedDir), [], "nothing is written to the shell's data dir");

    const token = await first.token(ADMIN, PW);
    const subject = uniqueId("isolated");
    const sent = await first.api(token, "POST", "/messages", { to: "x@partner.example", subject, text: "." });
    assert.equal(sent.status, 202);
    await waitFor(
      () => sink.messages.find((m) => m.text.includes(subject)),
      10_000,
      "the message at the test's own relay",
    );
  });

  test("scripts/run-tests.js starts the test processes without the gateway's variables", () => {
    const probe = join(mkdtempSync(join(tmpdir(), "sendguard-env-probe-")), "env.test.mjs");
    writeFileSync(
      probe,
      `import assert from "node:assert/strict";
import { test } from "node:test";
test("the test process sees no SENDGUARD_* but the tests' own", () => {
  assert.deepEqual(Object.keys(process.env).filter((n) => n.startsWith("SENDGUARD_")), ["SENDGUARD_SCREENSHOTS"]);
});
`,
    );
    // Without NODE_TEST_CONTEXT: this test runs under `node --test`, which would make the inner
    // runner report to it instead of printing its results.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const r = spawnSync(process.execPath, [join(ROOT, "scripts/run-tests.js"), probe], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...env, SENDGUARD_SCREENSHOTS: join(sharedDir, "shots") },
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /# pass 1/);
  });
});
