// SQLite implementation of Store: WAL with synchronous=FULL, so a COMMIT is on disk when it returns.
// One connection writes (serialised transactions), another reads without waiting for writers.
import type { Language, MessageStatus } from "@sendguard/shared";
import { newId } from "../secrets.js";
import { Db, type SqlStatement } from "./db.js";
import { migrate } from "./migrations.js";
import { aggregateStatus, FINAL_STATUSES, type GroupTally } from "./status.js";
import type {
  AttemptRecord,
  AuditEntry,
  AuditRecord,
  DueTimes,
  GroupRecord,
  HeldAction,
  HeldActionResult,
  HeaderRewrite,
  PolicyRecord,
  MessageFilter,
  MessageRecord,
  NewMessage,
  NewNotice,
  NewUser,
  NoticeRecord,
  NoticeResult,
  RecipientRecord,
  Store,
  TokenKind,
  TokenOwner,
  TokenRecord,
  UserRecord,
} from "./types.js";

interface UserRow {
  id: number;
  email: string;
  password_hash: string;
  role: UserRecord["role"];
  language: Language | null;
  hold_minutes: number | null;
  aliases: string;
  groups: string;
  manager: string | null;
  created_at: number;
  disabled_at: number | null;
}

interface TokenRow {
  id: string;
  kind: TokenKind;
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
}

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
}

interface GroupRow {
  id: string;
  message_id: string;
  name: string;
  status: GroupRecord["status"];
  release_at: number;
  next_at: number;
  attempts: number;
  first_attempt_at: number | null;
  last_error: string | null;
}

const toUser = (r: UserRow): UserRecord => ({
  id: r.id,
  email: r.email,
  passwordHash: r.password_hash,
  role: r.role,
  language: r.language,
  holdMinutes: r.hold_minutes,
  aliases: JSON.parse(r.aliases) as string[],
  groups: JSON.parse(r.groups) as string[],
  manager: r.manager,
  createdAt: r.created_at,
  disabledAt: r.disabled_at,
});

const toGroup = (r: GroupRow, recipients: RecipientRecord[]): GroupRecord => ({
  id: r.id,
  name: r.name,
  status: r.status,
  releaseAt: r.release_at,
  nextAt: r.next_at,
  attempts: r.attempts,
  firstAttemptAt: r.first_attempt_at,
  lastError: r.last_error,
  recipients,
});

const toMessage = (r: MessageRow, groups: GroupRecord[]): MessageRecord => ({
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
  groups,
});

/** How precisely a token's last use is recorded: a write per request would cost an fsync each. */
const TOKEN_USE_RESOLUTION_MS = 3600_000;

function withDetail(entry: AuditEntry, more: Record<string, unknown>): AuditEntry {
  return { ...entry, detail: { ...entry.detail, ...more } };
}

/** Addresses whose recent userByEmail answer is kept; past this the memory is simply cleared. */
const RECENT_USERS = 1000;

function placeholders(n: number): string {
  return Array.from({ length: n }, () => "?").join(",");
}

/**
 * `prefix VALUES (…),(…)…`, in chunks that stay under SQLite's limit on bound variables (and, run
 * by execTransaction, keep each statement's text bounded).
 */
function insertStatements(prefix: string, rows: unknown[][]): SqlStatement[] {
  const width = rows[0]?.length ?? 0;
  if (!width) return [];
  const perStatement = Math.max(1, Math.floor(30_000 / width));
  const tuple = `(${placeholders(width)})`;
  const statements: SqlStatement[] = [];
  for (let start = 0; start < rows.length; start += perStatement) {
    const chunk = rows.slice(start, start + perStatement);
    statements.push({ sql: `${prefix} VALUES ${chunk.map(() => tuple).join(",")}`, params: chunk.flat() });
  }
  return statements;
}

