// Versioned schema. Append a new entry to change the schema; never edit a released one.
import type { Db } from "./db.js";

const migrations: string[] = [
  `CREATE TABLE users (
     id INTEGER PRIMARY KEY,
     email TEXT NOT NULL UNIQUE COLLATE NOCASE,
     password_hash TEXT NOT NULL,
     role TEXT NOT NULL CHECK (role IN ('user','approver','admin')),
     language TEXT CHECK (language IN ('ja','en')),
     hold_minutes REAL,
     aliases TEXT NOT NULL DEFAULT '[]',
     created_at INTEGER NOT NULL
   );
   CREATE TABLE tokens (
     token_hash TEXT PRIMARY KEY,
     user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
     kind TEXT NOT NULL CHECK (kind IN ('api','session')),
     csrf TEXT,
     created_at INTEGER NOT NULL,
     expires_at INTEGER
   );
   CREATE TABLE messages (
     id TEXT PRIMARY KEY,
     message_id TEXT NOT NULL,
     user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
     sender TEXT NOT NULL,
     from_header TEXT NOT NULL,
     subject TEXT NOT NULL,
     size INTEGER NOT NULL,
     header_bytes INTEGER NOT NULL,
     added_headers TEXT NOT NULL,
     language TEXT NOT NULL,
     status TEXT NOT NULL,
     source TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE INDEX messages_by_message_id ON messages(message_id);
   CREATE INDEX messages_by_user ON messages(user_id, created_at);
   CREATE INDEX messages_by_sender ON messages(sender, created_at);
   CREATE TABLE groups (
     id TEXT PRIMARY KEY,
     message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
     name TEXT NOT NULL,
     status TEXT NOT NULL,
     release_at INTEGER NOT NULL,
     next_at INTEGER NOT NULL,
     leased INTEGER NOT NULL DEFAULT 0,
     attempts INTEGER NOT NULL DEFAULT 0,
     first_attempt_at INTEGER,
     last_error TEXT
   );
   CREATE INDEX groups_due ON groups(leased, next_at) WHERE status IN ('held','releasing');
   CREATE INDEX groups_by_message ON groups(message_id);
   CREATE TABLE recipients (
     group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
     address TEXT NOT NULL,
     status TEXT NOT NULL DEFAULT 'pending',
     response TEXT,
     PRIMARY KEY (group_id, address)
   );
   CREATE TABLE notices (
     id INTEGER PRIMARY KEY,
     kind TEXT NOT NULL,
     message_id TEXT NOT NULL,
     recipient TEXT NOT NULL,
     language TEXT NOT NULL,
     data TEXT NOT NULL DEFAULT '{}',
     status TEXT NOT NULL DEFAULT 'pending',
     next_at INTEGER NOT NULL,
     leased INTEGER NOT NULL DEFAULT 0,
     attempts INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL,
     last_error TEXT
   );
   CREATE INDEX notices_due ON notices(leased, next_at) WHERE status = 'pending';
   CREATE TABLE audit (
     id INTEGER PRIMARY KEY,
     at INTEGER NOT NULL,
     actor TEXT NOT NULL,
     action TEXT NOT NULL,
     message_id TEXT,
     detail TEXT NOT NULL DEFAULT '{}'
   );
   CREATE INDEX audit_by_message ON audit(message_id);
   CREATE TABLE dkim_keys (
     domain TEXT PRIMARY KEY COLLATE NOCASE,
     selector TEXT NOT NULL,
     private_key TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );`,
  `ALTER TABLE users ADD COLUMN groups TEXT NOT NULL DEFAULT '[]';
   ALTER TABLE users ADD COLUMN manager TEXT;
   CREATE TABLE policies (
     scope TEXT PRIMARY KEY,
     document TEXT NOT NULL,
     updated_at INTEGER NOT NULL,
     updated_by TEXT NOT NULL
   );
   CREATE TABLE policy_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
   INSERT INTO policy_version (id, version) VALUES (1, 0);
   ALTER TABLE messages ADD COLUMN header_rewrite TEXT NOT NULL DEFAULT '{}';
   ALTER TABLE messages ADD COLUMN approval_deadline INTEGER;
   ALTER TABLE messages ADD COLUMN approval_timeout_action TEXT;
   ALTER TABLE messages ADD COLUMN matched_rules TEXT NOT NULL DEFAULT '[]';
   CREATE INDEX messages_awaiting_approval ON messages(approval_deadline) WHERE status = 'pending_approval';
   CREATE TABLE approvers (
     message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
     approver TEXT NOT NULL COLLATE NOCASE,
     PRIMARY KEY (message_id, approver)
   );
   CREATE INDEX approvers_by_approver ON approvers(approver);`,
  `ALTER TABLE messages ADD COLUMN body_in_db INTEGER NOT NULL DEFAULT 0;
   CREATE TABLE bodies (
     message_id TEXT PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
     data BLOB NOT NULL
   );`,
  // Accounts: users can be disabled; tokens get a public id (listing and revoking them without their
  // secret), a last-use time, and an expiry. Tokens made before had none: they now run out 90 days
  // from the upgrade rather than at once, so add-ins keep working until then.
  `ALTER TABLE users ADD COLUMN disabled_at INTEGER;
   ALTER TABLE tokens ADD COLUMN id TEXT;
   ALTER TABLE tokens ADD COLUMN last_used_at INTEGER;
   UPDATE tokens SET id = lower(hex(randomblob(12)));
   UPDATE tokens SET expires_at = CAST(unixepoch('subsec') * 1000 AS INTEGER) + 90 * 86400000
     WHERE expires_at IS NULL;
   CREATE UNIQUE INDEX tokens_by_id ON tokens(id);
   CREATE INDEX tokens_by_user ON tokens(user_id, kind);`,
  // Retention: when a message reached its final status (its body is deleted some days later, its
  // rows later still) and when its body went. Messages already final take the time of their last
  // audit entry. The listing indexes now hold what the listings filter on: the sender compared
  // without case (the old one was binary, so the NOCASE filter scanned the table) and the status.
  `ALTER TABLE messages ADD COLUMN final_at INTEGER;
   ALTER TABLE messages ADD COLUMN body_deleted_at INTEGER;
   UPDATE messages SET final_at = coalesce((SELECT max(at) FROM audit WHERE audit.message_id = messages.id), created_at)
     WHERE status IN ('sent','failed','discarded','rejected','approval_denied','partially_sent');
   DROP INDEX messages_by_user;
   DROP INDEX messages_by_sender;
   CREATE INDEX messages_by_user_status ON messages(user_id, status, created_at);
   CREATE INDEX messages_by_sender_status ON messages(sender COLLATE NOCASE, status, created_at);
   CREATE INDEX messages_by_status ON messages(status, created_at);
   CREATE INDEX messages_by_created ON messages(created_at);
   CREATE INDEX messages_body_kept ON messages(final_at) WHERE body_deleted_at IS NULL AND final_at IS NOT NULL;
   CREATE INDEX messages_by_final ON messages(final_at) WHERE final_at IS NOT NULL;
   DROP INDEX approvers_by_approver;
   CREATE INDEX approvers_by_approver ON approvers(approver, message_id);
   CREATE INDEX groups_by_status ON groups(status, message_id);
   CREATE INDEX notices_finished ON notices(created_at) WHERE status <> 'pending';
   CREATE INDEX audit_by_at ON audit(at);
   CREATE INDEX tokens_by_expiry ON tokens(expires_at) WHERE expires_at IS NOT NULL;`,
  // Delivered exactly once: spool_acknowledged is set once a message's spool file and its directory
  // entry are durable, before its client is answered, so a start that finds the file gone can tell
  // a message never acknowledged (forgotten) from one lost afterwards (kept, flagged with
  // body_missing_at). Rows from before were acknowledged under the old code, or were kept by its
  // start-up check: they count as acknowledged, so a file missing now is never silently forgotten.
  `ALTER TABLE messages ADD COLUMN spool_acknowledged INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE messages ADD COLUMN body_missing_at INTEGER;
   UPDATE messages SET spool_acknowledged = 1;`,
  // "Group" is a user group; the recipients of a message released together are a batch. SQLite
  // (3.26+, legacy_alter_table off) rewrites the foreign key of recipients and the indexes' tables
  // with the renames; the indexes are renamed by being made again.
  `ALTER TABLE groups RENAME TO batches;
   ALTER TABLE recipients RENAME COLUMN group_id TO batch_id;
   DROP INDEX groups_due;
   DROP INDEX groups_by_message;
   DROP INDEX groups_by_status;
   CREATE INDEX batches_due ON batches(leased, next_at) WHERE status IN ('held','releasing');
   CREATE INDEX batches_by_message ON batches(message_id);
   CREATE INDEX batches_by_status ON batches(status, message_id);`,
  // Attachments are handled per batch (internal as they are, external by web download, one
  // partner as an encrypted ZIP): a batch is one copy. Batches from before were relayed as they came.
  `ALTER TABLE batches ADD COLUMN attachment_action TEXT NOT NULL DEFAULT 'pass';`,
  // The download centre (downloads/): a package per message's separated attachments, its files (the
  // key of each stored encrypted file kept here, apart from the file), a link per recipient (only
  // its token's hash) and the log of what each link did. Not tied to messages by a foreign key: a
  // package outlives its message's rows, and retention deletes its files before its rows.
  `CREATE TABLE download_packages (
     id TEXT PRIMARY KEY,
     message_id TEXT NOT NULL,
     owner_user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     stopped_at INTEGER,
     auth_mode TEXT NOT NULL CHECK (auth_mode IN ('password','otp')),
     password_hash TEXT,
     max_downloads INTEGER,
     notify_first INTEGER NOT NULL DEFAULT 0,
     first_download_at INTEGER,
     CHECK ((auth_mode = 'password') = (password_hash IS NOT NULL))
   );
   CREATE INDEX download_packages_by_message ON download_packages(message_id);
   CREATE INDEX download_packages_by_expiry ON download_packages(expires_at);
   CREATE INDEX download_packages_stopped ON download_packages(stopped_at) WHERE stopped_at IS NOT NULL;
   CREATE TABLE download_files (
     id TEXT PRIMARY KEY,
     package_id TEXT NOT NULL REFERENCES download_packages(id) ON DELETE CASCADE,
     position INTEGER NOT NULL,
     name TEXT NOT NULL,
     content_type TEXT NOT NULL,
     size INTEGER NOT NULL,
     sha256 TEXT NOT NULL,
     storage_name TEXT NOT NULL UNIQUE,
     file_key BLOB NOT NULL,
     stopped_at INTEGER,
     deleted_at INTEGER
   );
   CREATE INDEX download_files_by_package ON download_files(package_id, position);
   CREATE INDEX download_files_kept ON download_files(package_id) WHERE deleted_at IS NULL;
   CREATE TABLE download_links (
     id TEXT PRIMARY KEY,
     package_id TEXT NOT NULL REFERENCES download_packages(id) ON DELETE CASCADE,
     recipient TEXT NOT NULL,
     token_hash TEXT NOT NULL UNIQUE,
     failed_attempts INTEGER NOT NULL DEFAULT 0,
     locked_until INTEGER,
     download_count INTEGER NOT NULL DEFAULT 0,
     stopped_at INTEGER,
     code_hash TEXT,
     code_expires_at INTEGER
   );
   CREATE INDEX download_links_by_package ON download_links(package_id);
   CREATE TABLE download_log (
     id INTEGER PRIMARY KEY,
     package_id TEXT NOT NULL REFERENCES download_packages(id) ON DELETE CASCADE,
     at INTEGER NOT NULL,
     ip TEXT NOT NULL,
     link_id TEXT,
     recipient TEXT,
     file_id TEXT,
     outcome TEXT NOT NULL
   );
   CREATE INDEX download_log_by_package ON download_log(package_id, id);`,
  // The copies a batch is delivered as, made at its first release (attachments separated or zipped,
  // one per recipient when each gets their own link) and kept, so a retry sends the same bytes.
  // The password waits here for its notice, which goes once the copy has been delivered.
  `CREATE TABLE copies (
     id TEXT PRIMARY KEY,
     batch_id TEXT NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
     recipients TEXT NOT NULL,
     action TEXT NOT NULL,
     file TEXT,
     header_bytes INTEGER NOT NULL,
     detail TEXT NOT NULL DEFAULT '{}',
     password TEXT,
     password_noticed_at INTEGER,
     created_at INTEGER NOT NULL
   );
   CREATE INDEX copies_by_batch ON copies(batch_id);`,
  // "[ダウンロード通知]" goes to the sender once per recipient's link, at its first download.
  `ALTER TABLE download_links ADD COLUMN first_download_at INTEGER;`,
];

/** The schema version a database has once migrate() is done. */
export const SCHEMA_VERSION = migrations.length;

export async function migrate(db: Db): Promise<number> {
  await db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  const row = await db.get<{ version: number }>("SELECT max(version) AS version FROM schema_version");
  const current = row?.version ?? 0;
  if (current > migrations.length) {
    throw new Error(
      `database schema version ${current} is newer than this Sendguard (${migrations.length}); upgrade Sendguard`,
    );
  }
  for (let v = current; v < migrations.length; v++) {
    await db.transaction(async () => {
      await db.exec(migrations[v] as string);
      await db.run("INSERT INTO schema_version (version) VALUES (?)", [v + 1]);
    });
  }
  return migrations.length;
}
