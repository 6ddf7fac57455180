// DkimKeys (server/src/delivery/dkim.ts) and the Scheduler (server/src/delivery/scheduler.ts) when
// something fails before the relay has the message or after it answered: every delivery ends in a
// recorded attempt, and no group stays leased. A real SQLite store; a relay that records its calls.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { parseConfig } from "../src/config/load.js";
import { DkimKeys } from "../src/delivery/dkim.js";
import type { MessageRelay } from "../src/delivery/relay-thread.js";
import type { CopyMaker } from "../src/pipeline/transform/copies.js";
import { Scheduler } from "../src/delivery/scheduler.js";
import { Metrics } from "../src/metrics.js";
import type { NoticeSender } from "../src/notify/sender.js";
import type { Spool } from "../src/store/spool.js";
import { SqliteStore } from "../src/store/sqlite.js";
import type { Store } from "../src/store/types.js";
import { newMessage } from "./fixtures/messages.js";

const KEY = { selector: "s1", privateKey: "-----BEGIN PRIVATE KEY-----\n…" };

/** A store that answers dkimKey with `answer` and counts the lookups. */
function keyStore(answer: () => Promise<typeof KEY | undefined>) {
  const store = { lookups: 0, dkimKey: () => (store.lookups++, answer()) };
  return store;
}

describe("DkimKeys", () => {
  test("a lookup that failed is not kept: the next one asks the database again", async () => {
    let fail = true;
    const store = keyStore(() => (fail ? Promise.reject(new Error("SQLITE_BUSY")) : Promise.resolve(KEY)));
    const keys = new DkimKeys(store as unknown as Store);
    await assert.rejects(keys.forDomain("corp.example"), /SQLITE_BUSY/);
    fail = false;
    assert.equal((await keys.forDomain("corp.example"))?.keySelector, "s1");
    assert.equal(store.lookups, 2);
  });

  test("a key (or its absence) is looked up once, until forget() or a minute has passed", async (t) => {
    t.mock.timers.enable({ apis: ["Date"], now: 1_000_000 });
    let key: typeof KEY | undefined;
    const store = keyStore(() => Promise.resolve(key));
    const keys = new DkimKeys(store as unknown as Store);
    assert.equal(await keys.forDomain("Corp.Example"), null);
    key = KEY;
    assert.equal(await keys.forDomain("corp.example"), null, "remembered, domain case folded");
    assert.equal(store.lookups, 1);
    keys.forget("CORP.example");
    assert.equal((await keys.forDomain("corp.example"))?.keySelector, "s1", "the admin API's key, at once");
    key = { ...KEY, selector: "s2" };
    t.mock.timers.tick(59_000);
    assert.equal((await keys.forDomain("corp.example"))?.keySelector, "s1");
    t.mock.timers.tick(1_000);
    assert.equal((await keys.forDomain("corp.example"))?.keySelector, "s2", "the CLI's key, within a minute");
    assert.equal(store.lookups, 3);
  });
});

