// The download centre's rows: packages, their files (with each stored file's key), a link per
// recipient (token hash, lockout, count, one-time code) and the log of what the links did.
import type { Db } from "../db.js";
import type {
  AuditEntry,
  DownloadFileRecord,
  DownloadLinkRecord,
  DownloadLogEntry,
  DownloadLogRecord,
  DownloadPackageRecord,
  DownloadStopTarget,
  LinkLockout,
  NewDownloadPackage,
  NewNotice,
} from "../types.js";
import { insertAudit } from "./audit.js";
import { insertNotices } from "./notices.js";
import { deleteSome, insertStatements, placeholders, runStatements } from "./sql.js";

interface PackageRow {
  id: string;
  message_id: string;
  owner_user_id: number | null;
  created_at: number;
  expires_at: number;
  stopped_at: number | null;
  auth_mode: DownloadPackageRecord["authMode"];
  password_hash: string | null;
  max_downloads: number | null;
  notify_first: number;
  first_download_at: number | null;
}

interface FileRow {
  id: string;
  package_id: string;
  name: string;
  content_type: string;
  size: number;
  sha256: string;
  storage_name: string;
  file_key: Buffer;
  stopped_at: number | null;
  deleted_at: number | null;
}

interface LinkRow {
  id: string;
  package_id: string;
  recipient: string;
  failed_attempts: number;
  locked_until: number | null;
  download_count: number;
  stopped_at: number | null;
  code_hash: string | null;
  code_expires_at: number | null;
  first_download_at: number | null;
}

interface LogRow {
  id: number;
  package_id: string;
  at: number;
  ip: string;
  link_id: string | null;
  recipient: string | null;
  file_id: string | null;
  outcome: DownloadLogEntry["outcome"];
}

const toFile = (r: FileRow): DownloadFileRecord => ({
  id: r.id,
  packageId: r.package_id,
  name: r.name,
  contentType: r.content_type,
  size: r.size,
  sha256: r.sha256,
  storageName: r.storage_name,
  key: r.file_key,
  stoppedAt: r.stopped_at,
  deletedAt: r.deleted_at,
});

const toLink = (r: LinkRow): DownloadLinkRecord => ({
  id: r.id,
  packageId: r.package_id,
  recipient: r.recipient,
  failedAttempts: r.failed_attempts,
  lockedUntil: r.locked_until,
  downloadCount: r.download_count,
  stoppedAt: r.stopped_at,
  codeHash: r.code_hash,
  codeExpiresAt: r.code_expires_at,
  firstDownloadAt: r.first_download_at,
});

const LINK_COLUMNS =
  "id, package_id, recipient, failed_attempts, locked_until, download_count, stopped_at, code_hash, code_expires_at, first_download_at";

/** The log INSERTs of `entries` at `now`, inside the transaction open on `db`. */
function insertLog(db: Db, entries: DownloadLogEntry[], now: number): Promise<void> {
  return runStatements(
    db,
    insertStatements(
      "INSERT INTO download_log (package_id, at, ip, link_id, recipient, file_id, outcome)",
      entries.map((e) => [e.packageId, now, e.ip, e.linkId, e.recipient, e.fileId, e.outcome]),
    ),
  );
}

/** Stores a package with its files, links and audit entries, inside the transaction open on `db`. */
export async function insertPackageRows(db: Db, pkg: NewDownloadPackage): Promise<void> {
  await db.run(
    `INSERT INTO download_packages (id, message_id, owner_user_id, created_at, expires_at, auth_mode,
       password_hash, max_downloads, notify_first) VALUES (?,?,?,?,?,?,?,?,?)`,
    [
      pkg.id,
      pkg.messageId,
      pkg.ownerUserId,
      pkg.createdAt,
      pkg.expiresAt,
      pkg.authMode,
      pkg.passwordHash,
      pkg.maxDownloads,
      pkg.notifyFirst ? 1 : 0,
    ],
  );
  await runStatements(db, [
    ...insertStatements(
      "INSERT INTO download_files (id, package_id, position, name, content_type, size, sha256, storage_name, file_key)",
      pkg.files.map((f, i) => [
        f.id,
        pkg.id,
        i,
        f.name,
        f.contentType,
        f.size,
        f.sha256,
        f.storageName,
        f.key,
      ]),
    ),
    ...insertStatements(
      "INSERT INTO download_links (id, package_id, recipient, token_hash)",
      pkg.links.map((l) => [l.id, pkg.id, l.recipient, l.tokenHash]),
    ),
  ]);
  await insertAudit(db, pkg.audit, pkg.createdAt);
}

export class Downloads {
  constructor(
    private readonly writer: Db,
    private readonly reader: Db,
  ) {}

  async insertDownloadPackage(pkg: NewDownloadPackage): Promise<void> {
    await this.writer.transaction(() => insertPackageRows(this.writer, pkg));
  }

