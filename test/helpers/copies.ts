// What the transform step (server/src/pipeline/transform/copies.ts) leaves on disk and in the
// database, for the crash tests: the files in a message's copies folder and the ones recorded.
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import type { TestGateway } from "./gateway.js";

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
