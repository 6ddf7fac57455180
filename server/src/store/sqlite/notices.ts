// Notices to senders and approvers: their one write path, the claims of the notice sender, and
// their purge.
import type { Language } from "@sendguard/shared";
import type { Db, SqlStatement } from "../db.js";
import type { AuditEntry, NewNotice, NoticeRecord, NoticeResult } from "../types.js";
import { insertAudit } from "./audit.js";
import { deleteSome, insertsAt, placeholders, runStatements, type WrittenAt } from "./sql.js";

/** The INSERTs that queue every set of notices at its time (created then, and first due then). */
export function noticeInserts(sets: WrittenAt<NewNotice>[]): SqlStatement[] {
  return insertsAt(
    "INSERT INTO notices (kind, message_id, recipient, language, data, next_at, created_at)",
    sets,
    (n, at) => [
      n.kind,
      n.messageId,
      n.recipient,
      n.language,
      JSON.stringify(n.data ?? {}),
      n.dueAt ?? at,
      at,
    ],
  );
}

/** Queues `notices` at `now` inside the transaction open on `db`. */
export function insertNotices(db: Db, notices: NewNotice[], now: number): Promise<void> {
  return runStatements(db, noticeInserts([{ items: notices, at: now }]));
}

/** Drops the notices not yet sent about `messageIds`, inside the transaction open on `db`. */
export async function deletePendingNotices(db: Db, messageIds: string[]): Promise<void> {
  await db.run(
    `DELETE FROM notices WHERE status = 'pending' AND message_id IN (${placeholders(messageIds.length)})`,
    messageIds,
  );
}

/** Frees the notices a previous process had claimed, inside the transaction open on `db`. */
export async function releaseNoticeLeases(db: Db): Promise<void> {
  await db.run("UPDATE notices SET leased = 0 WHERE leased = 1");
}

/**
 * A download code is in its notice's data only until the mail is sent (or given up): the row stays
 * for the record (retention), the code does not, so a copy of the database holds no live code.
 */
const FORGET_SECRETS = "data = CASE kind WHEN 'download_code' THEN json_remove(data, '$.code') ELSE data END";

export class Notices {
  constructor(private readonly writer: Db) {}

  async recordRejection(audit: AuditEntry, notices: NewNotice[]): Promise<void> {
    const now = Date.now();
    await this.writer.transaction(async () => {
      await insertNotices(this.writer, notices, now);
      await insertAudit(this.writer, [audit], now);
    });
  }

  async queueNotices(notices: NewNotice[], now: number): Promise<void> {
    await this.writer.transaction(() => insertNotices(this.writer, notices, now));
  }

  async claimDueNotices(now: number, limit: number): Promise<NoticeRecord[]> {
    // One statement, so its own transaction: no BEGIN and COMMIT round trips on the notice path.
    const rows = await this.writer.serial(() =>
      this.writer.all<{
        id: number;
        kind: NoticeRecord["kind"];
        message_id: string;
        recipient: string;
        language: Language;
        data: string;
        attempts: number;
        created_at: number;
      }>(
        `UPDATE notices SET leased = 1, attempts = attempts + 1
         WHERE id IN (SELECT id FROM notices WHERE status = 'pending' AND leased = 0 AND next_at <= ?
                      ORDER BY next_at LIMIT ?)
         RETURNING *`,
        [now, limit],
      ),
    );
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      messageId: r.message_id,
      recipient: r.recipient,
      language: r.language,
      data: JSON.parse(r.data) as Record<string, unknown>,
      attempts: r.attempts,
      createdAt: r.created_at,
    }));
  }

  async finishNotices(results: NoticeResult[]): Promise<void> {
    // Sent is by far the common outcome: one statement for all of them.
    const sent = results.filter((r) => r.error === null).map((r) => r.id);
    const others = results.flatMap(({ id, retryAt, error }): SqlStatement[] => {
      if (error === null) return [];
      return [
        retryAt === null
          ? {
              sql: `UPDATE notices SET status = 'failed', leased = 0, last_error = ?, ${FORGET_SECRETS} WHERE id = ?`,
              params: [error, id],
            }
          : {
              sql: "UPDATE notices SET leased = 0, next_at = ?, last_error = ? WHERE id = ?",
              params: [retryAt, error, id],
            },
      ];
    });
    await this.writer.execTransaction([
      ...(sent.length
        ? [
            {
              sql: `UPDATE notices SET status = 'sent', leased = 0, last_error = NULL, ${FORGET_SECRETS} WHERE id IN (${placeholders(sent.length)})`,
              params: sent,
            },
          ]
        : []),
      ...others,
    ]);
  }

  purgeNotices(createdBefore: number, limit: number): Promise<number> {
    return deleteSome(
      this.writer,
      `DELETE FROM notices WHERE id IN
         (SELECT id FROM notices WHERE status <> 'pending' AND created_at <= ? LIMIT ?)`,
      [createdBefore, limit],
    );
  }
}
