// Messages and their delivery batches: intake, the hold and approval decisions, the scheduler's
// claims and results, and the retention deletes of bodies and messages.
import type { Language, MessageStatus } from "@sendguard/shared";
import type { Db, SqlStatement } from "../db.js";
import { aggregateStatus, FINAL_STATUSES, type BatchTally } from "../status.js";
import type {
  AttemptRecord,
  CopyDeliveredRecord,
  DueTimes,
  BatchRecord,
  HeldAction,
  HeldActionResult,
  HeaderRewrite,
  MessageFilter,
  MessageRecord,
  MissingBody,
  NewMessage,
  NewNotice,
  CopyRecord,
  RecipientRecord,
} from "../types.js";
import { auditInserts, insertAudit } from "./audit.js";
import { loadCopies, markPasswordsNoticed } from "./copies.js";
import { deletePendingNotices, insertNotices, noticeInserts, releaseNoticeLeases } from "./notices.js";
import { deleteSome, insertStatements, placeholders } from "./sql.js";

interface MessageRow {
  id: string;
  message_id: string;
  user_id: number | null;
  sender: string;
  from_header: string;
  subject: string;
  size: number;
  header_bytes: number;
  added_headers: string;
  language: Language;
  status: MessageStatus;
  source: "smtp" | "http";
  created_at: number;
  header_rewrite: string;
  approval_deadline: number | null;
  approval_timeout_action: "deny" | "approve" | null;
  matched_rules: string;
  body_in_db: number;
  body_deleted_at: number | null;
  body_missing_at: number | null;
}

interface BatchRow {
  id: string;
  message_id: string;
  name: string;
  attachment_action: BatchRecord["attachmentAction"];
  status: BatchRecord["status"];
  release_at: number;
  next_at: number;
  attempts: number;
  first_attempt_at: number | null;
  last_error: string | null;
}

const toBatch = (r: BatchRow, recipients: RecipientRecord[], copies: CopyRecord[]): BatchRecord => ({
  id: r.id,
  name: r.name,
  attachmentAction: r.attachment_action,
  status: r.status,
  releaseAt: r.release_at,
  nextAt: r.next_at,
  attempts: r.attempts,
  firstAttemptAt: r.first_attempt_at,
  lastError: r.last_error,
  recipients,
  copies,
});

const toMessage = (r: MessageRow, batches: BatchRecord[]): MessageRecord => ({
  id: r.id,
  messageId: r.message_id,
  userId: r.user_id,
  sender: r.sender,
  fromHeader: r.from_header,
  subject: r.subject,
  size: r.size,
  headerBytes: r.header_bytes,
  addedHeaders: r.added_headers,
  language: r.language,
  status: r.status,
  source: r.source,
  createdAt: r.created_at,
  headerRewrite: JSON.parse(r.header_rewrite) as HeaderRewrite,
  approvalDeadline: r.approval_deadline,
  approvalTimeoutAction: r.approval_timeout_action,
  matchedRules: JSON.parse(r.matched_rules) as string[],
  bodyInDatabase: r.body_in_db === 1,
  bodyDeletedAt: r.body_deleted_at,
  bodyMissingAt: r.body_missing_at,
  batches,
});

/**
 * The SELECT behind listMessages (GET /api/v1/messages, the Thunderbird popup's poll), on its own
 * so that the listing benchmark can show its query plan.
 */
export function listingQuery(filter: MessageFilter): SqlStatement {
  const where: string[] = [];
  const params: unknown[] = [];
  const status = filter.status ? " AND status = ?" : "";
  const statusParam = filter.status ? [filter.status] : [];
  if (filter.approver !== undefined) {
    where.push(`id IN (SELECT message_id FROM approvers WHERE approver = ?)${status}`);
    params.push(filter.approver, ...statusParam);
  } else if (filter.userId !== undefined && filter.sender !== undefined) {
    // The user's messages by account or by address (from a trusted network, or before the account
    // existed). Written as one OR, SQLite walks messages_by_status in created_at order instead
    // (no sort, so it looks cheaper): every user's held messages, a scan that grows with the table.
    // As a UNION each arm searches its own index (user, or sender without case, then status), and
    // only this user's rows are sorted (bench/listing.ts shows the plans).
    where.push(`rowid IN (SELECT rowid FROM messages WHERE user_id = ?${status}
       UNION SELECT rowid FROM messages WHERE sender = ? COLLATE NOCASE${status})`);
    params.push(filter.userId, ...statusParam, filter.sender, ...statusParam);
  } else if (filter.userId !== undefined) {
    where.push(`user_id = ?${status}`);
    params.push(filter.userId, ...statusParam);
  } else if (filter.status) {
    where.push("status = ?");
    params.push(filter.status);
  }
  return {
    sql: `SELECT * FROM messages ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
     ORDER BY created_at DESC LIMIT ?`,
    params: [...params, filter.limit],
  };
}

