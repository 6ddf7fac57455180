// For the crash tests of the transform step (server/src/pipeline/transform/copies.ts): what it
// leaves on disk and in the database, a crash at one of its steps, and what the sink got after.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { waitFor, type TestGateway } from "./gateway.js";
import type { SmtpSink, SunkMessage } from "./sink.js";

/** Every file under the message's copies folder, relative to the spool's copies folder, sorted. */
export function copyFiles(gw: TestGateway, id: string): string[] {
  const root = join(gw.dataDir, "spool", "copies");
  try {
    return readdirSync(join(root, id), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => relative(root, join(e.parentPath, e.name)))
      .sort();
  } catch {
    return [];
  }
}

/** The files the message's recorded copies refer to, sorted. */
export async function recordedCopyFiles(gw: TestGateway, id: string): Promise<string[]> {
  const rows = await gw.query<{ file: string }>(
    "SELECT c.file FROM copies c JOIN batches b ON b.id = c.batch_id WHERE b.message_id = ? AND c.file IS NOT NULL ORDER BY c.file",
    [id],
  );
  return rows.map((r) => r.file);
}

/**
 * Restarts the gateway so that it kills itself at `point` (SENDGUARD_TEST_CRASH_AT,
 * server/src/crash-point.ts), runs `send`, and resolves with its result once the gateway has died.
 */
export async function crashAt<T>(gw: TestGateway, point: string, send: () => Promise<T>): Promise<T> {
  await gw.stop();
  await gw.start([], { SENDGUARD_TEST_CRASH_AT: point });
  const result = await send();
  const ended = await gw.exited(20_000);
  if (ended !== "SIGKILL")
    throw new Error(`the gateway did not kill itself at ${point}: it ended with ${ended}`);
  return result;
}

/**
 * Once the message is sent: each of `recipients` has exactly one acknowledged copy of it at the
 * sink, and at most `received` received (a copy killed unanswered is sent again); returns the
 * acknowledged copy per recipient. The message is `id` at the gateway, `messageId` in its header.
 */
export async function acknowledgedOnce(
  gw: TestGateway,
  sink: SmtpSink,
  message: { id: string; messageId: string },
  recipients: string[],
  received = 1,
): Promise<Map<string, SunkMessage>> {
  await waitFor(
    async () =>
      (await gw.query<{ status: string }>("SELECT status FROM messages WHERE id = ?", [message.id]))[0]
        ?.status === "sent",
    20_000,
    "the message sent",
  );
  const copies = sink.messages.filter((m) => m.messageId === message.messageId);
  const acknowledged = new Map<string, SunkMessage>();
  for (const address of recipients) {
    const to = copies.filter((m) => m.to.includes(address));
    const answered = to.filter((m) => m.acknowledged);
    assert.equal(answered.length, 1, `${address}: one copy acknowledged`);
    assert.ok(to.length <= received, `${address}: ${to.length} copies received`);
    acknowledged.set(address, answered[0]!);
  }
  return acknowledged;
}
