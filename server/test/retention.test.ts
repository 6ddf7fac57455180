// RetentionJob (server/src/retention.ts) against a real SQLite store and spool in a temporary
// directory, with the clock injected: a run "days later" is a run with a later clock. Also where
// final_at (the time retention counts from) is set: on every path to a final status.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test, type TestContext } from "node:test";
import type { MessageStatus } from "@sendguard/shared";
import { decideApproval } from "../src/approval.js";
import { ConfigError, parseConfig } from "../src/config/load.js";
import { createLogger } from "../src/log.js";
import { ORPHAN_MIN_AGE_MS, RetentionJob } from "../src/retention.js";
import { Db } from "../src/store/db.js";
import { Spool, spoolName } from "../src/store/spool.js";
import { SqliteStore } from "../src/store/sqlite.js";
import { FINAL_STATUSES } from "../src/store/status.js";
import type { NewMessage, Store } from "../src/store/types.js";
import { attempt, failed, MIN, newMessage, retry, sent, T } from "./fixtures/messages.js";
import { newUser } from "./fixtures/users.js";

const DAY = 86_400_000;
/** When the messages below reach their final status (they are created at T). */
const FINAL = T + 10 * MIN;

interface Setup {
  dir: string;
  store: SqliteStore;
  spool: Spool;
  /** The job's clock: set it to run "later". */
  clock: { now: number };
  job: RetentionJob;
  /** A read-only connection for what the Store interface does not show (final_at, row counts). */
  db: Db;
}

/** A store, spool and job of their own for one test (the job works on everything in the store). */
async function setup(t: TestContext, retention: Record<string, unknown> = {}): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), "sendguard-retention-test-"));
  const store = await SqliteStore.open(join(dir, "sendguard.db"));
  const spool = new Spool(join(dir, "spool"));
  await spool.init();
  const db = await Db.open(join(dir, "sendguard.db"), true);
  const config = parseConfig({ dataDir: dir, retention }, "test");
  const clock = { now: FINAL };
  const job = new RetentionJob({ config, store, spool, log: createLogger("silent"), clock: () => clock.now });
  t.after(async () => {
    await job.stop();
    await db.close();
    await spool.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, store, spool, clock, job, db };
}

/** Stores `m`; without a body of its own it gets a spool file, as intake writes a large one. */
async function put(s: Setup, m: NewMessage): Promise<NewMessage> {
  if (!m.body) writeFileSync(s.spool.path(spoolName(m.id)), `Subject: ${m.subject}\r\n\r\nbody\r\n`);
  await s.store.insertMessages([m]);
  return m;
}

/** Claims `m`'s groups at `now` and records every recipient as `outcome`: its final status. */
async function deliver(store: Store, m: NewMessage, now: number, outcome = sent): Promise<void> {
  const claimed = (await store.claimDueBatches(now, 1000)).filter((c) => c.message.id === m.id);
  assert.ok(claimed.length, `nothing of ${m.id} was due at ${now}`);
  await store.recordAttempts(
    claimed.map(({ batch: group }) => ({
      ...attempt(
        m,
        0,
        now,
        group.recipients.map((r) => outcome(r.address)),
        null,
      ),
      batchId: group.id,
    })),
  );
}

/** Sends every notice due by `now` (the hold notices queued with each message), as the notice sender does. */
async function sendNotices(store: Store, now: number): Promise<void> {
  const due = await store.claimDueNotices(now, 10_000);
  await store.finishNotices(due.map((n) => ({ id: n.id, retryAt: null, error: null })));
}

/** A message sent at FINAL, its hold notice sent. */
async function sentMessage(s: Setup, spec: Parameters<typeof newMessage>[0] = {}): Promise<NewMessage> {
  const m = await put(s, newMessage(spec));
  await deliver(s.store, m, FINAL);
  await sendNotices(s.store, FINAL);
  return m;
}

const finalAt = async (s: Setup, id: string) =>
  (await s.db.get<{ final_at: number | null }>("SELECT final_at FROM messages WHERE id = ?", [id]))?.final_at;

