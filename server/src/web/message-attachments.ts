// Whether a message has attachments, for the pages that show what will become of them: its copies
// say so once made; before, its stored body is walked as its separation will walk it.
import { createReadStream } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { hasAttachments } from "../pipeline/transform/separate/has-attachments.js";
import { spoolDir, spoolName } from "../store/spool.js";
import type { MessageRecord, Store } from "../store/types.js";

/** null: cannot tell (its body is gone, signed, or unreadable). */
export async function messageHasAttachments(
  message: MessageRecord,
  store: Pick<Store, "messageBody">,
  dataDir: string,
): Promise<boolean | null> {
  const copies = message.batches.flatMap((b) => b.copies);
  if (copies.some((c) => c.detail.files?.length)) return true;
  if (copies.some((c) => c.detail.unchangedBecause === "no_attachments")) return false;
  if (message.bodyDeletedAt !== null || message.bodyMissingAt !== null) return null;
  const body = message.bodyInDatabase
    ? Readable.from([(await store.messageBody(message.id)) ?? Buffer.alloc(0)])
    : createReadStream(join(spoolDir(dataDir), spoolName(message.id)), { highWaterMark: 64 * 1024 });
  // A spool file gone since the record was read reads as "cannot tell", like any unreadable body.
  return hasAttachments(body).catch(() => null);
}