export class SqliteStore implements Store {
  /** Recent userByEmail answers (for `maxAgeMs`) and the user writes they were read after. */
  private readonly recentUsers = new Map<string, { at: number; user: UserRecord | undefined }>();
  private userWrites = 0;

  private constructor(
    private readonly writer: Db,
    private readonly reader: Db,
  ) {}

  static async open(file: string): Promise<SqliteStore> {
    const writer = await Db.open(file, false);
    await writer.exec(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;",
    );
    await migrate(writer);
    const reader = await Db.open(file, true);
    await reader.exec("PRAGMA busy_timeout=5000; PRAGMA query_only=ON;");
    return new SqliteStore(writer, reader);
  }

  async close(): Promise<void> {
    await this.reader.close();
    await this.writer.close();
  }

  // ── users and tokens ──────────────────────────────────────────────────────────────────────

  async addUser(user: NewUser): Promise<UserRecord> {
    const now = Date.now();
    const { lastID } = await this.writeUsers(() =>
      this.writer.run(
        `INSERT INTO users (email, password_hash, role, language, hold_minutes, aliases, groups, manager, created_at)
         VALUES (?,?,?,?,?,?,?,?,?)`,
        [
          user.email,
          user.passwordHash,
          user.role,
          user.language,
          user.holdMinutes,
          JSON.stringify(user.aliases),
          JSON.stringify(user.groups),
          user.manager,
          now,
        ],
      ),
    );
    return { ...user, id: lastID, createdAt: now, disabledAt: null };
  }

  async userByEmail(email: string, maxAgeMs = 0): Promise<UserRecord | undefined> {
    const now = Date.now();
    const recent = maxAgeMs > 0 ? this.recentUsers.get(email) : undefined;
    if (recent && now - recent.at < maxAgeMs) return recent.user;
    const writes = this.userWrites;
    const row = await this.reader.get<UserRow>("SELECT * FROM users WHERE email = ?", [email]);
    const user = row && toUser(row);
    // Not kept when a write of this process may have raced the read.
    if (maxAgeMs > 0 && writes === this.userWrites) {
      if (this.recentUsers.size >= RECENT_USERS) this.recentUsers.clear();
      this.recentUsers.set(email, { at: now, user });
    }
    return user;
  }

  /**
   * Every write to users goes through here. The recent answers are dropped before and after it, so
   * that a read which overlapped the write (and may have seen the old row) is not kept either.
   */
  private async writeUsers<T>(work: () => Promise<T>): Promise<T> {
    const forget = () => {
      this.userWrites++;
      this.recentUsers.clear();
    };
    forget();
    try {
      return await this.writer.transaction(work);
    } finally {
      forget();
    }
  }

  async userById(id: number): Promise<UserRecord | undefined> {
    const row = await this.reader.get<UserRow>("SELECT * FROM users WHERE id = ?", [id]);
    return row && toUser(row);
  }

  async listUsers(): Promise<UserRecord[]> {
    return (await this.reader.all<UserRow>("SELECT * FROM users ORDER BY email")).map(toUser);
  }

  async updateUser(
    id: number,
    change: Partial<Pick<UserRecord, "role" | "language" | "holdMinutes" | "aliases" | "groups" | "manager">>,
  ): Promise<void> {
    const columns: Record<string, unknown> = {};
    if (change.role !== undefined) columns.role = change.role;
    if (change.language !== undefined) columns.language = change.language;
    if (change.holdMinutes !== undefined) columns.hold_minutes = change.holdMinutes;
    if (change.aliases !== undefined) columns.aliases = JSON.stringify(change.aliases);
    if (change.groups !== undefined) columns.groups = JSON.stringify(change.groups);
    if (change.manager !== undefined) columns.manager = change.manager;
    const names = Object.keys(columns);
    if (!names.length) return;
    await this.writeUsers(() =>
      this.writer.run(`UPDATE users SET ${names.map((n) => `${n} = ?`).join(", ")} WHERE id = ?`, [
        ...Object.values(columns),
        id,
      ]),
    );
  }

