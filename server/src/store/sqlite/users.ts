// Users and their tokens: the token lifecycle (expiry, revocation with the user or the password,
// purge of expired ones) lives with the users it belongs to.
import type { Language } from "@sendguard/shared";
import { newId } from "../../secrets.js";
import type { Db } from "../db.js";
import type { AuditEntry, NewUser, TokenKind, TokenOwner, TokenRecord, UserRecord } from "../types.js";
import { insertAudit, withDetail } from "./audit.js";
import { deleteSome } from "./sql.js";

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

/** How precisely a token's last use is recorded: a write per request would cost an fsync each. */
const TOKEN_USE_RESOLUTION_MS = 3600_000;

/** Addresses whose recent userByEmail answer is kept; past this the memory is simply cleared. */
const RECENT_USERS = 1000;

export class Users {
  /** Recent userByEmail answers (for `maxAgeMs`) and the user writes they were read after. */
  private readonly recentUsers = new Map<string, { at: number; user: UserRecord | undefined }>();
  private userWrites = 0;

  constructor(
    private readonly writer: Db,
    private readonly reader: Db,
  ) {}

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
      if (changes) await insertAudit(this.writer, [audit], now);
      return changes > 0;
    });
  }

  async deleteUser(id: number, audit: AuditEntry): Promise<boolean> {
    const now = Date.now();
    return this.writeUsers(async () => {
      const tokens = await this.writer.run("DELETE FROM tokens WHERE user_id = ?", [id]);
      const { changes } = await this.writer.run("DELETE FROM users WHERE id = ?", [id]);
      if (changes)
        await insertAudit(this.writer, [withDetail(audit, { tokensRevoked: tokens.changes })], now);
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
      await insertAudit(this.writer, [withDetail(audit, { tokensRevoked: tokens.changes })], now);
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
        await insertAudit(this.writer, [withDetail(audit, { tokensRevoked: changes })], now);
      return changes;
    });
  }

  purgeExpiredTokens(now: number, limit: number): Promise<number> {
    return deleteSome(
      this.writer,
      `DELETE FROM tokens WHERE token_hash IN
         (SELECT token_hash FROM tokens WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ?)`,
      [now, limit],
    );
  }
}
