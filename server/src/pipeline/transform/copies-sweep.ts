// At start, before the scheduler runs (so no copies are being made): removes from the spool's
// copies folder whatever no recorded copy refers to. A crash while copies were made leaves their
// files unrecorded, and one right after the commit leaves the plain attachment files (files/) that
// were to be removed then; the batch's next attempt would not see either (it is made again, or
// its copies are recorded already), and plain attachments must not lie around until retention.
import type { Dirent } from "node:fs";
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../../log.js";
import { COPIES_DIR, type Spool } from "../../store/spool.js";
import type { Store } from "../../store/types.js";

/** Messages whose recorded copies are looked up at once. */
const CHUNK = 500;

async function entries(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}

/** Removes what a crash left in the copies folder; returns how many files and folders it removed. */
export async function sweepCopies(spool: Spool, store: Store, log: Logger): Promise<number> {
  const root = join(spool.dir, COPIES_DIR);
  const messages = await entries(root);
  const removed: string[] = [];
  const remove = async (relative: string) => {
    await rm(join(root, relative), { recursive: true, force: true });
    removed.push(relative);
  };
  for (let start = 0; start < messages.length; start += CHUNK) {
    const chunk = messages.slice(start, start + CHUNK);
    const kept = await store.copyFilesOf(chunk.filter((m) => m.isDirectory()).map((m) => m.name));
    for (const message of chunk) {
      if (!message.isDirectory()) {
        await remove(message.name);
        continue;
      }
      let batchesLeft = 0;
      for (const batch of await entries(join(root, message.name))) {
        const batchDir = join(message.name, batch.name);
        const files = batch.isDirectory() ? await entries(join(root, batchDir)) : [];
        const stale = files.filter((f) => !kept.has(join(batchDir, f.name)));
        if (!batch.isDirectory() || stale.length === files.length) {
          await remove(batchDir);
          continue;
        }
        for (const file of stale) await remove(join(batchDir, file.name));
        batchesLeft++;
      }
      if (!batchesLeft) await remove(message.name);
    }
  }
  if (removed.length)
    log.warn(
      { event: "copies_swept", count: removed.length, paths: removed.slice(0, 100) },
      "removed copy files no recorded copy refers to (left by a crash while copies were made)",
    );
  return removed.length;
}