export class Messages {
  constructor(
    private readonly writer: Db,
    private readonly reader: Db,
  ) {}

  /**
   * One multi-row INSERT per table for the whole batch (under load a batch holds dozens of messages,
   * and a statement per row cost more CPU than the rows themselves), all in one call into SQLite:
   * this commit is what every acknowledgement waits for.
   */
  async insertMessages(batch: NewMessage[]): Promise<void> {
    const status = (m: NewMessage) => (m.approvers.length ? "pending_approval" : "held");
    await this.writer.execTransaction([
      ...insertStatements(
        `INSERT INTO messages (id, message_id, user_id, sender, from_header, subject, size, header_bytes,
           added_headers, language, status, source, created_at, header_rewrite, approval_deadline,
           approval_timeout_action, matched_rules, body_in_db, spool_acknowledged)`,
        batch.map((m) => [
          m.id,
          m.messageId,
          m.userId,
          m.sender,
          m.fromHeader,
          m.subject,
          m.size,
          m.headerBytes,
          m.addedHeaders,
          m.language,
          status(m),
          m.source,
          m.createdAt,
          JSON.stringify(m.headerRewrite),
          m.approvalDeadline,
          m.approvalTimeoutAction,
          JSON.stringify(m.matchedRules),
          m.body ? 1 : 0,
          // A body stored with its rows is durable with this very commit, so the marker is set
          // here; only spooled messages need the second write (markSpoolAcknowledged), and a
          // batch of small ones (the common case) costs no more than before.
          m.body ? 1 : 0,
        ]),
      ),
      ...insertStatements(
        "INSERT INTO bodies (message_id, data)",
        batch.flatMap((m) => (m.body ? [[m.id, m.body]] : [])),
      ),
      ...insertStatements(
        "INSERT OR IGNORE INTO approvers (message_id, approver)",
        batch.flatMap((m) => m.approvers.map((a) => [m.id, a])),
      ),
      ...insertStatements(
        "INSERT INTO batches (id, message_id, name, attachment_action, status, release_at, next_at)",
        batch.flatMap((m) =>
          m.batches.map((g) => [g.id, m.id, g.name, g.attachmentAction, status(m), g.releaseAt, g.releaseAt]),
        ),
      ),
      ...insertStatements(
        "INSERT OR IGNORE INTO recipients (batch_id, address)",
        batch.flatMap((m) => m.batches.flatMap((g) => g.recipients.map((a) => [g.id, a]))),
      ),
      ...noticeInserts(batch.map((m) => ({ items: m.notices, at: m.createdAt }))),
      ...auditInserts(batch.map((m) => ({ items: m.audit, at: m.createdAt }))),
    ]);
  }

  private async loadBatches(db: Db, messageIds: string[]): Promise<Map<string, BatchRecord[]>> {
    const byMessage = new Map<string, BatchRecord[]>();
    if (!messageIds.length) return byMessage;
    const batches = await db.all<BatchRow>(
      `SELECT * FROM batches WHERE message_id IN (${placeholders(messageIds.length)}) ORDER BY release_at, name`,
      messageIds,
    );
    const recipients = batches.length
      ? await db.all<RecipientRecord & { batch_id: string }>(
          `SELECT batch_id, address, status, response FROM recipients
           WHERE batch_id IN (${placeholders(batches.length)}) ORDER BY rowid`,
          batches.map((g) => g.id),
        )
      : [];
    const byBatch = new Map<string, RecipientRecord[]>();
    for (const { batch_id, ...r } of recipients) {
      byBatch.set(batch_id, [...(byBatch.get(batch_id) ?? []), r]);
    }
    const copies = await loadCopies(
      db,
      batches.map((g) => g.id),
    );
    for (const g of batches) {
      const list = byMessage.get(g.message_id) ?? [];
      list.push(toBatch(g, byBatch.get(g.id) ?? [], copies.get(g.id) ?? []));
      byMessage.set(g.message_id, list);
    }
    return byMessage;
  }

