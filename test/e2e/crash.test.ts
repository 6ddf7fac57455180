// kill -9 while clients submit: every message that got 250 is delivered after the restart, none twice.
// Half the clients send messages small enough to be stored in the database, half ones large enough
// for a spool file (spool.inlineMaxBytes, 64 KiB by default).
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { MessageView } from "@sendguard/shared";
import nodemailer from "nodemailer";
import { TestGateway, waitFor } from "../helpers/gateway.js";
import { allMessages, bodyText, noticeLink, rawMessage, uniqueId } from "../helpers/fixtures.js";
import { SmtpSink } from "../helpers/sink.js";

const PW = "correct-horse-1";
const CLIENTS = 10;
/** What the recipients of an acknowledged message whose spool file is gone fail with (and the sender reads). */
const BODY_LOST = "body lost: spool file missing after acknowledgement";
const LARGE_BODY = "0123456789abcdef".repeat(5).concat("\r\n").repeat(1000); // 82 KB

const sink = new SmtpSink();
let gw: TestGateway;

before(async () => {
  await sink.start();
  // A hold of 3 s keeps relaying out of the kill window: the test is about what was acknowledged.
  gw = new TestGateway({ relayPort: sink.port, config: { organization: { holdMinutes: 0.05 } } });
  gw.addUser("admin@corp.example", PW, "--role", "admin");
  await gw.start();
  const admin = await gw.token("admin@corp.example", PW);
  for (let i = 0; i < CLIENTS; i++) {
    const r = await gw.api(admin, "POST", "/admin/users", { email: `u${i}@corp.example`, password: PW });
    assert.equal(r.status, 201);
  }
  gw.pinPorts();
});
after(async () => {
  await gw.stop();
  await sink.stop();
});

