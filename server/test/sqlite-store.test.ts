// SqliteStore (server/src/store/sqlite.ts) against a real database file in a temporary directory.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Db } from "../src/store/db.js";
import { SCHEMA_VERSION } from "../src/store/migrations.js";
import { SqliteStore } from "../src/store/sqlite.js";
import type { NewMessage } from "../src/store/types.js";
import { attempt, failed, MIN, newMessage, retry, sent, T, uid } from "./fixtures/messages.js";
import { newUser } from "./fixtures/users.js";

describe("SqliteStore", () => {
  const dir = mkdtempSync(join(tmpdir(), "sendguard-store-test-"));
  const file = join(dir, "sendguard.db");
  let store: SqliteStore;
  /** Claims the due notices (of any message) and keeps those of message `id`. */
  const claimNoticesOf = async (id: string, now: number) =>
    (await store.claimDueNotices(now, 1000)).filter((n) => n.messageId === id);

  before(async () => {
    store = await SqliteStore.open(file);
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Claims everything due at `now` and returns only the groups belonging to message `m`. */
  async function claimOf(m: NewMessage, now: number) {
    const ids = new Set(m.batches.map((g) => g.id));
    return (await store.claimDueBatches(now, 1000)).filter((c) => ids.has(c.batch.id));
  }

  /** Sends every other due group out of the way so the next test starts from a clean queue. */
  async function drain(now: number) {
    const claimed = await store.claimDueBatches(now, 10_000);
    await store.recordAttempts(
      claimed.map(({ message, batch: group }) => ({
        batchId: group.id,
        messageId: message.id,
        now,
        results: group.recipients.filter((r) => r.status === "pending").map((r) => sent(r.address)),
        retryAt: null,
        notices: [],
        audit: [],
      })),
    );
  }

  describe("messages", () => {
    test("insertMessages and message() round-trip every field, groups in release order, recipients in order", async () => {
      const m = newMessage({
        batches: [
          { name: "external", releaseAt: T + 10 * MIN, recipients: ["x@example.com", "y@example.com"] },
          {
            name: "internal",
            releaseAt: T + 5 * MIN,
            recipients: ["bob@corp.example", "carol@corp.example", "dave@corp.example"],
          },
        ],
        userId: null,
      });
      await store.insertMessages([m]);
      const got = await store.message(m.id);
      assert.ok(got);
      const { batches, notices, audit, approvers, body, ...fields } = m;
      void notices;
      void audit;
      void approvers;
      void body;
      assert.deepEqual(
        { ...got, batches: undefined },
        {
          ...fields,
          bodyInDatabase: false,
          bodyDeletedAt: null,
          bodyMissingAt: null,
          status: "held",
          batches: undefined,
        },
      );
      assert.deepEqual(
        got.batches.map((g) => [
          g.name,
          g.status,
          g.releaseAt,
          g.nextAt,
          g.attempts,
          g.firstAttemptAt,
          g.lastError,
        ]),
        [
          ["internal", "held", T + 5 * MIN, T + 5 * MIN, 0, null, null],
          ["external", "held", T + 10 * MIN, T + 10 * MIN, 0, null, null],
        ],
      );
      assert.deepEqual(got.batches[0]?.id, batches[1]?.id);
      assert.deepEqual(got.batches[0]?.recipients, [
        { address: "bob@corp.example", status: "pending", response: null },
        { address: "carol@corp.example", status: "pending", response: null },
        { address: "dave@corp.example", status: "pending", response: null },
      ]);
      const log = await store.listAudit({ messageId: m.id, limit: 10 });
      assert.deepEqual(
        log.map((a) => [a.actor, a.action, a.at, a.detail]),
        [["alice@corp.example", "accepted", T, { size: 1234 }]],
      );
    });

    test("an unknown id gives undefined", async () => {
      assert.equal(await store.message("no-such-id"), undefined);
    });

    test("a recipient listed twice in one group is stored once", async () => {
      const m = newMessage({
        batches: [{ recipients: ["a@example.com", "a@example.com", "b@example.com"] }],
      });
      await store.insertMessages([m]);
      assert.deepEqual(
        (await store.message(m.id))?.batches[0]?.recipients.map((r) => r.address),
        ["a@example.com", "b@example.com"],
      );
    });

    test("a batch is atomic: one bad message stores none of the batch", async () => {
      const good = newMessage();
      const clash = newMessage();
      await store.insertMessages([clash]);
      await assert.rejects(store.insertMessages([good, { ...newMessage(), id: clash.id }]));
      assert.equal(await store.message(good.id), undefined);
      assert.equal((await store.listAudit({ messageId: good.id, limit: 10 })).length, 0);
      // The store keeps working after the rolled-back transaction.
      const later = newMessage();
      await store.insertMessages([later]);
      assert.ok(await store.message(later.id));
    });

    test("a small message's body is stored with its rows, byte for byte, and goes with the message", async () => {
      // Every byte value, quotes, a NUL and what would end an SQL statement.
      const data = Buffer.concat([
        Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
        Buffer.from("'); DROP TABLE messages; --\0件名\r\n", "utf8"),
      ]);
      const inDb = newMessage({ body: data });
      const inFile = newMessage();
      await store.insertMessages([inDb, inFile]);
      assert.equal((await store.message(inDb.id))?.bodyInDatabase, true);
      assert.equal((await store.message(inFile.id))?.bodyInDatabase, false);
      assert.deepEqual(await store.messageBody(inDb.id), data);
      assert.equal(await store.messageBody(inFile.id), undefined);
      const spooled = (await store.unfinishedSpooled()).map((s) => s.id);
      assert.ok(spooled.includes(inFile.id), "a message with a spool file is listed");
      assert.ok(!spooled.includes(inDb.id), "a message stored in the database has no spool file to check");
      await store.forgetMessages([inDb.id], "test");
      assert.equal(await store.messageBody(inDb.id), undefined, "the body goes with its message");
    });

    test("a spooled message counts as acknowledged once marked; a small one from its insert", async () => {
      const spooled = newMessage();
      const other = newMessage();
      const inDb = newMessage({ body: Buffer.from("small") });
      await store.insertMessages([spooled, other, inDb]);
      const listed = async () =>
        new Map((await store.unfinishedSpooled()).map((s) => [s.id, s.acknowledged] as const));
      const before = await listed();
      assert.equal(before.get(spooled.id), false, "inserted, not yet acknowledged");
      assert.equal(before.get(other.id), false);
      assert.equal(before.has(inDb.id), false, "a body in the database has no spool file to check");
      const db = await Db.open(file, true);
      try {
        assert.deepEqual(
          await db.get("SELECT spool_acknowledged FROM messages WHERE id = ?", [inDb.id]),
          { spool_acknowledged: 1 },
          "a body stored with its rows is acknowledged with them",
        );
      } finally {
        await db.close();
      }
      await store.markSpoolAcknowledged([spooled.id]);
      await store.markSpoolAcknowledged([]);
      const after = await listed();
      assert.equal(after.get(spooled.id), true);
      assert.equal(after.get(other.id), false, "only the ids given are marked");
    });

    test("markBodiesMissing flags the message, fails what was left to deliver, queues its bounce, audits, and nothing is claimed", async () => {
      const m = newMessage({
        batches: [
          { name: "internal", releaseAt: T, recipients: ["a@corp.example", "b@corp.example"] },
          { name: "external", releaseAt: T + 60 * MIN, recipients: ["x@example.com"] },
        ],
      });
      await store.insertMessages([m]);
      await store.markSpoolAcknowledged([m.id]);
      await drain(T - 1);
      // One recipient of the internal group was delivered before the file went: it stays sent.
      assert.equal((await claimOf(m, T)).length, 1);
      await store.recordAttempts([
        attempt(m, 0, T, [sent("a@corp.example"), retry("b@corp.example")], T + MIN),
      ]);
      await drain(T - 1);
      const reason = "body lost: test";
      const bounce = {
        kind: "bounce" as const,
        messageId: m.id,
        recipient: m.sender,
        language: m.language,
        data: { failed: ["b@corp.example", "x@example.com"] },
      };
      const entry = { actor: "system", action: "body_missing", messageId: m.id, detail: { reason } };
      await store.markBodiesMissing(
        [{ messageId: m.id, notices: [bounce], audit: [entry] }],
        reason,
        T + 2 * MIN,
      );

      const got = await store.message(m.id);
      assert.ok(got);
      assert.equal(got.bodyMissingAt, T + 2 * MIN);
      assert.equal(got.status, "partially_sent");
      assert.deepEqual(
        got.batches.map((g) => [g.name, g.status, g.lastError]),
        [
          ["internal", "failed", reason],
          ["external", "failed", reason],
        ],
      );
      assert.deepEqual(
        got.batches.flatMap((g) => g.recipients.map((r) => [r.address, r.status, r.response])),
        [
          ["a@corp.example", "sent", "250 ok"],
          ["b@corp.example", "failed", reason],
          ["x@example.com", "failed", reason],
        ],
      );
      assert.ok(!(await store.unfinishedSpooled()).some((s) => s.id === m.id), "nothing left to check");
      assert.deepEqual(await claimOf(m, T + 120 * MIN), [], "no group is delivered again");
      const notices = await claimNoticesOf(m.id, T + 2 * MIN);
      assert.deepEqual(
        notices.map((n) => [n.kind, n.recipient, n.data]),
        [["bounce", m.sender, bounce.data]],
        "the hold notice not yet sent is replaced by the bounce",
      );
      const log = await store.listAudit({ messageId: m.id, limit: 10 });
      assert.deepEqual(
        log.filter((a) => a.action === "body_missing").map((a) => [a.actor, a.at, a.detail]),
        [["system", T + 2 * MIN, { reason }]],
      );
    });

    test("several messages in one batch are all stored", async () => {
      const batch = [newMessage(), newMessage(), newMessage()];
      await store.insertMessages(batch);
      for (const m of batch) assert.equal((await store.message(m.id))?.id, m.id);
    });

    test("messagesByMessageId finds every submission of one Message-ID, newest first", async () => {
      const a = newMessage({ messageId: "dup@client.example", createdAt: T });
      const b = newMessage({ messageId: "dup@client.example", createdAt: T + 1 });
      await store.insertMessages([a, b]);
      assert.deepEqual(
        (await store.messagesByMessageId("dup@client.example")).map((m) => m.id),
        [b.id, a.id],
      );
      assert.deepEqual(await store.messagesByMessageId("none@client.example"), []);
    });

    test("listMessages filters by user or sender (case-insensitive), by status, and limits newest first", async () => {
      const user = await store.addUser(newUser(uid("lister") + "@corp.example"));
      const mine = newMessage({ userId: user.id, createdAt: T + 100 });
      const asSender = newMessage({ userId: null, sender: user.email.toUpperCase(), createdAt: T + 200 });
      const other = newMessage({ userId: null, sender: "someone@else.example", createdAt: T + 300 });
      await store.insertMessages([mine, asSender, other]);
      const ids = (ms: { id: string }[]) => ms.map((m) => m.id);
      assert.deepEqual(ids(await store.listMessages({ userId: user.id, sender: user.email, limit: 10 })), [
        asSender.id,
        mine.id,
      ]);
      assert.deepEqual(ids(await store.listMessages({ userId: user.id, limit: 10 })), [mine.id]);
      assert.deepEqual(ids(await store.listMessages({ userId: user.id, sender: user.email, limit: 1 })), [
        asSender.id,
      ]);
      assert.deepEqual(
        ids(await store.listMessages({ userId: user.id, sender: user.email, status: "sent", limit: 10 })),
        [],
      );
      assert.deepEqual(
        ids(await store.listMessages({ userId: user.id, sender: user.email, status: "held", limit: 10 })),
        [asSender.id, mine.id],
      );
    });
  });

  describe("claimDueGroups leases", () => {
    test("a group is claimed only when due, once, and marks the message releasing", async () => {
      await drain(T + 100 * MIN);
      const m = newMessage({ batches: [{ releaseAt: T + 200 * MIN }] });
      await store.insertMessages([m]);
      assert.deepEqual(await claimOf(m, T + 200 * MIN - 1), [], "not due yet");
      const first = await claimOf(m, T + 200 * MIN);
      assert.equal(first.length, 1);
      const [{ message, batch: group }] = first as [(typeof first)[number]];
      assert.equal(group.id, m.batches[0]?.id);
      assert.equal(group.status, "releasing");
      assert.equal(group.attempts, 1);
      assert.equal(group.firstAttemptAt, T + 200 * MIN);
      assert.equal(message.status, "releasing");
      assert.equal(message.id, m.id);
      assert.deepEqual(await claimOf(m, T + 300 * MIN), [], "a leased group is not claimed twice");
      assert.equal((await store.message(m.id))?.status, "releasing");
    });

    test("resetLeases makes a claimed group claimable again; attempts count up, the first attempt time stays", async () => {
      const m = newMessage({ batches: [{ releaseAt: T }] });
      await store.insertMessages([m]);
      assert.equal((await claimOf(m, T + 1)).length, 1);
      assert.deepEqual(await claimOf(m, T + 2), []);
      await store.resetLeases();
      const again = await claimOf(m, T + 3);
      assert.equal(again.length, 1);
      assert.equal(again[0]?.batch.attempts, 2);
      assert.equal(again[0]?.batch.firstAttemptAt, T + 1);
    });

    test("concurrent claims hand out each due group exactly once", async () => {
      await drain(T + 1000 * MIN);
      const messages = Array.from({ length: 10 }, () =>
        newMessage({ batches: [{ releaseAt: T + 1000 * MIN }, { releaseAt: T + 1000 * MIN }] }),
      );
      await store.insertMessages(messages);
      const results = await Promise.all(
        Array.from({ length: 5 }, () => store.claimDueBatches(T + 1000 * MIN, 7)),
      );
      const claimed = results.flat().map((c) => c.batch.id);
      assert.equal(claimed.length, 20);
      assert.equal(new Set(claimed).size, 20);
    });

    test("the limit caps a claim and the earliest groups go first", async () => {
      await drain(T + 2000 * MIN);
      const late = newMessage({ batches: [{ releaseAt: T + 2000 * MIN }] });
      const early = newMessage({ batches: [{ releaseAt: T + 1999 * MIN }] });
      await store.insertMessages([late, early]);
      const first = await store.claimDueBatches(T + 2000 * MIN, 1);
      assert.deepEqual(
        first.map((c) => c.message.id),
        [early.id],
      );
      const second = await store.claimDueBatches(T + 2000 * MIN, 1);
      assert.deepEqual(
        second.map((c) => c.message.id),
        [late.id],
      );
    });

    test("a claim of two groups of one message returns both with the same message", async () => {
      const m = newMessage({ batches: [{ releaseAt: T }, { releaseAt: T }] });
      await store.insertMessages([m]);
      const claimed = await claimOf(m, T + 5000 * MIN);
      assert.equal(claimed.length, 2);
      assert.equal(claimed[0]?.message.id, claimed[1]?.message.id);
    });
  });

  describe("actOnHeld", () => {
    test("discarding a held message discards its groups and recipients and logs the actor", async () => {
      const m = newMessage({
        batches: [{ recipients: ["a@example.com", "b@example.com"] }, { recipients: ["c@example.com"] }],
      });
      await store.insertMessages([m]);
      assert.deepEqual(await store.actOnHeld(m.id, "discard", "alice@corp.example", T + 1), {
        outcome: "ok",
        status: "discarded",
      });
      const got = await store.message(m.id);
      assert.equal(got?.status, "discarded");
      assert.deepEqual(
        got?.batches.map((g) => g.status),
        ["discarded", "discarded"],
      );
      assert.ok(got?.batches.every((g) => g.recipients.every((r) => r.status === "discarded")));
      const [entry] = await store.listAudit({ messageId: m.id, limit: 1 });
      assert.deepEqual(
        [entry?.actor, entry?.action, entry?.at, entry?.detail],
        ["alice@corp.example", "discard", T + 1, { groups: 2 }],
      );
    });

    test("a discarded message is never claimed", async () => {
      const m = newMessage({ batches: [{ releaseAt: T }] });
      await store.insertMessages([m]);
      await store.actOnHeld(m.id, "discard", "u", T);
      assert.deepEqual(await claimOf(m, T + 10_000 * MIN), []);
    });

    test("discarding twice: the second time is final", async () => {
      const m = newMessage();
      await store.insertMessages([m]);
      assert.equal((await store.actOnHeld(m.id, "discard", "u", T)).outcome, "ok");
      assert.deepEqual(await store.actOnHeld(m.id, "discard", "u", T + 1), {
        outcome: "final",
        status: "discarded",
      });
    });

    test("discarding after the scheduler claimed the group is refused as releasing and changes nothing", async () => {
      const m = newMessage({ batches: [{ releaseAt: T }] });
      await store.insertMessages([m]);
      assert.equal((await claimOf(m, T)).length, 1);
      assert.deepEqual(await store.actOnHeld(m.id, "discard", "u", T + 1), {
        outcome: "releasing",
        status: "releasing",
      });
      const got = await store.message(m.id);
      assert.equal(got?.batches[0]?.status, "releasing");
      assert.equal(got?.batches[0]?.recipients[0]?.status, "pending");
    });

    /** A message whose one group was tried at T and waits for its retry at T + 10 min. */
    async function waitingForRetry(results: (typeof retry)[], recipients = ["bob@example.com"]) {
      const m = newMessage({ batches: [{ releaseAt: T, recipients }] });
      await store.insertMessages([m]);
      assert.equal((await claimOf(m, T)).length, 1);
      const outcomes = recipients.map((address, i) => (results[i] ?? retry)(address));
      await store.recordAttempts([attempt(m, 0, T, outcomes, T + 10 * MIN)]);
      return m;
    }

    test("discarding while a retry is pending discards it: the sender can cancel while the relay is down", async () => {
      const m = await waitingForRetry([retry]);
      assert.deepEqual(await store.actOnHeld(m.id, "discard", "u", T + 1), {
        outcome: "ok",
        status: "discarded",
      });
      const got = await store.message(m.id);
      assert.deepEqual(
        got?.batches.map((g) => [g.status, g.recipients.map((r) => r.status)]),
        [["discarded", ["discarded"]]],
      );
      assert.deepEqual(await claimOf(m, T + 10_000 * MIN), [], "the retry never comes");
    });

    test("discarding a retry group keeps the recipients it already delivered to as sent", async () => {
      const m = await waitingForRetry([sent, retry], ["done@example.com", "later@example.com"]);
      assert.equal((await store.actOnHeld(m.id, "discard", "u", T + 1)).outcome, "ok");
      const got = await store.message(m.id);
      assert.deepEqual(
        got?.batches[0]?.recipients.map((r) => [r.address, r.status]),
        [
          ["done@example.com", "sent"],
          ["later@example.com", "discarded"],
        ],
      );
    });

    test("discarding a retry that the scheduler is delivering right now is refused as releasing", async () => {
      const m = await waitingForRetry([retry]);
      assert.equal((await claimOf(m, T + 10 * MIN)).length, 1);
      assert.deepEqual(await store.actOnHeld(m.id, "discard", "u", T + 10 * MIN), {
        outcome: "releasing",
        status: "releasing",
      });
      assert.equal((await store.message(m.id))?.batches[0]?.recipients[0]?.status, "pending");
    });

    test("releasing a group waiting for its retry makes it due now", async () => {
      const m = await waitingForRetry([retry]);
      assert.deepEqual(await store.actOnHeld(m.id, "release", "u", T + 1), {
        outcome: "ok",
        status: "releasing",
      });
      assert.equal((await store.message(m.id))?.batches[0]?.nextAt, T + 1);
      assert.equal((await claimOf(m, T + 1)).length, 1);
    });

    test("releasing a retry that is already due is ok and changes nothing", async () => {
      const m = await waitingForRetry([retry]);
      assert.deepEqual(await store.actOnHeld(m.id, "release", "u", T + 20 * MIN), {
        outcome: "ok",
        status: "releasing",
      });
      assert.equal((await store.message(m.id))?.batches[0]?.nextAt, T + 10 * MIN);
    });

    test("discarding a message awaiting approval discards it", async () => {
      const m = { ...newMessage(), approvers: ["boss@corp.example"] };
      await store.insertMessages([m]);
      assert.equal((await store.message(m.id))?.status, "pending_approval");
      assert.deepEqual(await store.actOnHeld(m.id, "discard", "u", T + 1), {
        outcome: "ok",
        status: "discarded",
      });
    });

    test("a discard racing the scheduler's claim of a due retry: exactly one of them wins", async () => {
      for (let i = 0; i < 5; i++) {
        const m = await waitingForRetry([retry]);
        const [discard, claimed] = await Promise.all([
          store.actOnHeld(m.id, "discard", "u", T + 10 * MIN),
          claimOf(m, T + 10 * MIN),
        ]);
        if (discard.outcome === "ok") {
          assert.equal(claimed.length, 0);
          assert.equal((await store.message(m.id))?.status, "discarded");
        } else {
          assert.equal(discard.outcome, "releasing");
          assert.equal(claimed.length, 1);
        }
      }
    });

    test("discarding after delivery is final", async () => {
      const m = newMessage({ batches: [{ releaseAt: T }] });
      await store.insertMessages([m]);
      await claimOf(m, T);
      await store.recordAttempts([attempt(m, 0, T, [sent("bob@example.com")], null)]);
      assert.deepEqual(await store.actOnHeld(m.id, "discard", "u", T + 1), {
        outcome: "final",
        status: "sent",
      });
    });

    test("discarding with one group already releasing discards only the held group", async () => {
      const m = newMessage({
        batches: [
          { name: "internal", releaseAt: T },
          { name: "external", releaseAt: T + 60 * MIN },
        ],
      });
      await store.insertMessages([m]);
      assert.equal((await claimOf(m, T)).length, 1);
      assert.deepEqual(await store.actOnHeld(m.id, "discard", "u", T + 1), {
        outcome: "ok",
        status: "releasing",
      });
      const got = await store.message(m.id);
      assert.deepEqual(
        got?.batches.map((g) => [g.name, g.status]),
        [
          ["internal", "releasing"],
          ["external", "discarded"],
        ],
      );
      assert.equal(
        got?.batches[0]?.recipients[0]?.status,
        "pending",
        "the releasing group's recipients are untouched",
      );
    });

    test("releasing a held message makes it due now", async () => {
      const m = newMessage({ batches: [{ releaseAt: T + 60 * MIN }] });
      await store.insertMessages([m]);
      assert.deepEqual(await store.actOnHeld(m.id, "release", "u", T), { outcome: "ok", status: "held" });
      assert.equal((await store.message(m.id))?.batches[0]?.nextAt, T);
      assert.equal((await claimOf(m, T)).length, 1);
    });

    test("releasing a message that is already due is ok and changes nothing", async () => {
      const m = newMessage({ batches: [{ releaseAt: T - MIN }] });
      await store.insertMessages([m]);
      assert.deepEqual(await store.actOnHeld(m.id, "release", "u", T), { outcome: "ok", status: "held" });
      assert.equal((await store.message(m.id))?.batches[0]?.nextAt, T - MIN);
    });

    test("releasing after the claim reports releasing; after a discard reports final", async () => {
      const a = newMessage({ batches: [{ releaseAt: T }] });
      const b = newMessage();
      await store.insertMessages([a, b]);
      await claimOf(a, T);
      assert.equal((await store.actOnHeld(a.id, "release", "u", T)).outcome, "releasing");
      await store.actOnHeld(b.id, "discard", "u", T);
      assert.deepEqual(await store.actOnHeld(b.id, "release", "u", T), {
        outcome: "final",
        status: "discarded",
      });
    });

    test("a discard racing the scheduler: exactly one of them wins", async () => {
      for (let i = 0; i < 5; i++) {
        const m = newMessage({ batches: [{ releaseAt: T }] });
        await store.insertMessages([m]);
        const [discard, claimed] = await Promise.all([
          store.actOnHeld(m.id, "discard", "u", T),
          claimOf(m, T),
        ]);
        if (discard.outcome === "ok") {
          assert.equal(claimed.length, 0);
          assert.equal((await store.message(m.id))?.status, "discarded");
        } else {
          assert.equal(discard.outcome, "releasing");
          assert.equal(claimed.length, 1);
        }
      }
    });
  });

  describe("recordAttempts", () => {
    async function claimed(recipients: string[]) {
      const m = newMessage({ batches: [{ releaseAt: T, recipients }] });
      await store.insertMessages([m]);
      assert.equal((await claimOf(m, T)).length, 1);
      return m;
    }
    const view = async (m: NewMessage) => {
      const got = await store.message(m.id);
      return {
        message: got?.status,
        group: got?.batches[0]?.status,
        recipients: got?.batches[0]?.recipients.map((r) => `${r.address}=${r.status}`),
      };
    };

    test("all recipients sent: group and message sent, responses stored", async () => {
      const m = await claimed(["a@example.com", "b@example.com"]);
      await store.recordAttempts([attempt(m, 0, T, [sent("a@example.com"), sent("b@example.com")], null)]);
      assert.deepEqual(await view(m), {
        message: "sent",
        group: "sent",
        recipients: ["a@example.com=sent", "b@example.com=sent"],
      });
      assert.equal((await store.message(m.id))?.batches[0]?.recipients[0]?.response, "250 ok");
      assert.equal((await store.message(m.id))?.batches[0]?.lastError, null);
    });

    test("a deferral with a retry time keeps the group releasing and due again at that time only", async () => {
      const m = await claimed(["a@example.com", "b@example.com"]);
      await store.recordAttempts([
        attempt(m, 0, T, [sent("a@example.com"), retry("b@example.com")], T + 5 * MIN),
      ]);
      assert.deepEqual(await view(m), {
        message: "releasing",
        group: "releasing",
        recipients: ["a@example.com=sent", "b@example.com=pending"],
      });
      const got = await store.message(m.id);
      assert.equal(got?.batches[0]?.nextAt, T + 5 * MIN);
      assert.equal(got?.batches[0]?.lastError, "451 later");
      assert.deepEqual(await claimOf(m, T + 5 * MIN - 1), []);
      const again = await claimOf(m, T + 5 * MIN);
      assert.equal(again.length, 1);
      assert.equal(again[0]?.batch.attempts, 2);
      await store.recordAttempts([attempt(m, 0, T + 5 * MIN, [sent("b@example.com")], null)]);
      assert.deepEqual(await view(m), {
        message: "sent",
        group: "sent",
        recipients: ["a@example.com=sent", "b@example.com=sent"],
      });
    });

    test("a deferral without a retry time gives up: the recipient fails", async () => {
      const m = await claimed(["a@example.com"]);
      await store.recordAttempts([attempt(m, 0, T, [retry("a@example.com")], null)]);
      assert.deepEqual(await view(m), {
        message: "failed",
        group: "failed",
        recipients: ["a@example.com=failed"],
      });
    });

    test("a permanent failure fails the recipient even when a retry time is given", async () => {
      const m = await claimed(["a@example.com"]);
      await store.recordAttempts([attempt(m, 0, T, [failed("a@example.com")], T + MIN)]);
      assert.deepEqual(await view(m), {
        message: "failed",
        group: "failed",
        recipients: ["a@example.com=failed"],
      });
      assert.equal((await store.message(m.id))?.batches[0]?.lastError, "550 unknown");
    });

    test("sent plus failed makes the message partially_sent", async () => {
      const m = await claimed(["a@example.com", "b@example.com"]);
      await store.recordAttempts([
        attempt(m, 0, T, [sent("a@example.com"), failed("b@example.com")], T + MIN),
      ]);
      assert.deepEqual(await view(m), {
        message: "partially_sent",
        group: "failed",
        recipients: ["a@example.com=sent", "b@example.com=failed"],
      });
    });

    test("a recipient that already has its outcome is not changed by a repeated report (at-least-once)", async () => {
      const m = await claimed(["a@example.com"]);
      await store.recordAttempts([attempt(m, 0, T, [sent("a@example.com")], null)]);
      await store.recordAttempts([attempt(m, 0, T + 1, [failed("a@example.com")], null)]);
      assert.deepEqual(await view(m), { message: "sent", group: "sent", recipients: ["a@example.com=sent"] });
    });

    test("notices and audit entries of an attempt are stored with it", async () => {
      const m = await claimed(["a@example.com"]);
      await store.recordAttempts([
        {
          ...attempt(m, 0, T + 7, [failed("a@example.com")], null),
          notices: [
            {
              kind: "bounce",
              messageId: m.id,
              recipient: "alice@corp.example",
              language: "en",
              data: { failed: ["a@example.com"] },
            },
          ],
          audit: [{ actor: "scheduler", action: "failed", messageId: m.id }],
        },
      ]);
      const [entry] = await store.listAudit({ messageId: m.id, limit: 1 });
      assert.deepEqual(
        [entry?.actor, entry?.action, entry?.at, entry?.detail],
        ["scheduler", "failed", T + 7, {}],
      );
      const notices = await claimNoticesOf(m.id, T + 7);
      assert.deepEqual(
        notices.map((n) => [n.kind, n.language, n.data]),
        [
          ["hold", "ja", { n: 1 }],
          ["bounce", "en", { failed: ["a@example.com"] }],
        ],
      );
    });
  });

  describe("notices", () => {
    test("a notice is claimed once, retried at its retry time, and never again after it is sent", async () => {
      const base = T + 100_000 * MIN;
      await store
        .claimDueNotices(base, 100_000)
        .then((ns) =>
          Promise.all(ns.map((n) => store.finishNotices([{ id: n.id, retryAt: null, error: null }]))),
        );
      const m = newMessage({ createdAt: base });
      await store.insertMessages([m]);
      const [notice, ...rest] = await store.claimDueNotices(base, 10);
      assert.deepEqual(rest, []);
      assert.ok(notice);
      assert.deepEqual(
        {
          kind: notice.kind,
          messageId: notice.messageId,
          recipient: notice.recipient,
          language: notice.language,
          data: notice.data,
          attempts: notice.attempts,
          createdAt: notice.createdAt,
        },
        {
          kind: "hold",
          messageId: m.id,
          recipient: "alice@corp.example",
          language: "ja",
          data: { n: 1 },
          attempts: 1,
          createdAt: base,
        },
      );
      assert.deepEqual(
        await store.claimDueNotices(base + MIN, 10),
        [],
        "a leased notice is not claimed twice",
      );

      await store.finishNotices([{ id: notice.id, retryAt: base + 2 * MIN, error: "421 busy" }]);
      assert.deepEqual(await store.claimDueNotices(base + 2 * MIN - 1, 10), []);
      const [retried] = await store.claimDueNotices(base + 2 * MIN, 10);
      assert.equal(retried?.id, notice.id);
      assert.equal(retried?.attempts, 2);

      await store.finishNotices([{ id: notice.id, retryAt: null, error: null }]);
      await store.resetLeases();
      assert.deepEqual(await claimNoticesOf(m.id, base + 1000 * MIN), []);
    });

    test("a notice that failed for good is not claimed again", async () => {
      const base = T + 200_000 * MIN;
      const m = newMessage({ createdAt: base });
      await store.insertMessages([m]);
      const [notice] = await claimNoticesOf(m.id, base);
      assert.ok(notice);
      await store.finishNotices([{ id: notice.id, retryAt: null, error: "550 no such user" }]);
      await store.resetLeases();
      assert.deepEqual(await claimNoticesOf(m.id, base + 1000 * MIN), []);
    });

    test("a download code leaves its notice's row once the notice is sent or given up", async () => {
      const base = T + 250_000 * MIN;
      const codes = ["sent", "failed", "retried"].map((outcome) => ({
        kind: "download_code" as const,
        messageId: uid(`pkg-${outcome}-`),
        recipient: "client@partner.example",
        language: "ja" as const,
        data: { code: "123456", expiresAt: base + 10 * MIN },
      }));
      await store.queueNotices(codes, base);
      const claimed = (await store.claimDueNotices(base, 1000)).filter((n) => n.kind === "download_code");
      const id = (outcome: string) =>
        claimed.find((n) => n.messageId.startsWith(`pkg-${outcome}-`))?.id ?? assert.fail(outcome);
      assert.ok(
        claimed.every((n) => n.data.code === "123456"),
        "the sender reads the code",
      );
      await store.finishNotices([
        { id: id("sent"), retryAt: null, error: null },
        { id: id("failed"), retryAt: null, error: "550 no such user" },
        { id: id("retried"), retryAt: base + MIN, error: "421 busy" },
      ]);
      const db = await Db.open(file, true);
      try {
        const data = async (outcome: string) =>
          JSON.parse(
            (await db.get<{ data: string }>("SELECT data FROM notices WHERE id = ?", [id(outcome)]))?.data ??
              "null",
          ) as Record<string, unknown>;
        assert.deepEqual(await data("sent"), { expiresAt: base + 10 * MIN });
        assert.deepEqual(await data("failed"), { expiresAt: base + 10 * MIN });
        assert.equal((await data("retried")).code, "123456", "kept for the next attempt");
      } finally {
        await db.close();
      }
    });

    test("resetLeases frees a notice claimed by a process that died", async () => {
      const base = T + 300_000 * MIN;
      const m = newMessage({ createdAt: base });
      await store.insertMessages([m]);
      assert.equal((await claimNoticesOf(m.id, base)).length, 1);
      await store.resetLeases();
      const [again] = await claimNoticesOf(m.id, base);
      assert.equal(again?.attempts, 2);
    });
  });

  describe("queue state", () => {
    test("dueTimes and queueDepth follow the queue", async () => {
      const fresh = join(dir, "queue.db");
      const s = await SqliteStore.open(fresh);
      const none = { batches: null, notices: null, approvals: null };
      try {
        assert.deepEqual(await s.dueTimes(), none);
        assert.deepEqual(await s.queueDepth(), { held: 0, releasing: 0, notices: 0 });
        const m = newMessage({
          createdAt: T,
          batches: [{ releaseAt: T + 5 * MIN }, { releaseAt: T + 9 * MIN }],
        });
        await s.insertMessages([m]);
        assert.deepEqual(
          await s.dueTimes(),
          { ...none, batches: T + 5 * MIN, notices: T },
          "the hold notice is due at once",
        );
        assert.deepEqual(await s.queueDepth(), { held: 2, releasing: 0, notices: 1 });
        const [n] = await s.claimDueNotices(T, 10);
        assert.deepEqual(
          await s.dueTimes(),
          { ...none, batches: T + 5 * MIN },
          "a leased notice is not waited for",
        );
        await s.finishNotices([{ id: n?.id as number, retryAt: null, error: null }]);
        await s.claimDueBatches(T + 5 * MIN, 10);
        assert.deepEqual(
          await s.dueTimes(),
          { ...none, batches: T + 9 * MIN },
          "a leased group is not waited for",
        );
        assert.deepEqual(await s.queueDepth(), { held: 1, releasing: 1, notices: 0 });
        const waiting = { ...newMessage({ createdAt: T }), approvers: ["boss@corp.example"] };
        await s.insertMessages([
          { ...waiting, approvalDeadline: T + 60 * MIN, approvalTimeoutAction: "deny" },
        ]);
        assert.equal((await s.dueTimes()).approvals, T + 60 * MIN);
      } finally {
        await s.close();
      }
    });
  });

  describe("users, tokens and DKIM keys", () => {
    test("userByEmail is case-insensitive and updateUser changes only the given fields", async () => {
      const u = await store.addUser(newUser("Mixed@Corp.Example"));
      assert.equal((await store.userByEmail("mixed@corp.example"))?.id, u.id);
      await store.updateUser(u.id, { role: "admin", aliases: ["a@corp.example"] });
      await store.updateUser(u.id, {});
      const got = await store.userById(u.id);
      assert.deepEqual(
        [got?.role, got?.language, got?.holdMinutes, got?.aliases],
        ["admin", null, null, ["a@corp.example"]],
      );
    });

    test("userByEmail with maxAgeMs answers from memory until this store changes users", async () => {
      const email = uid("recent") + "@corp.example";
      assert.equal(await store.userByEmail(email, 60_000), undefined);
      // Another process (the CLI) adds the user: not seen until the answer is older than maxAgeMs.
      const other = await SqliteStore.open(file);
      try {
        await other.addUser(newUser(email));
      } finally {
        await other.close();
      }
      assert.equal(await store.userByEmail(email, 60_000), undefined);
      const added = await store.userByEmail(email);
      assert.equal(added?.email, email, "without maxAgeMs the row is read");
      assert.equal((await store.userByEmail(email, 1))?.email, email);
      // A change through this store is seen at once.
      assert.equal((await store.userByEmail(email, 60_000))?.holdMinutes, null);
      await store.updateUser(added.id, { holdMinutes: 7 });
      assert.equal((await store.userByEmail(email, 60_000))?.holdMinutes, 7);
    });

    test("a token belongs to its user until it expires or is deleted", async () => {
      const u = await store.addUser(
        newUser(uid("tok") + "@corp.example", { language: "en", holdMinutes: 3 }),
      );
      await store.saveToken("hash-api", u.id, "api", null, null);
      await store.saveToken("hash-session", u.id, "session", "csrf-1", T + MIN);
      assert.equal((await store.tokenOwner("hash-api", "api", T))?.user.id, u.id);
      assert.equal(await store.tokenOwner("hash-api", "session", T), undefined, "the kind must match");
      assert.deepEqual(await store.tokenOwner("hash-session", "session", T).then((o) => o?.csrf), "csrf-1");
      assert.equal(await store.tokenOwner("hash-session", "session", T + MIN), undefined, "expired");
      await store.deleteToken("hash-api");
      assert.equal(await store.tokenOwner("hash-api", "api", T), undefined);
    });

    const audited = async (action: string, email: string) =>
      (await store.listAudit({ limit: 1000 })).filter((e) => e.action === action && e.detail.email === email);

    test("tokens are listed by public id, newest first, without expired ones; revoking touches only the owner's", async () => {
      const u = await store.addUser(newUser(uid("list") + "@corp.example"));
      const other = await store.addUser(newUser(uid("other") + "@corp.example"));
      const api = await store.saveToken(uid("h"), u.id, "api", null, T + 90 * 24 * 60 * MIN);
      const session = await store.saveToken(uid("h"), u.id, "session", "c", T + MIN);
      const expired = await store.saveToken(uid("h"), u.id, "api", null, T - 1);
      const foreign = await store.saveToken(uid("h"), other.id, "api", null, null);
      assert.equal(new Set([api, session, expired, foreign]).size, 4, "every token gets its own id");
      const listed = await store.listTokens(u.id, T);
      assert.deepEqual(listed.map((t) => t.id).sort(), [api, session].sort());
      assert.deepEqual(Object.keys(listed[0] ?? {}).sort(), [
        "createdAt",
        "expiresAt",
        "id",
        "kind",
        "lastUsedAt",
      ]);
      const audit = { actor: u.email, action: "token_revoked", detail: { email: u.email } };
      assert.equal(await store.revokeTokens(u.id, foreign, audit), 0, "another user's token is not revoked");
      assert.equal((await store.listTokens(other.id, T)).length, 1);
      assert.equal(await store.revokeTokens(u.id, api, audit), 1);
      assert.deepEqual(
        (await store.listTokens(u.id, T)).map((t) => t.id),
        [session],
      );
      assert.equal(await store.revokeTokens(u.id, null, { ...audit, action: "tokens_revoked" }), 2);
      assert.deepEqual(await store.listTokens(u.id, T), []);
      const entries = await audited("tokens_revoked", u.email);
      assert.equal(entries[0]?.detail.tokensRevoked, 2);
      assert.equal(entries[0]?.actor, u.email);
    });

    test("a token's last use is recorded, once an hour rather than on every use", async () => {
      const u = await store.addUser(newUser(uid("used") + "@corp.example"));
      const hash = uid("h");
      const id = await store.saveToken(hash, u.id, "api", null, null);
      const lastUsed = async () => (await store.listTokens(u.id, T)).find((t) => t.id === id)?.lastUsedAt;
      assert.equal(await lastUsed(), null);
      assert.equal((await store.tokenOwner(hash, "api", T))?.tokenId, id);
      assert.equal(await lastUsed(), T);
      await store.tokenOwner(hash, "api", T + 30 * MIN);
      assert.equal(await lastUsed(), T, "not written again within the hour");
      await store.tokenOwner(hash, "api", T + 60 * MIN);
      assert.equal(await lastUsed(), T + 60 * MIN);
    });

    test("a disabled user's tokens and sessions stop working at once and work again when enabled", async () => {
      const u = await store.addUser(newUser(uid("off") + "@corp.example"));
      const hash = uid("h");
      await store.saveToken(hash, u.id, "session", "c", T + MIN);
      const actor = { actor: "admin@corp.example", detail: { email: u.email } };
      // Cached by another reader path: the disable must be seen by userByEmail's cache too.
      assert.equal((await store.userByEmail(u.email, 60_000))?.disabledAt, null);
      assert.equal(await store.setUserDisabled(u.id, true, { ...actor, action: "user_disabled" }), true);
      assert.equal(await store.tokenOwner(hash, "session", T), undefined);
      const disabledAt = (await store.userByEmail(u.email, 60_000))?.disabledAt;
      assert.equal(typeof disabledAt, "number");
      await store.setUserDisabled(u.id, true, { ...actor, action: "user_disabled" });
      assert.equal(
        (await store.userById(u.id))?.disabledAt,
        disabledAt,
        "a second disable keeps the first time",
      );
      await store.setUserDisabled(u.id, false, { ...actor, action: "user_enabled" });
      assert.equal((await store.tokenOwner(hash, "session", T))?.user.id, u.id);
      assert.equal((await audited("user_disabled", u.email))[0]?.actor, "admin@corp.example");
      assert.equal((await audited("user_enabled", u.email)).length, 1);
      assert.equal(await store.setUserDisabled(999_999, true, { ...actor, action: "user_disabled" }), false);
    });

    test("deleting a user revokes their tokens and keeps their messages and audit trail", async () => {
      const u = await store.addUser(newUser(uid("gone") + "@corp.example"));
      const hash = uid("h");
      await store.saveToken(hash, u.id, "api", null, null);
      const m = newMessage({ userId: u.id, sender: u.email });
      await store.insertMessages([m]);
      const audit = { actor: "cli", action: "user_deleted", detail: { email: u.email } };
      assert.equal(await store.deleteUser(u.id, audit), true);
      assert.equal(await store.userById(u.id), undefined);
      assert.equal(await store.userByEmail(u.email, 60_000), undefined);
      assert.equal(await store.tokenOwner(hash, "api", T), undefined);
      const kept = await store.message(m.id);
      assert.equal(kept?.userId, null, "the message stays, no longer linked to the user");
      assert.equal(kept?.sender, u.email);
      assert.equal((await audited("user_deleted", u.email))[0]?.detail.tokensRevoked, 1);
      assert.equal(await store.deleteUser(u.id, audit), false, "a second delete finds nobody");
    });

    test("a new password hash revokes every token of the user but the one kept", async () => {
      const u = await store.addUser(newUser(uid("pw") + "@corp.example"));
      const other = await store.addUser(newUser(uid("bystander") + "@corp.example"));
      const keep = await store.saveToken(uid("h"), u.id, "session", "c", T + MIN);
      await store.saveToken(uid("h"), u.id, "api", null, null);
      await store.saveToken(uid("h"), u.id, "session", "c", T + MIN);
      await store.saveToken(uid("h"), other.id, "api", null, null);
      await store.setPasswordHash(u.id, "new-hash", keep, {
        actor: u.email,
        action: "password_changed",
        detail: { email: u.email },
      });
      assert.equal((await store.userById(u.id))?.passwordHash, "new-hash");
      assert.deepEqual(
        (await store.listTokens(u.id, T)).map((t) => t.id),
        [keep],
      );
      assert.equal((await store.listTokens(other.id, T)).length, 1, "other users keep theirs");
      assert.equal((await audited("password_changed", u.email))[0]?.detail.tokensRevoked, 2);
      await store.setPasswordHash(u.id, "newer-hash", null, {
        actor: "cli",
        action: "password_reset",
        detail: { email: u.email },
      });
      assert.deepEqual(await store.listTokens(u.id, T), [], "a reset keeps none");
    });

    test("saving a DKIM key for a domain replaces the old one; lookup ignores case", async () => {
      await store.saveDkimKey("corp.example", "s1", "KEY1");
      await store.saveDkimKey("CORP.example", "s2", "KEY2");
      assert.deepEqual(await store.dkimKey("Corp.Example"), { selector: "s2", privateKey: "KEY2" });
      assert.equal(await store.dkimKey("other.example"), undefined);
    });
  });

  describe("kept statements (Db)", () => {
    test("more distinct queries than are kept all run, and SQL that does not prepare fails its caller", async () => {
      const db = await Db.open(file, true);
      try {
        const queries = Array.from({ length: 250 }, (_, i) => db.all<{ n: number }>(`SELECT ${i} AS n`));
        assert.deepEqual(
          (await Promise.all(queries)).map((rows) => rows[0]?.n),
          Array.from({ length: 250 }, (_, i) => i),
        );
        assert.deepEqual(await db.get("SELECT ? AS n", [5]), { n: 5 }, "a kept statement is bound anew");
        assert.deepEqual(await db.get("SELECT ? AS n", [6]), { n: 6 });
        await assert.rejects(db.all("SELECT FROM nowhere"), /SQLITE_ERROR/);
        await assert.rejects(db.all("SELECT FROM nowhere"), /SQLITE_ERROR/, "a failed prepare is not kept");
      } finally {
        await db.close();
      }
    });
  });

  describe("migrations", () => {
    // Each later migration undone, newest first, to make a database as an older version left it.
    // A new migration adds its undo here.
    const UNDO: Record<number, string> = {
      11: "ALTER TABLE download_links DROP COLUMN first_download_at;",
      10: "DROP TABLE copies;",
      9: "DROP TABLE download_log; DROP TABLE download_links; DROP TABLE download_files; DROP TABLE download_packages;",
      8: "ALTER TABLE batches DROP COLUMN attachment_action;",
      7: `ALTER TABLE batches RENAME TO groups;
          ALTER TABLE recipients RENAME COLUMN batch_id TO group_id;
          DROP INDEX batches_due; DROP INDEX batches_by_message; DROP INDEX batches_by_status;
          CREATE INDEX groups_due ON groups(leased, next_at) WHERE status IN ('held','releasing');
          CREATE INDEX groups_by_message ON groups(message_id);
          CREATE INDEX groups_by_status ON groups(status, message_id);`,
      6: "ALTER TABLE messages DROP COLUMN spool_acknowledged; ALTER TABLE messages DROP COLUMN body_missing_at;",
    };
    /** A database at `path` (made by this version) taken back to schema `version`. */
    async function downgrade(path: string, version: number): Promise<void> {
      const db = await Db.open(path, false);
      try {
        for (let v = SCHEMA_VERSION; v > version; v--) {
          const undo = UNDO[v];
          assert.ok(undo, `no undo for migration ${v}: add it to UNDO`);
          await db.exec(`${undo} DELETE FROM schema_version WHERE version = ${v};`);
        }
      } finally {
        await db.close();
      }
    }

    test("opening the same file again keeps the data and applies no migration twice", async () => {
      const path = join(dir, "reopen.db");
      const first = await SqliteStore.open(path);
      const m = newMessage();
      await first.insertMessages([m]);
      await first.close();
      const second = await SqliteStore.open(path);
      try {
        assert.equal((await second.message(m.id))?.id, m.id);
      } finally {
        await second.close();
      }
      const third = await SqliteStore.open(path);
      await third.close();
      const db = await Db.open(path, true);
      try {
        assert.deepEqual(
          await db.all("SELECT version FROM schema_version ORDER BY version"),
          Array.from({ length: SCHEMA_VERSION }, (_, i) => ({ version: i + 1 })),
        );
      } finally {
        await db.close();
      }
    });

    test("an upgrade counts the spooled messages already stored as acknowledged: a file missing later is never forgotten", async () => {
      const path = join(dir, "upgrade.db");
      const m = newMessage();
      const current = await SqliteStore.open(path);
      await current.insertMessages([m]);
      await current.close();
      // The database as the version before the marker left it: without its columns.
      await downgrade(path, 5);
      const upgraded = await SqliteStore.open(path);
      try {
        assert.deepEqual(await upgraded.unfinishedSpooled(), [{ id: m.id, acknowledged: true }]);
        assert.equal((await upgraded.message(m.id))?.bodyMissingAt, null);
      } finally {
        await upgraded.close();
      }
    });

    test("an upgrade renames the delivery groups to batches: rows, recipients and the cascade from messages stay", async () => {
      const path = join(dir, "batches.db");
      const m = newMessage();
      const current = await SqliteStore.open(path);
      await current.insertMessages([m]);
      await current.close();
      await downgrade(path, 6);
      const upgraded = await SqliteStore.open(path);
      try {
        assert.deepEqual(
          (await upgraded.message(m.id))?.batches.map((b) => [b.id, b.recipients.map((r) => r.address)]),
          m.batches.map((b) => [b.id, b.recipients]),
        );
      } finally {
        await upgraded.close();
      }
      const check = await Db.open(path, false);
      try {
        assert.deepEqual(
          (await check.all<{ table: string; from: string }>("PRAGMA foreign_key_list(recipients)")).map(
            (k) => [k.table, k.from],
          ),
          [["batches", "batch_id"]],
        );
        assert.deepEqual(
          await check.all(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'batches%' ORDER BY name",
          ),
          [{ name: "batches_by_message" }, { name: "batches_by_status" }, { name: "batches_due" }],
        );
        await check.exec("PRAGMA foreign_keys = ON");
        await check.run("DELETE FROM messages WHERE id = ?", [m.id]);
        assert.deepEqual(await check.all("SELECT count(*) AS n FROM recipients"), [{ n: 0 }]);
      } finally {
        await check.close();
      }
    });

    test("an upgrade gives the batches stored before their attachment action: as they came (pass)", async () => {
      const path = join(dir, "attachment-action.db");
      const m = newMessage({
        batches: [{ name: "internal" }, { name: "external", attachmentAction: "web_download" }],
      });
      const current = await SqliteStore.open(path);
      await current.insertMessages([m]);
      assert.deepEqual(
        (await current.message(m.id))?.batches.map((b) => b.attachmentAction),
        ["web_download", "pass"],
        "kept as planned",
      );
      await current.close();
      await downgrade(path, 7);
      const upgraded = await SqliteStore.open(path);
      try {
        assert.deepEqual(
          (await upgraded.message(m.id))?.batches.map((b) => [b.name, b.attachmentAction]),
          [
            ["external", "pass"],
            ["internal", "pass"],
          ],
        );
      } finally {
        await upgraded.close();
      }
    });

    test("a database from a newer Sendguard is refused with a clear error", async () => {
      const path = join(dir, "newer.db");
      await (await SqliteStore.open(path)).close();
      const db = await Db.open(path, false);
      await db.run("INSERT INTO schema_version (version) VALUES (99)");
      await db.close();
      await assert.rejects(
        SqliteStore.open(path),
        new RegExp(
          `database schema version 99 is newer than this Sendguard \\(${SCHEMA_VERSION}\\); upgrade Sendguard`,
        ),
      );
    });
  });
});