  private async withBatches(db: Db, rows: MessageRow[]): Promise<MessageRecord[]> {
    const batches = await this.loadBatches(
      db,
      rows.map((r) => r.id),
    );
    return rows.map((r) => toMessage(r, batches.get(r.id) ?? []));
  }

  async message(id: string): Promise<MessageRecord | undefined> {
    const rows = await this.reader.all<MessageRow>("SELECT * FROM messages WHERE id = ?", [id]);
    return (await this.withBatches(this.reader, rows))[0];
  }

  async unfinishedSpooled(): Promise<{ id: string; acknowledged: boolean }[]> {
    const rows = await this.reader.all<{ id: string; spool_acknowledged: number }>(
      `SELECT id, spool_acknowledged FROM messages WHERE body_in_db = 0 AND id IN
         (SELECT message_id FROM batches WHERE status IN ('pending_approval','held','releasing'))`,
    );
    return rows.map((r) => ({ id: r.id, acknowledged: r.spool_acknowledged === 1 }));
  }

  async markSpoolAcknowledged(ids: string[]): Promise<void> {
    if (!ids.length) return;
    // One statement, its own transaction: a group commit's batch is at most 500 messages.
    await this.writer.serial(() =>
      this.writer.run(
        `UPDATE messages SET spool_acknowledged = 1 WHERE id IN (${placeholders(ids.length)})`,
        ids,
      ),
    );
  }

  async markBodiesMissing(missing: MissingBody[], reason: string, now: number): Promise<void> {
    if (!missing.length) return;
    const open = "status IN ('pending_approval','held','releasing')";
    await this.writer.transaction(async () => {
      for (const m of missing) {
        await this.writer.run(
          "UPDATE messages SET body_missing_at = coalesce(body_missing_at, ?) WHERE id = ?",
          [now, m.messageId],
        );
        // Recipients a retry batch already delivered to stay sent.
        await this.writer.run(
          `UPDATE recipients SET status = 'failed', response = ? WHERE status = 'pending'
             AND batch_id IN (SELECT id FROM batches WHERE message_id = ? AND ${open})`,
          [reason, m.messageId],
        );
        await this.writer.run(
          `UPDATE batches SET status = 'failed', leased = 0, last_error = ? WHERE message_id = ? AND ${open}`,
          [reason, m.messageId],
        );
        await this.refreshStatus(m.messageId, now);
      }
      await deletePendingNotices(
        this.writer,
        missing.map((m) => m.messageId),
      );
      await insertNotices(
        this.writer,
        missing.flatMap((m) => m.notices),
        now,
      );
      await insertAudit(
        this.writer,
        missing.flatMap((m) => m.audit),
        now,
      );
    });
  }

  async messageBody(id: string): Promise<Buffer | undefined> {
    const row = await this.reader.get<{ data: Buffer }>("SELECT data FROM bodies WHERE message_id = ?", [id]);
    return row?.data;
  }

  async forgetMessages(ids: string[], reason: string): Promise<void> {
    if (!ids.length) return;
    const now = Date.now();
    await this.writer.transaction(async () => {
      for (let start = 0; start < ids.length; start += 10_000) {
        const chunk = ids.slice(start, start + 10_000);
        await deletePendingNotices(this.writer, chunk);
        // Groups, recipients and approvers go with their message (ON DELETE CASCADE).
        await this.writer.run(`DELETE FROM messages WHERE id IN (${placeholders(chunk.length)})`, chunk);
      }
      await insertAudit(
        this.writer,
        ids.map((id) => ({ actor: "system", action: "forgotten", messageId: id, detail: { reason } })),
        now,
      );
    });
  }

  async messages(ids: string[]): Promise<MessageRecord[]> {
    if (!ids.length) return [];
    const rows = await this.reader.all<MessageRow>(
      `SELECT * FROM messages WHERE id IN (${placeholders(ids.length)})`,
      ids,
    );
    return this.withBatches(this.reader, rows);
  }