  async setUserDisabled(id: number, disabled: boolean, audit: AuditEntry): Promise<boolean> {
    const now = Date.now();
    return this.writeUsers(async () => {
      // A second disable keeps the time of the first.
      const { changes } = await this.writer.run(
        "UPDATE users SET disabled_at = CASE WHEN ? THEN coalesce(disabled_at, ?) END WHERE id = ?",
        [disabled ? 1 : 0, now, id],
      );
      if (changes) await this.insertAudit([audit], now);
      return changes > 0;
    });
  }

  async deleteUser(id: number, audit: AuditEntry): Promise<boolean> {
    const now = Date.now();
    return this.writeUsers(async () => {
      const tokens = await this.writer.run("DELETE FROM tokens WHERE user_id = ?", [id]);
      const { changes } = await this.writer.run("DELETE FROM users WHERE id = ?", [id]);
      if (changes) await this.insertAudit([withDetail(audit, { tokensRevoked: tokens.changes })], now);
      return changes > 0;
    });
  }

  async setPasswordHash(
    id: number,
    passwordHash: string,
    keepTokenId: string | null,
    audit: AuditEntry,
  ): Promise<void> {
    const now = Date.now();
    await this.writeUsers(async () => {
      await this.writer.run("UPDATE users SET password_hash = ? WHERE id = ?", [passwordHash, id]);
      const tokens = await this.writer.run("DELETE FROM tokens WHERE user_id = ? AND id IS NOT ?", [
        id,
        keepTokenId,
      ]);
      await this.insertAudit([withDetail(audit, { tokensRevoked: tokens.changes })], now);
    });
  }

  async saveToken(
    hash: string,
    userId: number,
    kind: TokenKind,
    csrf: string | null,
    expiresAt: number | null,
  ): Promise<string> {
    const id = newId();
    await this.writer.transaction(() =>
      this.writer.run(
        "INSERT INTO tokens (token_hash, id, user_id, kind, csrf, created_at, expires_at) VALUES (?,?,?,?,?,?,?)",
        [hash, id, userId, kind, csrf, Date.now(), expiresAt],
      ),
    );
    return id;
  }

  async tokenOwner(hash: string, kind: TokenKind, now: number): Promise<TokenOwner | undefined> {
    const row = await this.reader.get<
      UserRow & { csrf: string | null; token_id: string; last_used_at: number | null }
    >(
      `SELECT u.*, t.csrf, t.id AS token_id, t.last_used_at FROM tokens t JOIN users u ON u.id = t.user_id
       WHERE t.token_hash = ? AND t.kind = ? AND (t.expires_at IS NULL OR t.expires_at > ?)
         AND u.disabled_at IS NULL`,
      [hash, kind, now],
    );
    if (!row) return undefined;
    if (row.last_used_at === null || now - row.last_used_at >= TOKEN_USE_RESOLUTION_MS) {
      await this.writer.serial(() =>
        this.writer.run("UPDATE tokens SET last_used_at = ? WHERE token_hash = ?", [now, hash]),
      );
    }
    return { user: toUser(row), tokenId: row.token_id, csrf: row.csrf };
  }

  async deleteToken(hash: string): Promise<void> {
    await this.writer.transaction(() => this.writer.run("DELETE FROM tokens WHERE token_hash = ?", [hash]));
  }