const count = async (s: Setup, sql: string, params: unknown[] = []) =>
  (await s.db.get<{ n: number }>(`SELECT count(*) AS n FROM ${sql}`, params))?.n ?? 0;

const hasSpoolFile = (s: Setup, id: string) => existsSync(s.spool.path(spoolName(id)));

/** Sets a file's modification time (the orphan sweep's measure of age). */
const touch = (path: string, at: number) => utimesSync(path, at / 1000, at / 1000);

describe("final_at: set on every path to a final status, and only there", () => {
  test("FINAL_STATUSES are exactly the statuses no group can leave", () => {
    // A new status fails to compile here until it is sorted into final or not.
    const final = {
      pending_approval: false,
      held: false,
      releasing: false,
      sent: true,
      failed: true,
      partially_sent: true,
      discarded: true,
      rejected: true,
      approval_denied: true,
    } satisfies Record<MessageStatus, boolean>;
    assert.deepEqual(
      [...FINAL_STATUSES].sort(),
      Object.entries(final)
        .filter(([, f]) => f)
        .map(([s]) => s)
        .sort(),
    );
  });

  const AT = T + 20 * MIN;
  const withApproval = (m: NewMessage, timeoutAction: "deny" | "approve"): NewMessage => ({
    ...m,
    approvers: ["boss@corp.example"],
    approvalDeadline: T + 15 * MIN,
    approvalTimeoutAction: timeoutAction,
  });
  const two = () =>
    newMessage({
      batches: [
        { name: "internal", recipients: ["bob@corp.example"] },
        { name: "external", recipients: ["x@example.com"] },
      ],
    });
  const paths: [string, MessageStatus, (s: Setup) => Promise<NewMessage>][] = [
    [
      "delivered",
      "sent",
      async (s) => {
        const m = await put(s, newMessage());
        await deliver(s.store, m, AT);
        return m;
      },
    ],
    [
      "refused by the relay (5xx)",
      "failed",
      async (s) => {
        const m = await put(s, newMessage());
        await deliver(s.store, m, AT, failed);
        return m;
      },
    ],
    [
      "retried until given up",
      "failed",
      async (s) => {
        const m = await put(s, newMessage());
        await s.store.claimDueBatches(T + 5 * MIN, 10);
        await s.store.recordAttempts([attempt(m, 0, T + 6 * MIN, [retry("bob@example.com")], T + 7 * MIN)]);
        await s.store.claimDueBatches(T + 7 * MIN, 10);
        await s.store.recordAttempts([attempt(m, 0, AT, [retry("bob@example.com")], null)]);
        return m;
      },
    ],
    [
      "one recipient sent, one refused",
      "partially_sent",
      async (s) => {
        const m = await put(s, newMessage({ batches: [{ recipients: ["a@example.com", "b@example.com"] }] }));
        await s.store.claimDueBatches(AT, 10);
        await s.store.recordAttempts([
          attempt(m, 0, AT, [sent("a@example.com"), failed("b@example.com")], null),
        ]);
        return m;
      },
    ],
    [
      "one group delivered, the other refused, later",
      "partially_sent",
      async (s) => {
        const m = await put(s, two());
        await s.store.claimDueBatches(T + 5 * MIN, 10);
        await s.store.recordAttempts([attempt(m, 0, T + 6 * MIN, [sent("bob@corp.example")], null)]);
        await s.store.recordAttempts([attempt(m, 1, AT, [failed("x@example.com")], null)]);
        return m;
      },
    ],
    [
      "discarded while held",
      "discarded",
      async (s) => {
        const m = await put(s, newMessage());
        await s.store.actOnHeld(m.id, "discard", "alice@corp.example", AT);
        return m;
      },
    ],
    [
      "discarded while waiting for a retry, one recipient already sent",
      "sent",
      async (s) => {
        const m = await put(s, newMessage({ batches: [{ recipients: ["a@example.com", "b@example.com"] }] }));
        await s.store.claimDueBatches(T + 5 * MIN, 10);
        await s.store.recordAttempts([
          attempt(m, 0, T + 6 * MIN, [sent("a@example.com"), retry("b@example.com")], T + 60 * MIN),
        ]);
        await s.store.actOnHeld(m.id, "discard", "alice@corp.example", AT);
        return m;
      },
    ],
    [
      "one group discarded, the other delivered",
      "sent",
      async (s) => {
        const m = await put(s, two());
        const [, external] = (await s.store.message(m.id))?.batches ?? [];
        await s.store.actOnHeld(m.id, "discard", "alice@corp.example", T + 1 * MIN, external?.id ?? null);
        await deliver(s.store, m, AT);
        return m;
      },
    ],
    [
      "body lost after its acknowledgement (spool file gone at a start)",
      "failed",
      async (s) => {
        const m = await put(s, newMessage());
        await s.store.markBodiesMissing([{ messageId: m.id, notices: [], audit: [] }], "body lost", AT);
        return m;
      },
    ],
    [
      "denied by an approver",
      "approval_denied",
      async (s) => {
        const m = await put(s, withApproval(newMessage(), "deny"));
        await s.store.decideApproval(m.id, false, "boss@corp.example", AT, [], {});
        return m;
      },
    ],
    [
      "approval timed out, deny",
      "approval_denied",
      async (s) => {
        const m = await put(s, withApproval(newMessage(), "deny"));
        const record = await s.store.message(m.id);
        assert.ok(record);
        // As the scheduler does at the deadline (Scheduler.expireApprovals).
        await decideApproval(s.store, record, "timeout", false, "no decision before the deadline", AT);
        return m;
      },
    ],
    [
      "approval timed out, approve, then delivered",
      "sent",
      async (s) => {
        const m = await put(s, withApproval(newMessage(), "approve"));
        const record = await s.store.message(m.id);
        assert.ok(record);
        await decideApproval(
          s.store,
          record,
          "timeout",
          true,
          "no decision before the deadline",
          T + 16 * MIN,
        );
        assert.equal(await finalAt(s, m.id), null, "approved and held: not final yet");
        await deliver(s.store, m, AT);
        return m;
      },
    ],
  ];
  for (const [how, status, reach] of paths) {
    test(`${how}: ${status}, final_at is when it happened`, async (t) => {
      const s = await setup(t);
      const m = await reach(s);
      assert.equal((await s.store.message(m.id))?.status, status);
      assert.equal(await finalAt(s, m.id), AT);
    });
  }
});

