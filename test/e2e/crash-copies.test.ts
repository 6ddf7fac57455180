// kill -9 while a batch's copies are made and relayed (transform/copies.ts, delivery/scheduler.ts):
// after the restart each recipient gets exactly one copy, with a download link that works, the
// message has one download package, and the spool's copies folder holds only the recorded copies.
// The exact steps are reached with SENDGUARD_TEST_CRASH_AT (server/src/crash-point.ts); the kill
// during relay is timed by a sink that holds its reply, as crash.test.ts does for plain messages.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import { acknowledgedOnce, copyFiles, crashAt, recordedCopyFiles } from "../helpers/copies.js";
import { messageWithAttachment, submitHttp, uniqueId } from "../helpers/fixtures.js";
import { TestGateway, waitFor } from "../helpers/gateway.js";
import { SmtpSink, type SunkMessage } from "../helpers/sink.js";

const PW = "correct-horse-1";
const ALICE = "alice@corp.example";
/** Two external recipients: the standard preset sends each a copy of their own with their own link. */
const TO = ["tanaka@partner.example", "sato@partner.example"];
const PDF = Buffer.concat([Buffer.from("%PDF-1.7\n"), randomBytes(100_000)]);

const sink = new SmtpSink();
let gw: TestGateway;
let token: string;

before(async () => {
  await sink.start();
  gw = new TestGateway({ relayPort: sink.port, config: { organization: { holdMinutes: 0 } } });
  gw.addUser(ALICE, PW);
  await gw.start();
  token = await gw.token(ALICE, PW);
  gw.pinPorts();
});
after(async () => {
  await gw.stop();
  await sink.stop();
});

/** Submits the message with its attachment to TO over HTTP; returns its gateway id. */
const send = (messageId: string) =>
  submitHttp(gw, token, messageWithAttachment({ from: ALICE, to: TO, messageId, pdf: PDF }));

const packages = (id: string) =>
  gw.query<{ id: string }>("SELECT id FROM download_packages WHERE message_id = ?", [id]);

const crashWith = (point: string, messageId: string) => crashAt(gw, point, () => send(messageId));

/**
 * After the restart: each recipient has exactly one acknowledged copy, at most `received` received
 * in all, whose link opens the download page; the message is sent, has one package, and its copies
 * folder holds the recorded copies and nothing else.
 */
async function deliveredOnce(id: string, messageId: string, received = 1): Promise<void> {
  const copies = await acknowledgedOnce(gw, sink, { id, messageId }, TO, received);
  for (const [address, copy] of copies) await assertLinkWorks(copy, address);
  assert.equal((await packages(id)).length, 1, "one download package");
  const recorded = await recordedCopyFiles(gw, id);
  assert.equal(recorded.length, TO.length);
  assert.deepEqual(copyFiles(gw, id), recorded, "only the recorded copies are in the copies folder");
}

async function assertLinkWorks(copy: SunkMessage, address: string): Promise<void> {
  assert.ok(copy.text.includes(address), "the copy names its recipient");
  const url = /(http:\/\/\S+\/d\/[A-Za-z0-9_-]+)/.exec(copy.text)?.[1] ?? assert.fail("no download link");
  const page = await fetch(url.replace("localhost", "127.0.0.1"));
  assert.equal(page.status, 200, `${address}'s link opens the download page`);
}

test("killed after the copies' files are written, before they are recorded: made again after the restart, each recipient gets one", async () => {
  const messageId = uniqueId("written");
  const id = await crashWith("copies_written", messageId);
  assert.ok(copyFiles(gw, id).length > TO.length, "the crash left the copies and the plain files");
  assert.deepEqual(await recordedCopyFiles(gw, id), [], "nothing recorded");
  assert.deepEqual(await packages(id), [], "no download package: it is committed with the copies");
  assert.equal(sink.messages.filter((m) => m.messageId === messageId).length, 0);

  await gw.start();
  assert.ok(
    gw.logLines.some((l) => l.event === "copies_swept"),
    "the unrecorded files are removed at start",
  );
  await deliveredOnce(id, messageId);
});

test("killed between storing the download's files and committing the copies: one package after the restart, its links valid", async () => {
  const messageId = uniqueId("prepared");
  const id = await crashWith("download_prepared", messageId);
  assert.deepEqual(await packages(id), []);
  await gw.start();
  await deliveredOnce(id, messageId);
});

test("killed right after the copies are recorded: the plain attachment files left are removed at start", async () => {
  const messageId = uniqueId("committed");
  const id = await crashWith("copies_committed", messageId);
  assert.ok(
    copyFiles(gw, id).some((f) => f.split("/")[2] === "files"),
    "the separated plain files are still there",
  );
  await gw.start();
  await deliveredOnce(id, messageId);
});

test("killed while the second recipient's copy is relayed: the first is not sent again, the second at least once", async () => {
  const messageId = uniqueId("relaying");
  // The sink holds each reply: the gateway is killed with the second copy sent and unanswered.
  sink.behaviour = { dataDelayMs: 1500 };
  let id: string;
  try {
    id = await send(messageId);
    const ours = () => sink.messages.filter((m) => m.messageId === messageId);
    await waitFor(
      () => ours().length === 2 && ours()[0]?.acknowledged && !ours()[1]?.acknowledged,
      20_000,
      "the first copy acknowledged, the second at the sink waiting for its reply",
    );
    await gw.stop("SIGKILL");
  } finally {
    sink.behaviour = {};
  }
  const [first] = sink.messages.filter((m) => m.messageId === messageId);
  const recipients = await gw.query<{ address: string; status: string }>(
    "SELECT r.address, r.status FROM recipients r JOIN batches b ON b.id = r.batch_id WHERE b.message_id = ? ORDER BY r.address",
    [id],
  );
  assert.deepEqual(
    recipients.filter((r) => r.status === "sent").map((r) => r.address),
    first?.to,
    "the first copy's recipient was recorded as reached before the second copy went",
  );
  await gw.start();
  // The second copy was received unanswered, and is sent again: two received, one acknowledged.
  await deliveredOnce(id, messageId, 2);
  assert.equal(
    sink.messages.filter((m) => m.messageId === messageId && m.to.includes(first?.to[0] ?? "")).length,
    1,
  );
});