  async listTokens(userId: number, now: number): Promise<TokenRecord[]> {
    const rows = await this.reader.all<TokenRow>(
      `SELECT id, kind, created_at, last_used_at, expires_at FROM tokens
       WHERE user_id = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY created_at DESC, id`,
      [userId, now],
    );
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      createdAt: r.created_at,
      lastUsedAt: r.last_used_at,
      expiresAt: r.expires_at,
    }));
  }

  async revokeTokens(userId: number, tokenId: string | null, audit: AuditEntry): Promise<number> {
    const now = Date.now();
    return this.writer.transaction(async () => {
      const { changes } = await this.writer.run(
        `DELETE FROM tokens WHERE user_id = ?${tokenId === null ? "" : " AND id = ?"}`,
        tokenId === null ? [userId] : [userId, tokenId],
      );
      // Revoking all is recorded even when there were none: the admin asked for it.
      if (changes || tokenId === null)
        await this.insertAudit([withDetail(audit, { tokensRevoked: changes })], now);
      return changes;
    });
  }

  // ── messages ──────────────────────────────────────────────────────────────────────────────

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
           approval_timeout_action, matched_rules, body_in_db)`,
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
        "INSERT INTO groups (id, message_id, name, status, release_at, next_at)",
        batch.flatMap((m) => m.groups.map((g) => [g.id, m.id, g.name, status(m), g.releaseAt, g.releaseAt])),
      ),
      ...insertStatements(
        "INSERT OR IGNORE INTO recipients (group_id, address)",
        batch.flatMap((m) => m.groups.flatMap((g) => g.recipients.map((a) => [g.id, a]))),
      ),
      ...insertStatements(
        "INSERT INTO notices (kind, message_id, recipient, language, data, next_at, created_at)",
        batch.flatMap((m) => m.notices.map((n) => this.noticeRow(n, m.createdAt))),
      ),
      ...insertStatements(
        "INSERT INTO audit (at, actor, action, message_id, detail)",
        batch.flatMap((m) => m.audit.map((e) => this.auditRow(e, m.createdAt))),
      ),
    ]);
  }

  private async insertRows(prefix: string, rows: unknown[][]): Promise<void> {
    for (const { sql, params } of insertStatements(prefix, rows)) await this.writer.run(sql, params);
  }

  private noticeRow(n: NewNotice, now: number): unknown[] {
    return [n.kind, n.messageId, n.recipient, n.language, JSON.stringify(n.data ?? {}), now, now];
  }

  private auditRow(e: AuditEntry, now: number): unknown[] {
    return [now, e.actor, e.action, e.messageId ?? null, JSON.stringify(e.detail ?? {})];
  }

  private async loadGroups(db: Db, messageIds: string[]): Promise<Map<string, GroupRecord[]>> {
    const byMessage = new Map<string, GroupRecord[]>();
    if (!messageIds.length) return byMessage;
    const groups = await db.all<GroupRow>(
      `SELECT * FROM groups WHERE message_id IN (${placeholders(messageIds.length)}) ORDER BY release_at, name`,
      messageIds,
    );
    const recipients = groups.length
      ? await db.all<RecipientRecord & { group_id: string }>(
          `SELECT group_id, address, status, response FROM recipients
           WHERE group_id IN (${placeholders(groups.length)}) ORDER BY rowid`,
          groups.map((g) => g.id),
        )
      : [];
    const byGroup = new Map<string, RecipientRecord[]>();
    for (const { group_id, ...r } of recipients) {
      byGroup.set(group_id, [...(byGroup.get(group_id) ?? []), r]);
    }
    for (const g of groups) {
      const list = byMessage.get(g.message_id) ?? [];
      list.push(toGroup(g, byGroup.get(g.id) ?? []));
      byMessage.set(g.message_id, list);
    }
    return byMessage;
  }

  private async withGroups(db: Db, rows: MessageRow[]): Promise<MessageRecord[]> {
    const groups = await this.loadGroups(
      db,
      rows.map((r) => r.id),
    );
    return rows.map((r) => toMessage(r, groups.get(r.id) ?? []));
  }

  async message(id: string): Promise<MessageRecord | undefined> {
    const rows = await this.reader.all<MessageRow>("SELECT * FROM messages WHERE id = ?", [id]);
    return (await this.withGroups(this.reader, rows))[0];
  }

  async unfinishedSpooledIds(): Promise<string[]> {
    const rows = await this.reader.all<{ id: string }>(
      `SELECT id FROM messages WHERE body_in_db = 0 AND id IN
         (SELECT message_id FROM groups WHERE status IN ('pending_approval','held','releasing'))`,
    );
    return rows.map((r) => r.id);
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
        const list = placeholders(chunk.length);
        await this.writer.run(
          `DELETE FROM notices WHERE status = 'pending' AND message_id IN (${list})`,
          chunk,
        );
        // Groups, recipients and approvers go with their message (ON DELETE CASCADE).
        await this.writer.run(`DELETE FROM messages WHERE id IN (${list})`, chunk);
      }
      await this.insertAudit(
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
    return this.withGroups(this.reader, rows);
  }

  async messagesByMessageId(messageId: string): Promise<MessageRecord[]> {
    const rows = await this.reader.all<MessageRow>(
      "SELECT * FROM messages WHERE message_id = ? ORDER BY created_at DESC LIMIT 50",
      [messageId],
    );
    return this.withGroups(this.reader, rows);
  }

  async listMessages(filter: MessageFilter): Promise<MessageRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.approver !== undefined) {
      where.push("id IN (SELECT message_id FROM approvers WHERE approver = ?)");
      params.push(filter.approver);
    } else if (filter.userId !== undefined && filter.sender !== undefined) {
      where.push("(user_id = ? OR sender = ? COLLATE NOCASE)");
      params.push(filter.userId, filter.sender);
    } else if (filter.userId !== undefined) {
      where.push("user_id = ?");
      params.push(filter.userId);
    }
    if (filter.status) {
      where.push("status = ?");
      params.push(filter.status);
    }
    const rows = await this.reader.all<MessageRow>(
      `SELECT * FROM messages ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY created_at DESC LIMIT ?`,
      [...params, filter.limit],
    );
    return this.withGroups(this.reader, rows);
  }

  /**
   * Recomputes messages.status from its groups, and when it became final (`now`, kept from the
   * first time); must run inside a writer transaction.
   */
  private async refreshStatus(messageId: string, now: number): Promise<MessageStatus> {
    const tallies = await this.writer.all<GroupTally>(
      `SELECT g.status,
         (SELECT count(*) FROM recipients r WHERE r.group_id = g.id AND r.status = 'sent') AS sent,
         (SELECT count(*) FROM recipients r WHERE r.group_id = g.id AND r.status = 'failed') AS failed
       FROM groups g WHERE g.message_id = ?`,
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
    groupId: string | null = null,
  ): Promise<HeldActionResult> {
    // One group (e.g. only the external copies) or, with groupId null, every group of the message.
    const only = "AND (?1 IS NULL OR id = ?1)";
    // Held, awaiting approval, or waiting for its next retry: not leased, so no delivery is in
    // flight, and claimDueGroups runs in this same writer, so neither can overtake the other.
    const waiting = "(status IN ('held','pending_approval') OR (status = 'releasing' AND leased = 0))";
    return this.writer.transaction(async () => {
      const change =
        action === "discard"
          ? await this.writer.run(
              `UPDATE groups SET status = 'discarded', next_at = ?2 WHERE message_id = ?3 AND ${waiting} ${only}`,
              [groupId, now, id],
            )
          : await this.writer.run(
              `UPDATE groups SET next_at = ?2
               WHERE message_id = ?3 AND status IN ('held','releasing') AND leased = 0 AND next_at > ?2 ${only}`,
              [groupId, now, id],
            );
      if (action === "discard" && change.changes) {
        // Recipients a retry group already delivered to stay sent.
        await this.writer.run(
          `UPDATE recipients SET status = 'discarded' WHERE status = 'pending'
             AND group_id IN (SELECT id FROM groups WHERE message_id = ? AND status = 'discarded')`,
          [id],
        );
      }
      const status = await this.refreshStatus(id, now);
      if (change.changes) {
        await this.insertAudit(
          [
            {
              actor,
              action,
              messageId: id,
              detail: { groups: change.changes, ...(groupId ? { group: groupId } : {}) },
            },
          ],
          now,
        );
        return { outcome: "ok", status };
      }
      const open = await this.writer.get<{ leased: number; due: number }>(
        `SELECT count(*) FILTER (WHERE leased = 1) AS leased, count(*) FILTER (WHERE leased = 0) AS due
         FROM groups WHERE message_id = ?2 AND status IN ('held','releasing') ${only}`,
        [groupId, id],
      );
      if (open && open.leased > 0) return { outcome: "releasing", status };
      // Releasing a group that is already due is not an error: it is on its way.
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
            `UPDATE groups SET status = 'held', next_at = max(release_at, ?)
             WHERE message_id = ? AND status = 'pending_approval'`,
            [now, id],
          )
        : await this.writer.run(
            "UPDATE groups SET status = 'approval_denied' WHERE message_id = ? AND status = 'pending_approval'",
            [id],
          );
      const status = await this.refreshStatus(id, now);
      if (!change.changes) return { outcome: "final", status };
      await this.insertNotices(notices, now);
      await this.insertAudit(
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

  async recordRejection(audit: AuditEntry, notices: NewNotice[]): Promise<void> {
    const now = Date.now();
    await this.writer.transaction(async () => {
      await this.insertNotices(notices, now);
      await this.insertAudit([audit], now);
    });
  }

  // ── policies ──────────────────────────────────────────────────────────────────────────────

  async listPolicies(): Promise<PolicyRecord[]> {
    const rows = await this.reader.all<{
      scope: string;
      document: string;
      updated_at: number;
      updated_by: string;
    }>("SELECT * FROM policies ORDER BY scope");
    return rows.map((r) => ({
      scope: r.scope,
      document: r.document,
      updatedAt: r.updated_at,
      updatedBy: r.updated_by,
    }));
  }

  async putPolicy(scope: string, document: string, actor: string): Promise<void> {
    const now = Date.now();
    await this.writer.transaction(async () => {
      await this.writer.run(
        `INSERT INTO policies (scope, document, updated_at, updated_by) VALUES (?,?,?,?)
         ON CONFLICT(scope) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at,
           updated_by = excluded.updated_by`,
        [scope, document, now, actor],
      );
      await this.writer.run("UPDATE policy_version SET version = version + 1");
      await this.insertAudit([{ actor, action: "policy_set", detail: { scope } }], now);
    });
  }

  async deletePolicy(scope: string, actor: string): Promise<boolean> {
    return this.writer.transaction(async () => {
      const { changes } = await this.writer.run("DELETE FROM policies WHERE scope = ?", [scope]);
      if (!changes) return false;
      await this.writer.run("UPDATE policy_version SET version = version + 1");
      await this.insertAudit([{ actor, action: "policy_deleted", detail: { scope } }], Date.now());
      return true;
    });
  }

  async policyVersion(): Promise<number> {
    return (await this.reader.get<{ version: number }>("SELECT version FROM policy_version"))?.version ?? 0;
  }

  // ── scheduler ─────────────────────────────────────────────────────────────────────────────

  async resetLeases(): Promise<void> {
    await this.writer.transaction(async () => {
      await this.writer.run("UPDATE groups SET leased = 0 WHERE leased = 1");
      await this.writer.run("UPDATE notices SET leased = 0 WHERE leased = 1");
    });
  }

  async claimDueGroups(
    now: number,
    limit: number,
  ): Promise<{ message: MessageRecord; group: GroupRecord }[]> {
    return this.writer.transaction(async () => {
      const claimed = await this.writer.all<GroupRow>(
        `UPDATE groups SET leased = 1, status = 'releasing', attempts = attempts + 1,
           first_attempt_at = coalesce(first_attempt_at, ?)
         WHERE id IN (SELECT id FROM groups WHERE status IN ('held','releasing') AND leased = 0 AND next_at <= ?
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
      const messages = new Map((await this.withGroups(this.writer, rows)).map((m) => [m.id, m]));
      return claimed.map((g) => {
        const message = messages.get(g.message_id) as MessageRecord;
        const group = message.groups.find((x) => x.id === g.id) as GroupRecord;
        return { message, group };
      });
    });
  }

  async recordAttempts(attempts: AttemptRecord[]): Promise<void> {
    await this.writer.transaction(async () => {
      for (const a of attempts) {
        for (const r of a.results) {
          const status = r.outcome === "retry" ? (a.retryAt === null ? "failed" : "pending") : r.outcome;
          await this.writer.run(
            "UPDATE recipients SET status = ?, response = ? WHERE group_id = ? AND address = ? AND status = 'pending'",
            [status, r.response, a.groupId, r.address],
          );
        }
        const pending = await this.writer.get<{ n: number }>(
          "SELECT count(*) AS n FROM recipients WHERE group_id = ? AND status = 'pending'",
          [a.groupId],
        );
        const lastError = a.results.find((r) => r.outcome !== "sent")?.response ?? null;
        if (pending && pending.n > 0 && a.retryAt !== null) {
          await this.writer.run("UPDATE groups SET leased = 0, next_at = ?, last_error = ? WHERE id = ?", [
            a.retryAt,
            lastError,
            a.groupId,
          ]);
        } else {
          const failed = await this.writer.get<{ n: number }>(
            "SELECT count(*) AS n FROM recipients WHERE group_id = ? AND status = 'failed'",
            [a.groupId],
          );
          await this.writer.run("UPDATE groups SET leased = 0, status = ?, last_error = ? WHERE id = ?", [
            failed && failed.n > 0 ? "failed" : "sent",
            lastError,
            a.groupId,
          ]);
        }
        await this.refreshStatus(a.messageId, a.now);
        await this.insertNotices(a.notices, a.now);
        await this.insertAudit(a.audit, a.now);
      }
    });
  }

  private async insertNotices(notices: NewNotice[], now: number): Promise<void> {
    await this.insertRows(
      "INSERT INTO notices (kind, message_id, recipient, language, data, next_at, created_at)",
      notices.map((n) => this.noticeRow(n, now)),
    );
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
              sql: "UPDATE notices SET status = 'failed', leased = 0, last_error = ? WHERE id = ?",
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
              sql: `UPDATE notices SET status = 'sent', leased = 0, last_error = NULL WHERE id IN (${placeholders(sent.length)})`,
              params: sent,
            },
          ]
        : []),
      ...others,
    ]);
  }

  async dueTimes(): Promise<DueTimes> {
    const row = await this.reader.get<DueTimes>(
      `SELECT (SELECT min(next_at) FROM groups WHERE status IN ('held','releasing') AND leased = 0) AS groups,
              (SELECT min(next_at) FROM notices WHERE status = 'pending' AND leased = 0) AS notices,
              (SELECT min(approval_deadline) FROM messages WHERE status = 'pending_approval') AS approvals`,
    );
    return row ?? { groups: null, notices: null, approvals: null };
  }

  async queueDepth(): Promise<{ held: number; releasing: number; notices: number }> {
    const row = await this.reader.get<{ held: number; releasing: number; notices: number }>(
      `SELECT (SELECT count(*) FROM groups WHERE status = 'held') AS held,
              (SELECT count(*) FROM groups WHERE status = 'releasing') AS releasing,
              (SELECT count(*) FROM notices WHERE status = 'pending') AS notices`,
    );
    return row ?? { held: 0, releasing: 0, notices: 0 };
  }

  // ── audit and DKIM ────────────────────────────────────────────────────────────────────────

  private async insertAudit(entries: AuditEntry[], now: number): Promise<void> {
    await this.insertRows(
      "INSERT INTO audit (at, actor, action, message_id, detail)",
      entries.map((e) => this.auditRow(e, now)),
    );
  }

  async audit(entries: AuditEntry[]): Promise<void> {
    await this.writer.transaction(() => this.insertAudit(entries, Date.now()));
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

  async saveDkimKey(domain: string, selector: string, privateKey: string): Promise<void> {
    await this.writer.transaction(() =>
      this.writer.run(
        `INSERT INTO dkim_keys (domain, selector, private_key, created_at) VALUES (?,?,?,?)
         ON CONFLICT(domain) DO UPDATE SET selector = excluded.selector, private_key = excluded.private_key,
           created_at = excluded.created_at`,
        [domain, selector, privateKey, Date.now()],
      ),
    );
  }

  async dkimKey(domain: string): Promise<{ selector: string; privateKey: string } | undefined> {
    const row = await this.reader.get<{ selector: string; private_key: string }>(
      "SELECT selector, private_key FROM dkim_keys WHERE domain = ?",
      [domain],
    );
    return row && { selector: row.selector, privateKey: row.private_key };
  }

  // ── retention ─────────────────────────────────────────────────────────────────────────────

  async deleteFinishedBodies(
    finalBefore: number,
    now: number,
    limit: number,
  ): Promise<{ deleted: number; spooled: string[] }> {
    return this.writer.transaction(async () => {
      // final_at is set only with a final status; the group check guards against any path that
      // ever sets one while a group is still open.
      const rows = await this.writer.all<{ id: string; body_in_db: number }>(
        `SELECT id, body_in_db FROM messages m
         WHERE body_deleted_at IS NULL AND final_at IS NOT NULL AND final_at <= ?
           AND NOT EXISTS (SELECT 1 FROM groups g WHERE g.message_id = m.id
                           AND g.status IN ('pending_approval','held','releasing'))
         LIMIT ?`,
        [finalBefore, limit],
      );
      if (!rows.length) return { deleted: 0, spooled: [] };
      const ids = rows.map((r) => r.id);
      const list = placeholders(ids.length);
      await this.writer.run(`DELETE FROM bodies WHERE message_id IN (${list})`, ids);
      await this.writer.run(`UPDATE messages SET body_deleted_at = ? WHERE id IN (${list})`, [now, ...ids]);
      return { deleted: ids.length, spooled: rows.filter((r) => r.body_in_db === 0).map((r) => r.id) };
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

  /** One DELETE of up to `limit` rows, as its own transaction; returns how many went. */
  private async deleteSome(sql: string, params: unknown[]): Promise<number> {
    return (await this.writer.serial(() => this.writer.run(sql, params))).changes;
  }

  purgeMessages(finalBefore: number, limit: number): Promise<number> {
    // Groups, recipients, approvers and a left-over bodies row go with their message (ON DELETE CASCADE).
    return this.deleteSome(
      `DELETE FROM messages WHERE id IN
         (SELECT id FROM messages WHERE final_at IS NOT NULL AND final_at <= ? AND body_deleted_at IS NOT NULL LIMIT ?)`,
      [finalBefore, limit],
    );
  }

  purgeNotices(createdBefore: number, limit: number): Promise<number> {
    return this.deleteSome(
      `DELETE FROM notices WHERE id IN
         (SELECT id FROM notices WHERE status <> 'pending' AND created_at <= ? LIMIT ?)`,
      [createdBefore, limit],
    );
  }

  purgeAudit(before: number, limit: number): Promise<number> {
    return this.deleteSome("DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at <= ? LIMIT ?)", [
      before,
      limit,
    ]);
  }

  purgeExpiredTokens(now: number, limit: number): Promise<number> {
    return this.deleteSome(
      `DELETE FROM tokens WHERE token_hash IN
         (SELECT token_hash FROM tokens WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ?)`,
      [now, limit],
    );
  }
}