  async messagesByMessageId(messageId: string): Promise<MessageRecord[]> {
    const rows = await this.reader.all<MessageRow>(
      "SELECT * FROM messages WHERE message_id = ? ORDER BY created_at DESC LIMIT 50",
      [messageId],
    );
    return this.withBatches(this.reader, rows);
  }

  async listMessages(filter: MessageFilter): Promise<MessageRecord[]> {
    const { sql, params } = listingQuery(filter);
    return this.withBatches(this.reader, await this.reader.all<MessageRow>(sql, params));
  }

  /**
   * Recomputes messages.status from its batches, and when it became final (`now`, kept from the
   * first time); must run inside a writer transaction.
   */
  private async refreshStatus(messageId: string, now: number): Promise<MessageStatus> {
    const tallies = await this.writer.all<BatchTally>(
      `SELECT g.status,
         (SELECT count(*) FROM recipients r WHERE r.batch_id = g.id AND r.status = 'sent') AS sent,
         (SELECT count(*) FROM recipients r WHERE r.batch_id = g.id AND r.status = 'failed') AS failed
       FROM batches g WHERE g.message_id = ?`,
      [messageId],
    );
    const status = aggregateStatus(tallies);
    await this.writer.run(
      "UPDATE messages SET status = ?, final_at = CASE WHEN ? THEN coalesce(final_at, ?) END WHERE id = ?",
      [status, FINAL_STATUSES.includes(status) ? 1 : 0, now, messageId],
    );
    return status;
  }

  async actOnHeld(
    id: string,
    action: HeldAction,
    actor: string,
    now: number,
    batchId: string | null = null,
  ): Promise<HeldActionResult> {
    // One batch (e.g. only the external copies) or, with batchId null, every batch of the message.
    const only = "AND (?1 IS NULL OR id = ?1)";
    // Held, awaiting approval, or waiting for its next retry: not leased, so no delivery is in
    // flight, and claimDueBatches runs in this same writer, so neither can overtake the other.
    const waiting = "(status IN ('held','pending_approval') OR (status = 'releasing' AND leased = 0))";
    return this.writer.transaction(async () => {
      const change =
        action === "discard"
          ? await this.writer.run(
              `UPDATE batches SET status = 'discarded', next_at = ?2 WHERE message_id = ?3 AND ${waiting} ${only}`,
              [batchId, now, id],
            )
          : await this.writer.run(
              `UPDATE batches SET next_at = ?2
               WHERE message_id = ?3 AND status IN ('held','releasing') AND leased = 0 AND next_at > ?2 ${only}`,
              [batchId, now, id],
            );
      if (action === "discard" && change.changes) {
        // Recipients a retry batch already delivered to stay sent.
        await this.writer.run(
          `UPDATE recipients SET status = 'discarded' WHERE status = 'pending'
             AND batch_id IN (SELECT id FROM batches WHERE message_id = ? AND status = 'discarded')`,
          [id],
        );
      }
      const status = await this.refreshStatus(id, now);
      if (change.changes) {
        await insertAudit(
          this.writer,
          [
            {
              actor,
              action,
              messageId: id,
              detail: { groups: change.changes, ...(batchId ? { group: batchId } : {}) },
            },
          ],
          now,
        );
        return { outcome: "ok", status };
      }
      const open = await this.writer.get<{ leased: number; due: number }>(
        `SELECT count(*) FILTER (WHERE leased = 1) AS leased, count(*) FILTER (WHERE leased = 0) AS due
         FROM batches WHERE message_id = ?2 AND status IN ('held','releasing') ${only}`,
        [batchId, id],
      );
      if (open && open.leased > 0) return { outcome: "releasing", status };
      // Releasing a batch that is already due is not an error: it is on its way.
      if (action === "release" && open && open.due > 0) return { outcome: "ok", status };
      return { outcome: "final", status };
    });
  }

  async decideApproval(
    id: string,
    approve: boolean,
    actor: string,
    now: number,
    notices: NewNotice[],
    detail: Record<string, unknown>,
  ): Promise<HeldActionResult> {
    return this.writer.transaction(async () => {
      const change = approve
        ? await this.writer.run(
            `UPDATE batches SET status = 'held', next_at = max(release_at, ?)
             WHERE message_id = ? AND status = 'pending_approval'`,
            [now, id],
          )
        : await this.writer.run(
            "UPDATE batches SET status = 'approval_denied' WHERE message_id = ? AND status = 'pending_approval'",
            [id],
          );
      const status = await this.refreshStatus(id, now);
      if (!change.changes) return { outcome: "final", status };
      await insertNotices(this.writer, notices, now);
      await insertAudit(
        this.writer,
        [{ actor, action: approve ? "approved" : "denied", messageId: id, detail }],
        now,
      );
      return { outcome: "ok", status };
    });
  }