describe("Scheduler: failures are recorded attempts", () => {
  const dir = mkdtempSync(join(tmpdir(), "sendguard-scheduler-test-"));
  let store: SqliteStore;
  const config = parseConfig(
    { dataDir: dir, relay: { url: "smtp://127.0.0.1:1", retryDelaysSeconds: [0.2], giveUpAfterSeconds: 60 } },
    "test",
  );
  const log = pino({ level: "silent" });

  before(async () => {
    store = await SqliteStore.open(join(dir, "sendguard.db"));
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A relay that accepts every recipient and remembers who it was given. */
  function acceptingRelay() {
    const calls: string[][] = [];
    const relay: MessageRelay = {
      description: "test relay",
      deliver: (envelope) => {
        calls.push(envelope.to);
        return Promise.resolve(
          envelope.to.map((address) => ({ address, outcome: "sent", response: "250 ok" })),
        );
      },
    };
    return { relay, calls };
  }

  function scheduler(deps: { store: Store; relay: MessageRelay; dkim: DkimKeys }) {
    return new Scheduler({
      config,
      spool: { dir: join(dir, "spool") } as Spool,
      notices: {} as NoticeSender,
      copies: {} as CopyMaker, // every batch here passes its attachments as they came
      metrics: new Metrics(store),
      log,
      ...deps,
    });
  }

  /** A message due now with its body in the database, and no notices of its own. */
  async function dueMessage(recipient: string) {
    const m = { ...newMessage({ createdAt: Date.now(), body: Buffer.alloc(400, "a") }), notices: [] };
    m.batches[0] = {
      ...(m.batches[0] as (typeof m.batches)[number]),
      releaseAt: Date.now(),
      recipients: [recipient],
    };
    await store.insertMessages([m]);
    return m;
  }

  async function until<T>(check: () => Promise<T | undefined | null | false>, what: string): Promise<T> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const value = await check();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  test("a DKIM key lookup that fails is a recorded retry, and the next attempt delivers", async () => {
    let lookups = 0;
    const dkim = new DkimKeys({
      dkimKey: () =>
        ++lookups === 1 ? Promise.reject(new Error("database is locked")) : Promise.resolve(undefined),
    } as unknown as Store);
    const { relay, calls } = acceptingRelay();
    const m = await dueMessage("dkim@partner.example");
    const s = scheduler({ store, relay, dkim });
    await s.start();
    try {
      const first = await until(async () => {
        const r = (await store.message(m.id))?.batches[0]?.recipients[0];
        return r?.response ? r : null;
      }, "the first attempt");
      assert.equal(first.status, "pending");
      assert.match(first.response ?? "", /^not relayed: database is locked/);
      // Claimed again at its retry time: the failed try gave the lease back.
      await until(async () => (await store.message(m.id))?.status === "sent", "sent on the retry");
      assert.deepEqual(calls, [["dkim@partner.example"]], "relayed once, on the retry");
      const audit = await store.listAudit({ messageId: m.id, limit: 10 });
      assert.equal(audit.filter((e) => e.action === "delivery_attempt").length, 2);
    } finally {
      await s.stop();
    }
  });

  test("an attempt the database refuses to record is recorded when it can: once, not delivered twice", async () => {
    let refusals = 1;
    const flaky = new Proxy(store, {
      get(target, name, receiver) {
        if (name === "recordAttempts" && refusals > 0) {
          return () => (refusals--, Promise.reject(new Error("SQLITE_FULL: database or disk is full")));
        }
        const value: unknown = Reflect.get(target, name, receiver);
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const { relay, calls } = acceptingRelay();
    const m = await dueMessage("full@partner.example");
    const s = scheduler({ store: flaky, relay, dkim: new DkimKeys(store) });
    await s.start();
    try {
      await until(async () => (await store.message(m.id))?.status === "sent", "sent and recorded");
      assert.equal(refusals, 0, "the first write was refused");
      assert.deepEqual(calls, [["full@partner.example"]]);
    } finally {
      await s.stop();
    }
  });
  /** A relay whose answers come when the test says so. */
  function heldRelay() {
    const answers: (() => void)[] = [];
    const relay: MessageRelay = {
      description: "held relay",
      deliver: (envelope) =>
        new Promise((resolve) =>
          answers.push(() =>
            resolve(envelope.to.map((address) => ({ address, outcome: "sent", response: "250 ok" }))),
          ),
        ),
    };
    return { relay, answers };
  }

  test("a stop waits for a delivery that ends within its deadline and records it", async () => {
    const { relay, answers } = heldRelay();
    const m = await dueMessage("in-time@partner.example");
    const s = scheduler({ store, relay, dkim: new DkimKeys(store) });
    await s.start();
    await until(async () => answers.length === 1, "the delivery under way");
    const stopped = s.stop(Date.now() + 10_000);
    (answers[0] as () => void)();
    assert.deepEqual(await stopped, { deliveries: [], notices: 0 });
    assert.equal((await store.message(m.id))?.status, "sent");
  });

  test("a stop at its deadline gives a delivery still out back: the next start claims it, its late answer is not recorded", async () => {
    const { relay, answers } = heldRelay();
    const m = await dueMessage("too-late@partner.example");
    const s = scheduler({ store, relay, dkim: new DkimKeys(store) });
    await s.start();
    await until(async () => answers.length === 1, "the delivery under way");
    const givenUp = await s.stop(Date.now() + 100);
    assert.deepEqual(givenUp, { deliveries: [{ messageId: m.id, group: m.batches[0]?.name }], notices: 0 });
    (answers[0] as () => void)();
    // Between the answer and its record there are only promise callbacks: a record would be
    // queued on the store's writer before this claim, which that writer runs after it.
    await new Promise(setImmediate);
    const again = await store.claimDueBatches(Date.now(), 10);
    assert.deepEqual(
      again.map((c) => c.message.id),
      [m.id],
      "released, and not recorded as sent",
    );
    await store.resetLeases();
  });
});