  async downloadPackage(id: string): Promise<DownloadPackageRecord | undefined> {
    const row = await this.reader.get<PackageRow>("SELECT * FROM download_packages WHERE id = ?", [id]);
    return row && this.withParts(row);
  }

  async downloadLinkByToken(
    tokenHash: string,
  ): Promise<{ package: DownloadPackageRecord; link: DownloadLinkRecord } | undefined> {
    const link = await this.reader.get<LinkRow>(
      `SELECT ${LINK_COLUMNS} FROM download_links WHERE token_hash = ?`,
      [tokenHash],
    );
    if (!link) return undefined;
    const pkg = await this.downloadPackage(link.package_id);
    return pkg && { package: pkg, link: toLink(link) };
  }

  private async withParts(row: PackageRow): Promise<DownloadPackageRecord> {
    const [files, links] = await Promise.all([
      this.reader.all<FileRow>("SELECT * FROM download_files WHERE package_id = ? ORDER BY position", [
        row.id,
      ]),
      this.reader.all<LinkRow>(
        `SELECT ${LINK_COLUMNS} FROM download_links WHERE package_id = ? ORDER BY rowid`,
        [row.id],
      ),
    ]);
    return {
      id: row.id,
      messageId: row.message_id,
      ownerUserId: row.owner_user_id,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      stoppedAt: row.stopped_at,
      authMode: row.auth_mode,
      passwordHash: row.password_hash,
      maxDownloads: row.max_downloads,
      notifyFirst: row.notify_first === 1,
      firstDownloadAt: row.first_download_at,
      files: files.map(toFile),
      links: links.map(toLink),
    };
  }

  async reserveDownloadAttempt(
    linkId: string,
    limit: number,
    now: number,
  ): Promise<{ ok: true } | { ok: false; lockedUntil: number | null }> {
    return this.writer.transaction(async () => {
      const { changes } = await this.writer.run(
        `UPDATE download_links SET failed_attempts = failed_attempts + 1, locked_until = NULL
         WHERE id = ? AND (locked_until IS NULL OR locked_until <= ?) AND failed_attempts < ?`,
        [linkId, now, limit],
      );
      if (changes) return { ok: true as const };
      const row = await this.writer.get<{ locked_until: number | null }>(
        "SELECT locked_until FROM download_links WHERE id = ?",
        [linkId],
      );
      const until = row?.locked_until ?? null;
      return { ok: false as const, lockedUntil: until !== null && until > now ? until : null };
    });
  }

  async recordDownloadFailure(
    linkId: string,
    lockout: LinkLockout,
    now: number,
    log: DownloadLogEntry,
  ): Promise<{ lockedUntil: number | null }> {
    return this.writer.transaction(async () => {
      // The attempt was counted by its reservation. SET reads the old row throughout: the count
      // at the limit locks and starts again.
      await this.writer.run(
        `UPDATE download_links SET
           locked_until = CASE WHEN failed_attempts >= ? THEN ? ELSE locked_until END,
           failed_attempts = CASE WHEN failed_attempts >= ? THEN 0 ELSE failed_attempts END
         WHERE id = ?`,
        [lockout.limit, now + lockout.lockMs, lockout.limit, linkId],
      );
      const row = await this.writer.get<{ locked_until: number | null }>(
        "SELECT locked_until FROM download_links WHERE id = ?",
        [linkId],
      );
      const until = row?.locked_until ?? null;
      const lockedUntil = until !== null && until > now ? until : null;
      await insertLog(this.writer, [lockedUntil ? { ...log, outcome: "locked" } : log], now);
      return { lockedUntil };
    });
  }

  async recordDownloadSuccess(linkId: string, now: number, log: DownloadLogEntry): Promise<void> {
    await this.writer.transaction(async () => {
      await this.writer.run(
        `UPDATE download_links SET failed_attempts = 0, code_hash = NULL, code_expires_at = NULL WHERE id = ?`,
        [linkId],
      );
      await insertLog(this.writer, [log], now);
    });
  }

  async setDownloadCode(
    linkId: string,
    codeHash: string,
    expiresAt: number,
    log: DownloadLogEntry,
  ): Promise<void> {
    const now = Date.now();
    await this.writer.transaction(async () => {
      await this.writer.run("UPDATE download_links SET code_hash = ?, code_expires_at = ? WHERE id = ?", [
        codeHash,
        expiresAt,
        linkId,
      ]);
      await insertLog(this.writer, [log], now);
    });
  }

