// kill -9 while a batch's encrypted-ZIP copy is made, committed and relayed (transform/copies.ts,
// delivery/scheduler.ts), as crash-copies.test.ts does for web download: after the restart each
// recipient has exactly one acknowledged copy, its ZIP opens in 7-Zip with the password of the one
// [パスワード通知] that recipient gets, and the copies folder holds only the recorded copy. The
// steps are reached with SENDGUARD_TEST_CRASH_AT (server/src/crash-point.ts); the kill during
// relay is timed by a sink that holds its reply.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { simpleParser } from "mailparser";
import { acknowledgedOnce, copyFiles, crashAt, recordedCopyFiles } from "../helpers/copies.js";
import { messageWithAttachment, submitHttp, uniqueId } from "../helpers/fixtures.js";
import { TestGateway, waitFor } from "../helpers/gateway.js";
import { SmtpSink } from "../helpers/sink.js";

const PW = "correct-horse-1";
const ALICE = "alice@corp.example";
/** Two external recipients: one ZIP copy goes to both, and each gets the password apart. */
const TO = ["tanaka@partner.example", "sato@partner.example"];
const PDF = Buffer.concat([Buffer.from("%PDF-1.7\n"), randomBytes(100_000)]);
const PASSWORD_TAG = "[パスワード通知]";

const sink = new SmtpSink();
let gw: TestGateway;
let token: string;
const work = mkdtempSync(join(tmpdir(), "sg-crash-zip-"));

before(async () => {
  await sink.start();
  gw = new TestGateway({ relayPort: sink.port, config: { organization: { holdMinutes: 0 } } });
  await gw.startWithOrgPolicy(
    {
      hold: { internal: 0, semiInternal: 0, external: 0 },
      attachments: { action: "encrypt_zip", password: { notify: "recipients", delayMinutes: 0 } },
    },
    [ALICE],
    PW,
  );
  token = await gw.token(ALICE, PW);
  gw.pinPorts();
});
after(async () => {
  await gw.stop();
  await sink.stop();
  rmSync(work, { recursive: true, force: true });
});

/** Submits the message with its attachment to TO over HTTP; returns its gateway id. */
const send = (messageId: string) =>
  submitHttp(gw, token, messageWithAttachment({ from: ALICE, to: TO, messageId, pdf: PDF }));

const crashWith = (point: string, messageId: string) => crashAt(gw, point, () => send(messageId));

/** The password notices to `address` about the message (they answer it: In-Reply-To). */
async function passwordNotices(address: string, messageId: string): Promise<string[]> {
  const texts: string[] = [];
  for (const m of sink.to(address)) {
    const mail = await simpleParser(m.raw);
    if (mail.inReplyTo === `<${messageId}>` && mail.subject?.startsWith(PASSWORD_TAG))
      texts.push(mail.text ?? "");
  }
  return texts;
}

/**
 * After the restart: the message is sent; each recipient has one acknowledged copy (at most
 * `received` received) and one password notice, whose password opens the ZIP in 7-Zip to the
 * original file; the copies folder holds the one recorded copy and nothing else.
 */
async function deliveredOnce(id: string, messageId: string, received = 1): Promise<void> {
  const copies = await acknowledgedOnce(gw, sink, { id, messageId }, TO, received);
  for (const [address, copy] of copies) {
    const notices = await waitFor(
      async () => {
        const found = await passwordNotices(address, messageId);
        return found.length ? found : undefined;
      },
      20_000,
      `the password notice to ${address}`,
    );
    assert.equal(notices.length, 1, `${address}: one password notice`);
    const password = /パスワード: (\S+)/.exec(notices[0] ?? "")?.[1] ?? assert.fail(notices[0]);
    await assertZipOpens(copy.raw, password, `${id}-${address}`);
  }
  const queued = await gw.query<{ recipient: string }>(
    "SELECT recipient FROM notices WHERE message_id = ? AND kind = 'password' ORDER BY recipient",
    [id],
  );
  assert.deepEqual(
    queued.map((n) => n.recipient),
    [...TO].sort(),
    "one password notice queued per recipient, none twice",
  );
  const recorded = await recordedCopyFiles(gw, id);
  assert.equal(recorded.length, 1, "one ZIP copy for both recipients");
  assert.deepEqual(copyFiles(gw, id), recorded, "only the recorded copy is in the copies folder");
}