describe("RetentionJob", () => {
  test("a body goes bodyDays after the final status, not a millisecond before: spool file and database row", async (t) => {
    const s = await setup(t, { bodyDays: 7 });
    const spooled = await sentMessage(s);
    const inline = await sentMessage(s, { body: Buffer.from("Subject: small\r\n\r\nsmall\r\n") });

    s.clock.now = FINAL + 7 * DAY - 1;
    assert.equal((await s.job.run()).bodies, 0);
    assert.ok(hasSpoolFile(s, spooled.id));
    assert.ok(await s.store.messageBody(inline.id));
    assert.equal((await s.store.message(spooled.id))?.bodyDeletedAt, null);

    s.clock.now = FINAL + 7 * DAY;
    const summary = await s.job.run();
    assert.equal(summary.bodies, 2);
    assert.equal(hasSpoolFile(s, spooled.id), false, "spool file removed");
    assert.equal(await s.store.messageBody(inline.id), undefined, "bodies row deleted");
    for (const m of [spooled, inline]) {
      const record = await s.store.message(m.id);
      assert.equal(record?.bodyDeletedAt, FINAL + 7 * DAY);
      // What became of it stays on record.
      assert.equal(record?.status, "sent");
      assert.equal(record?.subject, m.subject);
      assert.deepEqual(record?.batches[0]?.recipients, [
        { address: "bob@example.com", status: "sent", response: "250 ok" },
      ]);
    }
    // The run is audited; a second run finds nothing.
    const entry = await s.db.get<{ actor: string; detail: string }>(
      "SELECT actor, detail FROM audit WHERE action = 'retention_run'",
    );
    assert.equal(entry?.actor, "retention");
    assert.equal((JSON.parse(entry?.detail ?? "{}") as { bodies?: number }).bodies, 2);
    assert.equal((await s.job.run()).bodies, 0);
  });

  test("never the body of a message still held, awaiting approval or being delivered, however old", async (t) => {
    const s = await setup(t, { bodyDays: 0, metadataDays: 0, auditDays: 0 });
    const held = await put(s, newMessage({ batches: [{ releaseAt: T + 400 * DAY }] }));
    const pending = await put(s, {
      ...newMessage(),
      approvers: ["boss@corp.example"],
      approvalDeadline: T + 400 * DAY,
      approvalTimeoutAction: "deny",
    });
    const retrying = await put(s, newMessage());
    const leased = await put(s, newMessage());
    // One group delivered, the other still held: the message is not final, its body is needed.
    const half = await put(
      s,
      newMessage({
        batches: [
          { name: "internal", releaseAt: T + 1 * MIN, recipients: ["bob@corp.example"] },
          { name: "external", releaseAt: T + 400 * DAY, recipients: ["x@example.com"] },
        ],
      }),
    );
    await deliver(s.store, half, T + 2 * MIN);
    // `retrying` and `leased` are claimed; `retrying` waits for its next attempt, `leased` is in flight.
    await s.store.claimDueBatches(T + 5 * MIN, 100);
    await s.store.recordAttempts([
      attempt(retrying, 0, T + 6 * MIN, [retry("bob@example.com")], T + 400 * DAY),
    ]);
    const expected: [NewMessage, MessageStatus][] = [
      [held, "held"],
      [pending, "pending_approval"],
      [retrying, "releasing"],
      [leased, "releasing"],
      [half, "held"],
    ];
    for (const [m, status] of expected) {
      assert.equal((await s.store.message(m.id))?.status, status, m.id);
      assert.equal(await finalAt(s, m.id), null, `${status}: not final`);
    }

    s.clock.now = T + 399 * DAY;
    const summary = await s.job.run();
    assert.equal(summary.bodies, 0);
    assert.equal(summary.messages, 0);
    assert.equal(summary.orphanSpoolFiles, 0, "their files belong to kept bodies");
    for (const [m] of expected) {
      assert.ok(hasSpoolFile(s, m.id), m.id);
      assert.equal((await s.store.message(m.id))?.bodyDeletedAt, null, m.id);
    }
  });

  test("a message's rows go metadataDays after its final status, with its batches and recipients", async (t) => {
    const s = await setup(t, { bodyDays: 7, metadataDays: 365, auditDays: null });
    const old = await sentMessage(s);
    const recent = await put(s, newMessage({ createdAt: T + 30 * DAY }));
    await deliver(s.store, recent, T + 30 * DAY + 10 * MIN);
    await sendNotices(s.store, T + 31 * DAY);

    s.clock.now = FINAL + 365 * DAY - 1;
    let summary = await s.job.run();
    assert.equal(summary.bodies, 2, "both bodies went after 7 days");
    assert.equal(summary.messages, 0);
    assert.ok(await s.store.message(old.id));

    s.clock.now = FINAL + 365 * DAY;
    summary = await s.job.run();
    assert.equal(summary.messages, 1);
    assert.equal(await s.store.message(old.id), undefined);
    assert.equal(await count(s, "batches WHERE message_id = ?", [old.id]), 0, "batches go with it");
    assert.equal(await count(s, "recipients WHERE batch_id = ?", [old.batches[0]?.id]), 0, "recipients too");
    assert.ok(await s.store.message(recent.id));
    // auditDays null: the audit log keeps what happened to the purged message.
    assert.equal((await s.store.listAudit({ messageId: old.id, limit: 10 })).length, 1);
  });

  test("audit entries go auditDays after they were written, whatever became of their message", async (t) => {
    const s = await setup(t, { bodyDays: null, metadataDays: null, auditDays: 365 });
    const m = await put(s, newMessage()); // audited "accepted" at T
    const later = await put(s, newMessage({ createdAt: T + 1 }));
    s.clock.now = T + 365 * DAY - 1;
    assert.equal((await s.job.run()).audit, 0);
    s.clock.now = T + 365 * DAY;
    assert.equal((await s.job.run()).audit, 1);
    assert.equal((await s.store.listAudit({ messageId: m.id, limit: 10 })).length, 0);
    assert.equal((await s.store.listAudit({ messageId: later.id, limit: 10 })).length, 1);
    assert.ok(await s.store.message(m.id), "the message itself is kept (metadataDays null)");
  });

  test("a message with a notice still to send stays until the notice is sent (no notice is left without its message)", async (t) => {
    const s = await setup(t, { bodyDays: 0, metadataDays: 0 });
    const m = await put(s, newMessage());
    await deliver(s.store, m, FINAL);
    // Its hold notice is still pending (the relay for notices is down, say).
    s.clock.now = FINAL + 1;
    let summary = await s.job.run();
    assert.equal(summary.bodies, 1);
    assert.equal(summary.messages, 0);
    assert.ok(await s.store.message(m.id));
    assert.equal(await count(s, "notices WHERE message_id = ? AND status = 'pending'", [m.id]), 1);

    await sendNotices(s.store, FINAL + 2);
    summary = await s.job.run();
    assert.equal(summary.messages, 1);
    assert.equal(summary.notices, 1, "the sent notice goes too");
    assert.equal(await s.store.message(m.id), undefined);
    assert.equal(await count(s, "notices WHERE message_id = ?", [m.id]), 0);
  });

  test("notices sent or given up go metadataDays after they were queued; pending ones never", async (t) => {
    const s = await setup(t, { bodyDays: 1, metadataDays: 30 });
    const a = await put(s, newMessage());
    const b = await put(s, newMessage());
    const c = await put(s, newMessage());
    const [na, nb] = await s.store
      .claimDueNotices(T, 10)
      .then((all) => all.filter((n) => n.messageId !== c.id));
    assert.ok(na && nb);
    await s.store.finishNotices([
      { id: na.id, retryAt: null, error: null },
      { id: nb.id, retryAt: null, error: "550 no such user" },
    ]);
    s.clock.now = T + 30 * DAY;
    const summary = await s.job.run();
    assert.equal(summary.notices, 2, "the sent and the given-up notice");
    assert.equal(await count(s, "notices WHERE message_id IN (?, ?)", [a.id, b.id]), 0);
    assert.equal(await count(s, "notices WHERE message_id = ? AND status = 'pending'", [c.id]), 1);
  });

  test("outbox files go outboxDays after they were written; a temporary one only once it is an hour old", async (t) => {
    const s = await setup(t, { outboxDays: 7 });
    const outbox = join(s.dir, "outbox");
    mkdirSync(outbox);
    const file = (name: string, at: number) => {
      writeFileSync(join(outbox, name), "Subject: x\r\n\r\nx\r\n");
      touch(join(outbox, name), at);
    };
    const now = Date.now();
    s.clock.now = now;
    file("old.eml", now - 7 * DAY - 1000);
    file("new.eml", now - 7 * DAY + 60_000);
    file("crashed.eml.tmp", now - 8 * DAY);
    file("other.txt", now - 100 * DAY);
    assert.equal((await s.job.run()).outboxFiles, 2);
    assert.deepEqual(
      ["old.eml", "new.eml", "crashed.eml.tmp", "other.txt"].filter((n) => existsSync(join(outbox, n))),
      ["new.eml", "other.txt"],
    );

    const zero = await setup(t, { bodyDays: 0, metadataDays: 0, outboxDays: 0 });
    const zeroOutbox = join(zero.dir, "outbox");
    mkdirSync(zeroOutbox);
    zero.clock.now = now;
    for (const [name, at] of [
      ["sent.eml", now],
      ["writing.eml.tmp", now - ORPHAN_MIN_AGE_MS + 60_000],
      ["crashed.eml.tmp", now - ORPHAN_MIN_AGE_MS - 1000],
    ] as const) {
      writeFileSync(join(zeroOutbox, name), "x");
      touch(join(zeroOutbox, name), at);
    }
    assert.equal((await zero.job.run()).outboxFiles, 2);
    assert.ok(existsSync(join(zeroOutbox, "writing.eml.tmp")), "a file being written is left alone");
  });

  test("expired API tokens and sessions are purged; live ones and those without expiry stay", async (t) => {
    const s = await setup(t);
    const user = await s.store.addUser(newUser("hanako@corp.example"));
    const now = T + DAY;
    await s.store.saveToken("expired-api", user.id, "api", null, now - 1);
    await s.store.saveToken("expired-session", user.id, "session", "csrf", now);
    await s.store.saveToken("live-session", user.id, "session", "csrf", now + 1);
    await s.store.saveToken("forever", user.id, "api", null, null);
    s.clock.now = now;
    assert.equal((await s.job.run()).tokens, 2);
    assert.equal(await count(s, "tokens WHERE token_hash IN ('expired-api', 'expired-session')"), 0);
    assert.ok(await s.store.tokenOwner("live-session", "session", now));
    assert.ok(await s.store.tokenOwner("forever", "api", now));
  });

  test("orphan spool files (no kept body) older than the grace period are removed; a file being written is not", async (t) => {
    const s = await setup(t, { bodyDays: 7 });
    // A body recorded as deleted whose file stayed (a crash between the commit and the removal).
    const deletedBody = await sentMessage(s);
    s.clock.now = FINAL + 7 * DAY;
    assert.equal((await s.job.run()).bodies, 1);
    assert.equal(hasSpoolFile(s, deletedBody.id), false);

    const now = Date.now();
    s.clock.now = now;
    const file = (id: string, at: number) => {
      const path = s.spool.path(spoolName(id));
      writeFileSync(path, "Subject: x\r\n\r\nx\r\n");
      touch(path, at);
      return id;
    };
    file(deletedBody.id, now - 2 * ORPHAN_MIN_AGE_MS);
    // Left by a crash before its rows were committed (never acknowledged), and one being taken in now.
    const stale = file("stale-orphan", now - ORPHAN_MIN_AGE_MS - 1000);
    const writing = file("being-written", now - ORPHAN_MIN_AGE_MS + 60_000);
    // A held message's old file is its body, not an orphan.
    const held = await put(s, newMessage({ batches: [{ releaseAt: now + DAY }] }));
    touch(s.spool.path(spoolName(held.id)), now - 30 * DAY);
    writeFileSync(s.spool.path("not-a-body.txt"), "x");
    touch(s.spool.path("not-a-body.txt"), now - 30 * DAY);

    const summary = await s.job.run();
    assert.equal(summary.orphanSpoolFiles, 2);
    assert.equal(hasSpoolFile(s, stale), false);
    assert.equal(hasSpoolFile(s, deletedBody.id), false, "the file of a body recorded as deleted");
    assert.ok(hasSpoolFile(s, writing), "younger than the grace period");
    assert.ok(hasSpoolFile(s, held.id));
    assert.ok(existsSync(s.spool.path("not-a-body.txt")));
  });

  test("more rows than one batch: all go in one run, batch by batch, and intake's commits get in between", async (t) => {
    const s = await setup(t, { bodyDays: 0, metadataDays: 0, auditDays: 0, batchSize: 3 });
    const messages = [];
    for (let i = 0; i < 10; i++)
      messages.push(await sentMessage(s, { body: Buffer.from(`Subject: ${i}\r\n\r\n.\r\n`) }));
    // Count the batches, and queue a message (as intake would) while the first batch is running.
    const batches: { bodies: number[]; purges: number[] } = { bodies: [], purges: [] };
    const order: string[] = [];
    const { deleteFinishedBodies, purgeMessages } = s.store;
    let intake: Promise<void> | null = null;
    const late = newMessage({ body: Buffer.from("Subject: late\r\n\r\n.\r\n") });
    Object.assign(s.store, {
      deleteFinishedBodies: async (...a: Parameters<Store["deleteFinishedBodies"]>) => {
        assert.equal(a[2], 3, "the configured batch size");
        const running = deleteFinishedBodies(...a);
        intake ??= s.store.insertMessages([late]).then(() => void order.push("intake commit"));
        const result = await running;
        order.push(`bodies batch ${batches.bodies.push(result.deleted)}`);
        return result;
      },
      purgeMessages: async (...a: Parameters<Store["purgeMessages"]>) => {
        const n = await purgeMessages(...a);
        batches.purges.push(n);
        return n;
      },
    });
    s.clock.now = FINAL + 1;
    const summary = await s.job.run();
    assert.equal(summary.bodies, 10);
    assert.deepEqual(batches.bodies, [3, 3, 3, 1]);
    assert.equal(summary.messages, 10);
    assert.deepEqual(batches.purges, [3, 3, 3, 1]);
    // The intake commit queued during the first batch went in before the second one.
    assert.deepEqual(order.slice(0, 3), ["bodies batch 1", "intake commit", "bodies batch 2"]);
    assert.equal(summary.audit, 11, "audit rows too: each message's \"accepted\", the late one's included");
    for (const m of messages) assert.equal(await s.store.message(m.id), undefined);
    assert.equal((await s.store.message(late.id))?.status, "held");
  });

  test("stop() during a run ends it after the current batch", async (t) => {
    const s = await setup(t, { bodyDays: 0, batchSize: 2 });
    for (let i = 0; i < 6; i++) await sentMessage(s, { body: Buffer.from(`Subject: ${i}\r\n\r\n.\r\n`) });
    s.clock.now = FINAL + 1;
    const run = s.job.run();
    await s.job.stop();
    const summary = await run;
    assert.equal(summary.bodies, 2, "one batch");
    assert.equal(summary.messages, 0, "nothing after it");
    assert.equal(await count(s, "messages WHERE body_deleted_at IS NULL"), 6 - summary.bodies);
  });
});