  async countDownload(
    linkId: string,
    maxDownloads: number | null,
    now: number,
    log: DownloadLogEntry,
    firstNotice: NewNotice | null = null,
  ): Promise<{ counted: boolean; first: boolean }> {
    return this.writer.transaction(async () => {
      const { changes } = await this.writer.run(
        `UPDATE download_links SET download_count = download_count + 1
         WHERE id = ? AND (? IS NULL OR download_count < ?)`,
        [linkId, maxDownloads, maxDownloads],
      );
      const counted = changes > 0;
      let first = false;
      if (counted) {
        // Decided by this UPDATE inside the one write transaction: of concurrent downloads on a
        // link exactly one finds first_download_at empty, and queues the notice with its count.
        first =
          (
            await this.writer.run(
              "UPDATE download_links SET first_download_at = ? WHERE id = ? AND first_download_at IS NULL",
              [now, linkId],
            )
          ).changes > 0;
        await this.writer.run(
          "UPDATE download_packages SET first_download_at = ? WHERE id = ? AND first_download_at IS NULL",
          [now, log.packageId],
        );
        if (first && firstNotice) await insertNotices(this.writer, [firstNotice], now);
      }
      await insertLog(this.writer, [counted ? log : { ...log, outcome: "limit_reached" }], now);
      return { counted, first };
    });
  }

  async logDownloads(entries: DownloadLogEntry[], now: number): Promise<void> {
    if (entries.length) await this.writer.transaction(() => insertLog(this.writer, entries, now));
  }

  async downloadLog(packageId: string, limit: number): Promise<DownloadLogRecord[]> {
    const rows = await this.reader.all<LogRow>(
      "SELECT * FROM download_log WHERE package_id = ? ORDER BY id DESC LIMIT ?",
      [packageId, limit],
    );
    return rows.map((r) => ({
      id: r.id,
      packageId: r.package_id,
      at: r.at,
      ip: r.ip,
      linkId: r.link_id,
      recipient: r.recipient,
      fileId: r.file_id,
      outcome: r.outcome,
    }));
  }

  async stopDownloads(
    packageId: string,
    target: DownloadStopTarget,
    now: number,
    audit: AuditEntry,
  ): Promise<boolean> {
    const [table, where, params] =
      target === null
        ? ["download_packages", "id = ?", [packageId]]
        : "fileId" in target
          ? ["download_files", "id = ? AND package_id = ?", [target.fileId, packageId]]
          : ["download_links", "id = ? AND package_id = ?", [target.linkId, packageId]];
    return this.writer.transaction(async () => {
      // Matched even when stopped before, so a second stop is a success that changes nothing.
      const found = await this.writer.get(`SELECT 1 FROM ${table} WHERE ${where}`, params);
      if (!found) return false;
      await this.writer.run(`UPDATE ${table} SET stopped_at = coalesce(stopped_at, ?) WHERE ${where}`, [
        now,
        ...params,
      ]);
      await insertAudit(this.writer, [audit], now);
      return true;
    });
  }

  async extendDownloads(packageId: string, expiresAt: number, audit: AuditEntry): Promise<boolean> {
    const now = Date.now();
    return this.writer.transaction(async () => {
      const { changes } = await this.writer.run("UPDATE download_packages SET expires_at = ? WHERE id = ?", [
        expiresAt,
        packageId,
      ]);
      if (changes) await insertAudit(this.writer, [audit], now);
      return changes > 0;
    });
  }

  async downloadFilesToDelete(now: number, limit: number): Promise<{ id: string; storageName: string }[]> {
    const rows = await this.reader.all<{ id: string; storage_name: string }>(
      `SELECT f.id, f.storage_name FROM download_files f JOIN download_packages p ON p.id = f.package_id
       WHERE f.deleted_at IS NULL AND (f.stopped_at IS NOT NULL OR p.stopped_at IS NOT NULL OR p.expires_at <= ?)
       LIMIT ?`,
      [now, limit],
    );
    return rows.map((r) => ({ id: r.id, storageName: r.storage_name }));
  }

  async markDownloadFilesDeleted(ids: string[], now: number): Promise<void> {
    if (!ids.length) return;
    await this.writer.serial(() =>
      this.writer.run(
        `UPDATE download_files SET deleted_at = ?, file_key = X'' WHERE id IN (${placeholders(ids.length)})`,
        [now, ...ids],
      ),
    );
  }

  purgeDownloadPackages(endedBefore: number, limit: number): Promise<number> {
    return deleteSome(
      this.writer,
      `DELETE FROM download_packages WHERE id IN (
         SELECT p.id FROM download_packages p
         WHERE min(p.expires_at, coalesce(p.stopped_at, p.expires_at)) <= ?
           AND NOT EXISTS (SELECT 1 FROM download_files f WHERE f.package_id = p.id AND f.deleted_at IS NULL)
         LIMIT ?)`,
      [endedBefore, limit],
    );
  }

  async keptDownloadFiles(storageNames: string[]): Promise<Set<string>> {
    const kept = new Set<string>();
    // In chunks: SQLite bounds the number of bound variables.
    for (let start = 0; start < storageNames.length; start += 500) {
      const chunk = storageNames.slice(start, start + 500);
      const rows = await this.reader.all<{ storage_name: string }>(
        `SELECT storage_name FROM download_files WHERE deleted_at IS NULL AND storage_name IN (${placeholders(chunk.length)})`,
        chunk,
      );
      for (const r of rows) kept.add(r.storage_name);
    }
    return kept;
  }
}