test("kill -9 during 10 concurrent submitting clients loses no acknowledged message and sends none twice", async () => {
  const acknowledged = new Set<string>();
  let refused = 0;
  let stop = false;
  const clients = Array.from({ length: CLIENTS }, async (_, i) => {
    const user = `u${i}@corp.example`;
    const transport = nodemailer.createTransport({
      host: "127.0.0.1",
      port: gw.ports.smtp,
      tls: { rejectUnauthorized: false },
      auth: { user, pass: PW },
      connectionTimeout: 2000,
    });
    while (!stop) {
      const messageId = uniqueId(`c${i}`);
      try {
        const info = await transport.sendMail({
          envelope: { from: user, to: ["x@partner.example"] },
          raw: rawMessage({
            from: user,
            to: ["x@partner.example"],
            messageId,
            ...(i % 2 ? { body: LARGE_BODY } : {}),
          }),
        });
        if (/^250 /.test(info.response)) acknowledged.add(messageId);
      } catch {
        refused++;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    transport.close();
  });
  await waitFor(() => acknowledged.size >= 40, 20_000, "40 acknowledged messages");
  await gw.stop("SIGKILL");
  await waitFor(() => refused > 0, 10_000, "a submission refused while the gateway is down");
  stop = true;
  await Promise.all(clients);
  assert.ok(refused > 0, "some submissions failed while the gateway was down");

  await gw.start();
  const delivered = () => new Set(sink.messages.map((m) => m.messageId));
  await waitFor(
    () => [...acknowledged].every((id) => delivered().has(id)),
    30_000,
    "every acknowledged message at the sink",
  );
  await new Promise((r) => setTimeout(r, 1000));
  const counts = new Map<string, number>();
  for (const m of sink.messages) if (m.messageId) counts.set(m.messageId, (counts.get(m.messageId) ?? 0) + 1);
  const twice = [...counts].filter(([, n]) => n > 1);
  assert.deepEqual(twice, [], "no message delivered twice");
  const missing = [...acknowledged].filter((id) => !counts.has(id));
  assert.deepEqual(missing, []);
});

/**
 * A gateway holding `count` messages for an hour, sent over SMTP by its admin, each in a spool
 * file however small; with their gateway ids and Message-IDs.
 */
async function heldInSpoolFiles(
  count: number,
  prefix: string,
): Promise<{ held: TestGateway; ids: string[]; messageIds: string[] }> {
  const held = new TestGateway({
    relayPort: sink.port,
    config: { organization: { holdMinutes: 60 }, spool: { inlineMaxBytes: 0 } },
  });
  held.addUser("admin@corp.example", PW, "--role", "admin");
  await held.start();
  const transport = nodemailer.createTransport({
    host: "127.0.0.1",
    port: held.ports.smtp,
    tls: { rejectUnauthorized: false },
    auth: { user: "admin@corp.example", pass: PW },
  });
  const messageIds = Array.from({ length: count }, () => uniqueId(prefix));
  const ids: string[] = [];
  try {
    for (const messageId of messageIds) {
      const info = await transport.sendMail({
        envelope: { from: "admin@corp.example", to: ["x@partner.example"] },
        raw: rawMessage({ from: "admin@corp.example", to: ["x@partner.example"], messageId }),
      });
      ids.push(/Queued as (\S+);/.exec(info.response)?.[1] ?? assert.fail(info.response));
    }
  } catch (err) {
    await held.stop();
    throw err;
  } finally {
    transport.close();
  }
  return { held, ids, messageIds };
}

// The group commit fsyncs the spool directory and commits the rows side by side, and marks the
// spooled rows acknowledged only once both are done: a crash before the mark can leave rows whose
// file never became durable. Those messages were never acknowledged, and go. A file that goes after
// the mark (a restore from an older backup, a cleanup job) took acknowledged mail with it: that
// message stays, flagged, its recipients failed and its sender told, and it is never tried again.
test("after a restart, a message whose spool file is missing is removed if never acknowledged, kept and flagged if it was; the others stay held", async () => {
  const { held, ids, messageIds } = await heldInSpoolFiles(4, "lost");
  try {
    const [lost, kept, restored, unmarked] = ids as [string, string, string, string];
    const restoredMessageId = messageIds[2] as string;
    held.pinPorts();
    await held.stop("SIGKILL");
    // A crash between the row commit and the mark: the client never had its 250.
    await held.write("UPDATE messages SET spool_acknowledged = 0 WHERE id = ?", [lost]);
    rmSync(join(held.dataDir, "spool", `${lost}.eml`));
    // Gone after the 250, while the gateway was down.
    rmSync(join(held.dataDir, "spool", `${restored}.eml`));
    // The same crash, but the file is there: the message is kept, and marked from now on.
    await held.write("UPDATE messages SET spool_acknowledged = 0 WHERE id = ?", [unmarked]);
    const spoolChecked = () => held.logLines.filter((l) => l.event === "spool_checked").at(-1);

    await held.start();
    const admin = await held.token("admin@corp.example", PW);
    assert.equal((await held.api(admin, "GET", `/messages/${lost}`)).status, 404);
    const still = await held.api<MessageView>(admin, "GET", `/messages/${kept}`);
    assert.equal(still.status, 200);
    assert.equal(still.body.status, "held");
    assert.equal(still.body.bodyMissing, false);
    const removed = held.logLines.find((l) => l.msg === "removed messages without a spool file");
    assert.deepEqual(removed?.msg_ids, [lost]);
    const audit = await held.api<{ entries: { action: string; messageId: string }[] }>(
      admin,
      "GET",
      `/admin/audit?messageId=${lost}`,
    );
    assert.equal(audit.status, 200);
    assert.ok(audit.body.entries.some((e) => e.action === "forgotten"));

    // The acknowledged one: kept, flagged, failed at once, reported, audited, its sender told.
    const checked = spoolChecked();
    assert.deepEqual(
      [checked?.spooled, checked?.forgotten, checked?.body_missing, checked?.adopted],
      [4, 1, 1, 1],
    );
    assert.equal((await held.api<MessageView>(admin, "GET", `/messages/${unmarked}`)).body.status, "held");
    assert.deepEqual(await held.query("SELECT spool_acknowledged FROM messages WHERE id = ?", [unmarked]), [
      { spool_acknowledged: 1 },
    ]);
    const reported = held.logLines.find((l) =>
      String(l.msg).startsWith("acknowledged messages whose spool file is missing"),
    );
    assert.deepEqual([reported?.msg_ids, reported?.count], [[restored], 1]);
    const flagged = await held.api<MessageView>(admin, "GET", `/messages/${restored}`);
    assert.equal(flagged.status, 200);
    assert.equal(flagged.body.status, "failed");
    assert.equal(flagged.body.bodyMissing, true);
    assert.equal(flagged.body.bodyKept, false);
    assert.ok(flagged.body.bodyMissingAt && !Number.isNaN(Date.parse(flagged.body.bodyMissingAt)));
    assert.deepEqual(
      flagged.body.groups.map((g) => [g.status, g.recipients.map((r) => [r.address, r.status, r.response])]),
      [["failed", [["x@partner.example", "failed", BODY_LOST]]]],
    );
    const flaggedAudit = await held.api<{ entries: { action: string; detail: { reason?: string } }[] }>(
      admin,
      "GET",
      `/admin/audit?messageId=${restored}`,
    );
    assert.deepEqual(
      flaggedAudit.body.entries.filter((e) => e.action === "body_missing").map((e) => e.detail.reason),
      [BODY_LOST],
    );
    const bounce = await waitFor(
      async () => {
        for (const m of sink.to("admin@corp.example")) {
          const text = await bodyText(m.raw);
          if (text.includes(BODY_LOST)) return { m, text };
        }
        return null;
      },
      10_000,
      "bounce notice",
    );
    assert.ok(bounce.m.text.includes(restoredMessageId), "the bounce is about the message lost");
    assert.match(bounce.text, new RegExp(`x@partner\\.example: ${BODY_LOST}`));

    // Not delivered, and nothing tries again: no attempt, no lease, release has nothing left to do.
    const release = await held.api<{ error?: { code: string } }>(
      admin,
      "POST",
      `/messages/${restored}/release`,
    );
    assert.equal(release.status, 409);
    assert.equal(release.body.error?.code, "already_final");
    assert.deepEqual(
      await held.query("SELECT status, attempts, leased FROM batches WHERE message_id = ?", [restored]),
      [{ status: "failed", attempts: 0, leased: 0 }],
    );
    held.pinPorts();
    await held.stop();
    await held.start();
    const again = spoolChecked();
    assert.deepEqual([again?.spooled, again?.forgotten, again?.body_missing, again?.adopted], [2, 0, 0, 0]);
    const later = await held.api<MessageView>(admin, "GET", `/messages/${restored}`);
    assert.deepEqual([later.body.status, later.body.bodyMissing], ["failed", true]);
    const laterAudit = await held.api<{ entries: { action: string }[] }>(
      admin,
      "GET",
      `/admin/audit?messageId=${restored}`,
    );
    assert.deepEqual(
      laterAudit.body.entries
        .map((e) => e.action)
        .filter((a) => a === "body_missing" || a === "delivery_attempt"),
      ["body_missing"],
    );
    assert.equal(
      sink.messages.find((m) => m.messageId === restoredMessageId),
      undefined,
    );
    assert.equal((await held.api<MessageView>(admin, "GET", `/messages/${kept}`)).body.status, "held");
  } finally {
    await held.stop();
  }
});

// A spool with none of the acknowledged files is more likely not there (an unmounted volume, a
// wrong path, an empty restore) than emptied file by file: failing every message would bounce them
// for good, so the gateway does not start until an operator says so.
test("a spool holding none of the acknowledged messages' files: the gateway does not start and changes nothing; --accept-missing-spool fails them and tells the sender", async () => {
  const { held, ids, messageIds } = await heldInSpoolFiles(2, "unmounted");
  try {
    const holdNotice = await waitFor(
      () => sink.to("admin@corp.example").find((m) => m.text.includes(messageIds[0] as string)),
      10_000,
      "hold notice",
    );
    const holdLink = await noticeLink(holdNotice.raw, "hold");
    held.pinPorts();
    await held.stop("SIGKILL");
    rmSync(join(held.dataDir, "spool"), { recursive: true });

    await assert.rejects(
      held.start(),
      (err: Error) =>
        /holds none of the files of the 2 acknowledged messages still to deliver/.test(err.message) &&
        /--accept-missing-spool/.test(err.message),
    );
    const rows = () =>
      held.query<{ status: string; body_missing_at: number | null }>(
        `SELECT status, body_missing_at FROM messages WHERE id IN (?, ?) ORDER BY id`,
        ids,
      );
    assert.deepEqual(await rows(), [
      { status: "held", body_missing_at: null },
      { status: "held", body_missing_at: null },
    ]);

    await held.start(["--accept-missing-spool"]);
    const admin = await held.token("admin@corp.example", PW);
    for (const id of ids) {
      const view = await held.api<MessageView>(admin, "GET", `/messages/${id}`);
      assert.deepEqual([view.body.status, view.body.bodyMissing], ["failed", true]);
    }
    const page = async (lang: string) => (await fetch(`${holdLink}?lang=${lang}`)).text();
    assert.match(
      await page("ja"),
      /<dd data-testid="body-missing">ゲートウェイの保存領域から失われていたため、.+ に配送を中止しました。お手数ですが、もう一度送信してください。<\/dd>/,
    );
    assert.match(
      await page("en"),
      /<dd data-testid="body-missing">Lost from the gateway&#39;s storage; delivery was stopped on .+\. Please send the message again\.<\/dd>/,
    );
    for (const messageId of messageIds) {
      await waitFor(
        async () => {
          for (const m of sink.to("admin@corp.example")) {
            const text = await bodyText(m.raw);
            if (text.includes(BODY_LOST) && text.includes(messageId)) return true;
          }
          return false;
        },
        10_000,
        `the bounce about ${messageId}`,
      );
    }
  } finally {
    await held.stop();
  }
});

// kill -9 while the relay takes 200 due messages: the leases the dead gateway held are reset at the
// next start and delivered again. Only those can reach the relay twice (at least once), and only
// when the relay had acknowledged one before the gateway recorded it.
test("kill -9 while 200 due messages are relayed: each is delivered after the restart, duplicates only among those in flight", async () => {
  const COUNT = 200;
  const slowSink = new SmtpSink();
  await slowSink.start();
  const relaying = new TestGateway({ relayPort: slowSink.port });
  // Held an hour: all are stored before any is due; then they are released at once.
  relaying.addUser("bulk@corp.example", PW, "--hold-minutes", "60");
  relaying.addUser("admin@corp.example", PW, "--role", "admin");
  await relaying.start();
  try {
    relaying.pinPorts();
    const transport = nodemailer.createTransport({
      pool: true,
      maxConnections: 5,
      host: "127.0.0.1",
      port: relaying.ports.smtp,
      tls: { rejectUnauthorized: false },
      auth: { user: "bulk@corp.example", pass: PW },
    });
    const idOf = new Map<string, string>(); // Message-ID → the gateway's id
    await Promise.all(
      Array.from({ length: COUNT }, async () => {
        const messageId = uniqueId("relayed");
        const info = await transport.sendMail({
          envelope: { from: "bulk@corp.example", to: ["x@partner.example"] },
          raw: rawMessage({ from: "bulk@corp.example", to: ["x@partner.example"], messageId }),
        });
        const id = /Queued as (\S+);/.exec(info.response)?.[1];
        assert.ok(id, info.response);
        idOf.set(messageId, id);
      }),
    );
    transport.close();
    assert.equal(idOf.size, COUNT);

    // 5 relay connections at over 200 ms a message: under 25 a second, so the kill meets them mid-way.
    slowSink.behaviour = { dataDelayMs: 200 };
    const bulk = await relaying.token("bulk@corp.example", PW);
    const ids = [...idOf.values()];
    for (let i = 0; i < ids.length; i += 50) {
      const released = await Promise.all(
        ids.slice(i, i + 50).map((id) => relaying.api(bulk, "POST", `/messages/${id}/release`)),
      );
      for (const r of released) assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    // The sink takes the notices about them too (release notices to the sender).
    const ours = () => slowSink.messages.filter((m) => m.messageId !== null && idOf.has(m.messageId));
    // Killed with messages at the sink waiting for its reply: the relay has them, the gateway has no outcome.
    await waitFor(
      () => ours().length >= 20 && ours().some((m) => !m.acknowledged),
      20_000,
      "20 messages at the sink, and one waiting for its reply",
    );
    await relaying.stop("SIGKILL");
    const atKill = ours().length;
    assert.ok(atKill < COUNT, `the sink had received ${atKill} of ${COUNT} at the kill: too late`);
    // What the dead gateway had in flight: its leases, still set in the database.
    const leased = await relaying.query<{ message_id: string }>(
      "SELECT message_id FROM batches WHERE leased = 1",
    );
    const inFlight = new Set(leased.map((g) => g.message_id));
    const concurrency = 20; // relay.concurrency's default: no more are leased at once
    assert.ok(inFlight.size <= concurrency, `${inFlight.size} leased`);

    slowSink.behaviour = {};
    await relaying.start();
    const admin = await relaying.token("admin@corp.example", PW);
    // Final when sent: no group waits for a retry any more, so nothing more will go out.
    await waitFor(
      async () => {
        const listed = (await allMessages(relaying, admin)).filter((m) => ids.includes(m.id));
        return listed.length === COUNT && listed.every((m) => m.status === "sent");
      },
      60_000,
      "every message sent",
    );
    const copies = (messageId: string, acknowledgedOnly: boolean) =>
      slowSink.messages.filter((m) => m.messageId === messageId && (!acknowledgedOnly || m.acknowledged))
        .length;
    const notDelivered = [...idOf.keys()].filter((messageId) => copies(messageId, true) === 0);
    assert.deepEqual(notDelivered, [], "every message acknowledged by the sink");
    const twice = [...idOf].filter(([messageId]) => copies(messageId, true) > 1);
    const receivedTwice = [...idOf.keys()].filter((messageId) => copies(messageId, false) > 1);
    console.log(
      `crash while relaying: ${atKill} of ${COUNT} at the sink at the kill, ${inFlight.size} leased; ` +
        `after the restart ${receivedTwice.length} received twice, ${twice.length} acknowledged twice (duplicates)`,
    );
    for (const [messageId, id] of twice)
      assert.ok(inFlight.has(id), `${messageId} delivered twice but not in flight`);
    assert.ok(twice.length <= inFlight.size);
    assert.ok(receivedTwice.length <= inFlight.size, "only messages in flight reached the sink again");
  } finally {
    await relaying.stop();
    await slowSink.stop();
  }
});