async function assertZipOpens(raw: Buffer, password: string, name: string): Promise<void> {
  const parsed = await simpleParser(raw);
  assert.deepEqual(
    parsed.attachments.map((a) => a.filename),
    ["attachments.zip"],
  );
  assert.doesNotMatch(raw.toString("utf8"), new RegExp(password), "the copy does not carry its password");
  const zip = join(work, `${name}.zip`);
  writeFileSync(zip, parsed.attachments[0]!.content);
  assert.match(execFileSync("7z", ["l", "-slt", `-p${password}`, zip]).toString(), /Method = AES-256/);
  const out = join(work, name);
  execFileSync("7z", ["x", `-p${password}`, `-o${out}`, zip], { stdio: "ignore" });
  assert.deepEqual(readFileSync(join(out, "見積書.pdf")), PDF, "7-Zip extracts the original bytes");
}

test("killed with the ZIP written, before the copy that carries it: made again after the restart", async () => {
  const messageId = uniqueId("zip-written");
  const id = await crashWith("zip_written", messageId);
  assert.ok(
    copyFiles(gw, id).some((f) => f.endsWith("/attachments.zip")),
    "the crash left the ZIP behind",
  );
  assert.deepEqual(await recordedCopyFiles(gw, id), []);
  await gw.start();
  assert.ok(
    gw.logLines.some((l) => l.event === "copies_swept"),
    "what the crash left is removed at start",
  );
  await deliveredOnce(id, messageId);
});

test("killed with the ZIP copy written, before it is recorded: made again, with a password of its own", async () => {
  const messageId = uniqueId("zip-copy-written");
  const id = await crashWith("copies_written", messageId);
  assert.ok(
    copyFiles(gw, id).some((f) => f.endsWith("/zip.eml")),
    "the unrecorded copy is on disk",
  );
  assert.deepEqual(await recordedCopyFiles(gw, id), [], "nothing recorded");
  assert.equal(sink.messages.filter((m) => m.messageId === messageId).length, 0);
  await gw.start();
  await deliveredOnce(id, messageId);
});

test("killed right after the ZIP copy is recorded: the plain files left are removed, the recorded copy and its password go", async () => {
  const messageId = uniqueId("zip-committed");
  const id = await crashWith("copies_committed", messageId);
  const [recorded] = await gw.query<{ password: string }>(
    "SELECT c.password FROM copies c JOIN batches b ON b.id = c.batch_id WHERE b.message_id = ?",
    [id],
  );
  assert.ok(recorded?.password, "the copy is recorded with its password");
  assert.ok(
    copyFiles(gw, id).some((f) => f.split("/")[2] === "files"),
    "the plain attachment files are still there",
  );
  await gw.start();
  await deliveredOnce(id, messageId);
  const [notice] = await passwordNotices(TO[0]!, messageId);
  assert.match(
    notice ?? "",
    new RegExp(`パスワード: ${recorded.password}`),
    "the password recorded before the crash",
  );
});

test("killed while the ZIP copy is relayed, unanswered: sent again, acknowledged once, one password notice each", async () => {
  const messageId = uniqueId("zip-relaying");
  // The sink holds its reply: the gateway is killed with the copy sent and unanswered.
  sink.behaviour = { dataDelayMs: 1500 };
  let id: string;
  try {
    id = await send(messageId);
    const ours = () => sink.messages.filter((m) => m.messageId === messageId);
    await waitFor(
      () => ours().length === 1 && !ours()[0]?.acknowledged,
      20_000,
      "the copy at the sink waiting for its reply",
    );
    await gw.stop("SIGKILL");
  } finally {
    sink.behaviour = {};
  }
  const reached = await gw.query<{ status: string }>(
    "SELECT r.status FROM recipients r JOIN batches b ON b.id = r.batch_id WHERE b.message_id = ?",
    [id],
  );
  assert.ok(
    reached.every((r) => r.status === "pending"),
    "nobody recorded as reached: the reply never came",
  );
  await gw.start();
  await deliveredOnce(id, messageId, 2);
});
