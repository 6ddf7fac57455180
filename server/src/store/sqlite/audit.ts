// The audit trail: one way to write its rows, whether inside another part's transaction or as
// statements of one execTransaction.
import type { Db, SqlStatement } from "../db.js";
import type { AuditEntry, AuditRecord } from "../types.js";
import { deleteSome, insertsAt, runStatements, type WrittenAt } from "./sql.js";

/** The INSERTs that record every set of entries at its time. */
export function auditInserts(sets: WrittenAt<AuditEntry>[]): SqlStatement[] {
  return insertsAt("INSERT INTO audit (at, actor, action, message_id, detail)", sets, (e, at) => [
    at,
    e.actor,
    e.action,
    e.messageId ?? null,
    JSON.stringify(e.detail ?? {}),
  ]);
}

/** Records `entries` at `now` inside the transaction open on `db`. */
export function insertAudit(db: Db, entries: AuditEntry[], now: number): Promise<void> {
  return runStatements(db, auditInserts([{ items: entries, at: now }]));
}

export function withDetail(entry: AuditEntry, more: Record<string, unknown>): AuditEntry {
  return { ...entry, detail: { ...entry.detail, ...more } };
}

export class AuditLog {
  constructor(
    private readonly writer: Db,
    private readonly reader: Db,
  ) {}

  async audit(entries: AuditEntry[]): Promise<void> {
    await this.writer.transaction(() => insertAudit(this.writer, entries, Date.now()));
  }

  async listAudit(filter: { messageId?: string; limit: number }): Promise<AuditRecord[]> {
    const rows = await this.reader.all<{
      id: number;
      at: number;
      actor: string;
      action: string;
      message_id: string | null;
      detail: string;
    }>(
      `SELECT * FROM audit ${filter.messageId ? "WHERE message_id = ?" : ""} ORDER BY id DESC LIMIT ?`,
      filter.messageId ? [filter.messageId, filter.limit] : [filter.limit],
    );
    return rows.map((r) => ({
      id: r.id,
      at: r.at,
      actor: r.actor,
      action: r.action,
      messageId: r.message_id,
      detail: JSON.parse(r.detail) as Record<string, unknown>,
    }));
  }

  purgeAudit(before: number, limit: number): Promise<number> {
    return deleteSome(
      this.writer,
      "DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at <= ? LIMIT ?)",
      [before, limit],
    );
  }
}
