// Intake's group commit (server/src/pipeline/intake.ts) against a real store and spool: a spooled
// message is answered only once it is marked acknowledged, and a mark that fails refuses the
// client like any other storage failure, leaving neither its rows nor its file behind.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { parseConfig } from "../src/config/load.js";
import { Metrics } from "../src/metrics.js";
import { Analyzer } from "../src/pipeline/analyzer.js";
import { IntakeError } from "../src/pipeline/errors.js";
import { Intake } from "../src/pipeline/intake.js";
import type { IntakeRequest } from "../src/pipeline/message.js";
import { PolicyService } from "../src/policy/service.js";
import { Spool } from "../src/store/spool.js";
import { SqliteStore } from "../src/store/sqlite.js";
import type { Store, UserRecord } from "../src/store/types.js";
import { newUser } from "./fixtures/users.js";

describe("Intake commit", () => {
  const dir = mkdtempSync(join(tmpdir(), "sendguard-intake-test-"));
  // Every message in a spool file, however small.
  const config = parseConfig(
    { dataDir: dir, spool: { inlineMaxBytes: 0 }, organization: { internalDomains: ["corp.example"] } },
    "test",
  );
  const log = pino({ level: "silent" });
  let store: SqliteStore;
  let spool: Spool;
  let analyzer: Analyzer;
  let intake: Intake;
  let user: UserRecord;
  let markFails = false;

  before(async () => {
    store = await SqliteStore.open(join(dir, "sendguard.db"));
    spool = new Spool(join(dir, "spool"), config.spool);
    await spool.init();
    user = await store.addUser(newUser("alice@corp.example"));
    // The real store, but for a mark the test may make fail (a full disk at that moment).
    const marking: Store = new Proxy(store, {
      get: (target, key, receiver) =>
        key === "markSpoolAcknowledged" && markFails
          ? () => Promise.reject(new Error("SQLITE_FULL: database or disk is full"))
          : Reflect.get(target, key, receiver),
    });
    const policies = new PolicyService(marking, config, log);
    await policies.load();
    analyzer = new Analyzer({ ...config.analysis, log });
    intake = new Intake({
      config,
      store: marking,
      spool,
      policies,
      analyzer,
      metrics: new Metrics(marking),
      log,
      onStored: () => undefined,
    });
  });
  after(async () => {
    await analyzer.close();
    await spool.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const request = (subject: string): IntakeRequest => ({
    source: "smtp",
    stream: (async function* () {
      yield Buffer.from(
        `From: alice@corp.example\r\nTo: x@partner.example\r\nSubject: ${subject}\r\n\r\nHello.\r\n`,
      );
    })(),
    mailFrom: "alice@corp.example",
    rcptTo: ["x@partner.example"],
    user,
    authenticated: true,
    remoteAddress: "127.0.0.1",
    lineEndings: "normalize",
  });

  test("an accepted spooled message is marked acknowledged before it is answered", async () => {
    const accepted = await intake.submit(request("marked"));
    assert.deepEqual(
      (await store.unfinishedSpooled()).filter((m) => m.id === accepted.id),
      [{ id: accepted.id, acknowledged: true }],
    );
    assert.ok((await spool.list()).includes(`${accepted.id}.eml`));
  });

  test("a mark that fails refuses the message (storage) and forgets its rows and file", async () => {
    const filesBefore = await spool.list();
    const spooledBefore = await store.unfinishedSpooled();
    markFails = true;
    try {
      await assert.rejects(
        intake.submit(request("not marked")),
        (err: unknown) => err instanceof IntakeError && err.code === "storage",
      );
    } finally {
      markFails = false;
    }
    assert.deepEqual(await store.unfinishedSpooled(), spooledBefore, "no row stays behind");
    assert.deepEqual(await spool.list(), filesBefore, "no file stays behind");
    const [forgotten] = (await store.listAudit({ limit: 100 })).filter((e) => e.action === "forgotten");
    assert.ok(forgotten, "the refused message's rows were deleted, with an audit entry");
    assert.deepEqual(forgotten.detail, { reason: "marking the spool files acknowledged failed" });
    assert.equal(await store.message(forgotten.messageId as string), undefined);
  });
});