describe("retention config", () => {
  const defaults = parseConfig({}, "test").retention;

  test("defaults: bodies 7 days, rows and audit a year, outbox 7 days, download rows 90, hourly, 500 rows a batch", () => {
    assert.deepEqual(defaults, {
      bodyDays: 7,
      metadataDays: 365,
      auditDays: 365,
      outboxDays: 7,
      downloadDays: 90,
      intervalMinutes: 60,
      batchSize: 500,
    });
  });

  test("fractions of a day, 0 (at the next run) and null (for good) are accepted", () => {
    const r = parseConfig(
      { retention: { bodyDays: 0.5, metadataDays: null, auditDays: null, outboxDays: 0 } },
      "t",
    ).retention;
    assert.equal(r.bodyDays, 0.5);
    assert.equal(r.metadataDays, null);
    assert.equal(r.outboxDays, 0);
  });

  /** The message of the ConfigError `retention` gives. */
  function refused(retention: unknown): string {
    try {
      parseConfig({ retention }, "sendguard.yaml");
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return err.message;
    }
    assert.fail(`accepted: ${JSON.stringify(retention)}`);
  }

  const bad: [unknown, RegExp][] = [
    [{ bodyDays: -1 }, /retention\.bodyDays: .*>=0/],
    [{ bodyDays: "7" }, /retention\.bodyDays: .*expected number/],
    [{ auditDays: 40_000 }, /retention\.auditDays: .*<=36500/],
    [{ outboxDays: true }, /retention\.outboxDays: .*expected number/],
    [{ intervalMinutes: 0 }, /retention\.intervalMinutes: .*>=1/],
    [{ intervalMinutes: null }, /retention\.intervalMinutes: .*expected number/],
    [{ batchSize: 0 }, /retention\.batchSize: .*>=1/],
    [{ batchSize: 2.5 }, /retention\.batchSize: .*expected int/],
    [{ batchSize: 100_000 }, /retention\.batchSize: .*<=10000/],
    [{ bodyDays: 30, metadataDays: 7 }, /retention\.metadataDays: must be at least bodyDays \(30\)/],
    [{ bodyDays: null, metadataDays: 365 }, /retention\.metadataDays: must be at least bodyDays \(null\)/],
    [{ bodyDay: 7 }, /retention: .*bodyDay/],
    ["7d", /retention: .*expected object/],
  ];
  for (const [value, message] of bad) {
    test(`refused with a message naming the key: ${JSON.stringify(value)}`, () => {
      const text = refused(value);
      assert.match(text, /^invalid configuration in sendguard\.yaml:/);
      assert.match(text, message);
    });
  }
});
