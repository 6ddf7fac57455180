// The copies a batch is delivered as: written once at its first release, read with their batches.
import type { Db } from "../db.js";
import type { AuditEntry, CopyRecord, NewCopy, NewDownloadPackage } from "../types.js";
import { insertAudit } from "./audit.js";
import { insertPackageRows } from "./downloads.js";
import { insertStatements, placeholders, runStatements } from "./sql.js";

interface CopyRow {
  id: string;
  batch_id: string;
  recipients: string;
  action: CopyRecord["action"];
  file: string | null;
  header_bytes: number;
  detail: string;
  password: string | null;
  password_noticed_at: number | null;
  created_at: number;
}

const toCopy = (r: CopyRow): CopyRecord => ({
  id: r.id,
  batchId: r.batch_id,
  recipients: JSON.parse(r.recipients) as string[],
  action: r.action,
  file: r.file,
  headerBytes: r.header_bytes,
  detail: JSON.parse(r.detail) as CopyRecord["detail"],
  password: r.password,
  passwordNoticedAt: r.password_noticed_at,
  createdAt: r.created_at,
});

/** The copies of these batches, by batch. */
export async function loadCopies(db: Db, batchIds: string[]): Promise<Map<string, CopyRecord[]>> {
  const byBatch = new Map<string, CopyRecord[]>();
  if (!batchIds.length) return byBatch;
  const rows = await db.all<CopyRow>(
    `SELECT * FROM copies WHERE batch_id IN (${placeholders(batchIds.length)}) ORDER BY rowid`,
    batchIds,
  );
  for (const row of rows) byBatch.set(row.batch_id, [...(byBatch.get(row.batch_id) ?? []), toCopy(row)]);
  return byBatch;
}

export async function addCopies(
  writer: Db,
  batchId: string,
  copies: NewCopy[],
  audit: AuditEntry[],
  now: number,
  download?: NewDownloadPackage,
): Promise<void> {
  await writer.transaction(async () => {
    if (download) await insertPackageRows(writer, download);
    await runStatements(
      writer,
      insertStatements(
        "INSERT INTO copies (id, batch_id, recipients, action, file, header_bytes, detail, password, created_at)",
        copies.map((c) => [
          c.id,
          batchId,
          JSON.stringify(c.recipients),
          c.action,
          c.file,
          c.headerBytes,
          JSON.stringify(c.detail),
          c.password,
          now,
        ]),
      ),
    );
    await insertAudit(writer, audit, now);
  });
}

/** Marks password notices queued, inside the transaction open on `db`. */
export async function markPasswordsNoticed(db: Db, copyIds: string[], now: number): Promise<void> {
  if (!copyIds.length) return;
  await db.run(`UPDATE copies SET password_noticed_at = ? WHERE id IN (${placeholders(copyIds.length)})`, [
    now,
    ...copyIds,
  ]);
}

/** The files of the copies recorded for these messages (read in chunks under SQLite's variable limit). */
export async function copyFilesOf(db: Db, messageIds: string[]): Promise<Set<string>> {
  const files = new Set<string>();
  for (let start = 0; start < messageIds.length; start += 500) {
    const chunk = messageIds.slice(start, start + 500);
    const rows = await db.all<{ file: string }>(
      `SELECT c.file FROM copies c JOIN batches b ON b.id = c.batch_id
       WHERE b.message_id IN (${placeholders(chunk.length)}) AND c.file IS NOT NULL`,
      chunk,
    );
    for (const r of rows) files.add(r.file);
  }
  return files;
}