  async expiredApprovals(now: number): Promise<string[]> {
    const rows = await this.reader.all<{ id: string }>(
      "SELECT id FROM messages WHERE status = 'pending_approval' AND approval_deadline <= ? LIMIT 500",
      [now],
    );
    return rows.map((r) => r.id);
  }

  async isApprover(messageId: string, address: string): Promise<boolean> {
    const row = await this.reader.get<{ n: number }>(
      "SELECT count(*) AS n FROM approvers WHERE message_id = ? AND approver = ?",
      [messageId, address],
    );
    return (row?.n ?? 0) > 0;
  }

  async resetLeases(): Promise<void> {
    await this.writer.transaction(async () => {
      await this.writer.run("UPDATE batches SET leased = 0 WHERE leased = 1");
      await releaseNoticeLeases(this.writer);
    });
  }

  async claimDueBatches(
    now: number,
    limit: number,
  ): Promise<{ message: MessageRecord; batch: BatchRecord }[]> {
    return this.writer.transaction(async () => {
      const claimed = await this.writer.all<BatchRow>(
        `UPDATE batches SET leased = 1, status = 'releasing', attempts = attempts + 1,
           first_attempt_at = coalesce(first_attempt_at, ?)
         WHERE id IN (SELECT id FROM batches WHERE status IN ('held','releasing') AND leased = 0 AND next_at <= ?
                      ORDER BY next_at LIMIT ?)
         RETURNING *`,
        [now, now, limit],
      );
      if (!claimed.length) return [];
      const messageIds = [...new Set(claimed.map((g) => g.message_id))];
      for (const id of messageIds) await this.refreshStatus(id, now);
      const rows = await this.writer.all<MessageRow>(
        `SELECT * FROM messages WHERE id IN (${placeholders(messageIds.length)})`,
        messageIds,
      );
      const messages = new Map((await this.withBatches(this.writer, rows)).map((m) => [m.id, m]));
      return claimed.map((g) => {
        const message = messages.get(g.message_id) as MessageRecord;
        const batch = message.batches.find((x) => x.id === g.id) as BatchRecord;
        return { message, batch };
      });
    });
  }

  async recordAttempts(attempts: AttemptRecord[]): Promise<void> {
    await this.writer.transaction(async () => {
      for (const a of attempts) {
        for (const r of a.results) {
          const status = r.outcome === "retry" ? (a.retryAt === null ? "failed" : "pending") : r.outcome;
          await this.writer.run(
            "UPDATE recipients SET status = ?, response = ? WHERE batch_id = ? AND address = ? AND status = 'pending'",
            [status, r.response, a.batchId, r.address],
          );
        }
        const pending = await this.writer.get<{ n: number }>(
          "SELECT count(*) AS n FROM recipients WHERE batch_id = ? AND status = 'pending'",
          [a.batchId],
        );
        const lastError = a.results.find((r) => r.outcome !== "sent")?.response ?? null;
        if (pending && pending.n > 0 && a.retryAt !== null) {
          await this.writer.run("UPDATE batches SET leased = 0, next_at = ?, last_error = ? WHERE id = ?", [
            a.retryAt,
            lastError,
            a.batchId,
          ]);
        } else {
          const failed = await this.writer.get<{ n: number }>(
            "SELECT count(*) AS n FROM recipients WHERE batch_id = ? AND status = 'failed'",
            [a.batchId],
          );
          await this.writer.run("UPDATE batches SET leased = 0, status = ?, last_error = ? WHERE id = ?", [
            failed && failed.n > 0 ? "failed" : "sent",
            lastError,
            a.batchId,
          ]);
        }
        await this.refreshStatus(a.messageId, a.now);
        await insertNotices(this.writer, a.notices, a.now);
        await markPasswordsNoticed(this.writer, a.passwordsNoticed ?? [], a.now);
        await insertAudit(this.writer, a.audit, a.now);
      }
    });
  }

  async recordCopyDelivered(record: CopyDeliveredRecord): Promise<void> {
    await this.writer.transaction(async () => {
      for (const r of record.sent) {
        await this.writer.run(
          "UPDATE recipients SET status = 'sent', response = ? WHERE batch_id = ? AND address = ? AND status = 'pending'",
          [r.response, record.batchId, r.address],
        );
      }
      await insertNotices(this.writer, record.notices, record.now);
      await markPasswordsNoticed(this.writer, record.passwordsNoticed, record.now);
    });
  }

  async dueTimes(): Promise<DueTimes> {
    const row = await this.reader.get<DueTimes>(
      `SELECT (SELECT min(next_at) FROM batches WHERE status IN ('held','releasing') AND leased = 0) AS batches,
              (SELECT min(next_at) FROM notices WHERE status = 'pending' AND leased = 0) AS notices,
              (SELECT min(approval_deadline) FROM messages WHERE status = 'pending_approval') AS approvals`,
    );
    return row ?? { batches: null, notices: null, approvals: null };
  }

  async queueDepth(): Promise<{ held: number; releasing: number; notices: number }> {
    const row = await this.reader.get<{ held: number; releasing: number; notices: number }>(
      `SELECT (SELECT count(*) FROM batches WHERE status = 'held') AS held,
              (SELECT count(*) FROM batches WHERE status = 'releasing') AS releasing,
              (SELECT count(*) FROM notices WHERE status = 'pending') AS notices`,
    );
    return row ?? { held: 0, releasing: 0, notices: 0 };
  }

  async deleteFinishedBodies(
    finalBefore: number,
    now: number,
    limit: number,
  ): Promise<{ deleted: number; spooled: string[] }> {
    return this.writer.transaction(async () => {
      // final_at is set only with a final status; the batch check guards against any path that
      // ever sets one while a batch is still open.
      const rows = await this.writer.all<{ id: string; body_in_db: number; has_copies: number }>(
        `SELECT id, body_in_db,
                EXISTS (SELECT 1 FROM copies c JOIN batches b ON b.id = c.batch_id
                        WHERE b.message_id = m.id AND c.file IS NOT NULL) AS has_copies
         FROM messages m
         WHERE body_deleted_at IS NULL AND final_at IS NOT NULL AND final_at <= ?
           AND NOT EXISTS (SELECT 1 FROM batches g WHERE g.message_id = m.id
                           AND g.status IN ('pending_approval','held','releasing'))
         LIMIT ?`,
        [finalBefore, limit],
      );
      if (!rows.length) return { deleted: 0, spooled: [] };
      const ids = rows.map((r) => r.id);
      const list = placeholders(ids.length);
      await this.writer.run(`DELETE FROM bodies WHERE message_id IN (${list})`, ids);
      await this.writer.run(`UPDATE messages SET body_deleted_at = ? WHERE id IN (${list})`, [now, ...ids]);
      const withFiles = rows.filter((r) => r.body_in_db === 0 || r.has_copies === 1);
      return { deleted: ids.length, spooled: withFiles.map((r) => r.id) };
    });
  }

  async spooledBodiesKept(ids: string[]): Promise<Set<string>> {
    const kept = new Set<string>();
    for (let start = 0; start < ids.length; start += 500) {
      const chunk = ids.slice(start, start + 500);
      const rows = await this.reader.all<{ id: string }>(
        `SELECT id FROM messages WHERE id IN (${placeholders(chunk.length)})
           AND body_in_db = 0 AND body_deleted_at IS NULL`,
        chunk,
      );
      for (const r of rows) kept.add(r.id);
    }
    return kept;
  }

  purgeMessages(finalBefore: number, limit: number): Promise<number> {
    // Groups, recipients, approvers and a left-over bodies row go with their message (ON DELETE CASCADE).
    // Notices have no foreign key to it: a message with one still to send (a bounce notice retrying)
    // stays until that one is sent or given up, as the notice sender drops a notice whose message is
    // gone. Sent and given-up notices are purged on their own (purgeNotices).
    return deleteSome(
      this.writer,
      `DELETE FROM messages WHERE id IN
         (SELECT id FROM messages m WHERE final_at IS NOT NULL AND final_at <= ? AND body_deleted_at IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM notices n WHERE n.message_id = m.id AND n.status = 'pending')
          LIMIT ?)`,
      [finalBefore, limit],
    );
  }
}
