// The persistence interface: what the gateway needs from storage, independent of SQLite.
import type {
  AttachmentAction,
  BatchStatus,
  CopyView,
  Language,
  MessageStatus,
  Role,
  TlsCheck,
} from "@sendguard/shared";

export interface UserRecord {
  id: number;
  email: string;
  passwordHash: string;
  role: Role;
  language: Language | null;
  holdMinutes: number | null;
  aliases: string[];
  /** Group names: policies and approvers can be set per group. */
  groups: string[];
  /** The approver of this user's messages when the policy uses managers. */
  manager: string | null;
  createdAt: number;
  /** Set while the account is disabled: no sign-in, no token or session works, no submission. */
  disabledAt: number | null;
}

export type NewUser = Omit<UserRecord, "id" | "createdAt" | "disabledAt">;

export type TokenKind = "api" | "session";

/** A token as its owner may see it: a public id, never the secret or its hash. */
export interface TokenRecord {
  id: string;
  kind: TokenKind;
  createdAt: number;
  /** To the hour: recording every use would be a write per request. */
  lastUsedAt: number | null;
  expiresAt: number | null;
}

export interface TokenOwner {
  user: UserRecord;
  tokenId: string;
  csrf: string | null;
}

export interface AuditEntry {
  actor: string;
  action: string;
  messageId?: string | null;
  detail?: Record<string, unknown>;
}

export interface AuditRecord extends Required<AuditEntry> {
  id: number;
  at: number;
}

export type NoticeKind =
  | "hold"
  | "bounce"
  | "reject"
  | "approval_request"
  | "denied"
  | "password"
  | "download_code"
  /** A recipient's link was used for the first time ("[ダウンロード通知]"); data: DownloadedData. */
  | "downloaded";

export interface NewNotice {
  kind: NoticeKind;
  messageId: string;
  recipient: string;
  language: Language;
  data?: Record<string, unknown>;
  /** When it is first due; default: when it is queued. */
  dueAt?: number;
}

export interface NoticeRecord extends Required<Omit<NewNotice, "dueAt">> {
  id: number;
  attempts: number;
  createdAt: number;
}

export interface NoticeResult {
  id: number;
  retryAt: number | null;
  error: string | null;
}

/**
 * What the sender is shown of a copy (GET /messages/:id): why it is as it is, what recipients get.
 * The TLS checks are kept as facts; their words are written in the reader's language when shown.
 */
export type CopyDetail = Omit<CopyView, "recipients" | "action" | "tls"> & { tls?: TlsCheck[] };

/** A copy a batch is delivered as: the message as it came, or rewritten for its attachment action. */
export interface NewCopy {
  id: string;
  recipients: string[];
  /** What was done to the attachments of this copy. */
  action: AttachmentAction;
  /** The rewritten message in the spool's copies folder (durable already); null: as it came. */
  file: string | null;
  headerBytes: number;
  detail: CopyDetail;
  /** The ZIP's or the download's password, for its notice once the copy has gone; null: none. */
  password: string | null;
}

export interface CopyRecord extends NewCopy {
  batchId: string;
  passwordNoticedAt: number | null;
  createdAt: number;
}

export interface RecipientRecord {
  address: string;
  status: "pending" | "sent" | "failed" | "discarded";
  response: string | null;
}

export interface BatchRecord {
  id: string;
  name: string;
  /** What happens to the attachments of this batch's copy. */
  attachmentAction: AttachmentAction;
  status: BatchStatus;
  releaseAt: number;
  nextAt: number;
  attempts: number;
  firstAttemptAt: number | null;
  lastError: string | null;
  recipients: RecipientRecord[];
  /** The copies it is delivered as, once made at its first release; empty before. */
  copies: CopyRecord[];
}

/** How the delivered copy's To/Cc differ from the submitted one (forced Bcc). */
export interface HeaderRewrite {
  forceBcc?: "sender" | "undisclosed";
  /** Cc addresses that stay visible (internal ones) when external ones are hidden. */
  keepCc?: string[];
}

export interface MessageRecord {
  id: string;
  messageId: string;
  userId: number | null;
  sender: string;
  fromHeader: string;
  subject: string;
  size: number;
  headerBytes: number;
  /** Header lines the gateway adds on relay (Message-ID, Date when the client left them out). */
  addedHeaders: string;
  language: Language;
  status: MessageStatus;
  source: "smtp" | "http";
  createdAt: number;
  headerRewrite: HeaderRewrite;
  approvalDeadline: number | null;
  /** What happens when nobody decides before the deadline. */
  approvalTimeoutAction: "deny" | "approve" | null;
  matchedRules: string[];
  /** The body is in the database (a small message), not in a spool file. */
  bodyInDatabase: boolean;
  /** When retention deleted the body (spool file or bodies row); null while it is kept. */
  bodyDeletedAt: number | null;
  /**
   * When a start found the spool file gone although the message had been acknowledged (a restore,
   * a cleanup job): what was left to deliver failed then. Null for every other message.
   */
  bodyMissingAt: number | null;
  /** Its delivery batches: recipients released together (not user groups). */
  batches: BatchRecord[];
}

/** The earliest due time of each kind of queued work; null when there is none. */
export interface DueTimes {
  batches: number | null;
  notices: number | null;
  approvals: number | null;
}

export interface NewMessage extends Omit<
  MessageRecord,
  "status" | "batches" | "bodyInDatabase" | "bodyDeletedAt" | "bodyMissingAt"
> {
  /** A small message's bytes, stored with its rows; null when they are in a spool file. */
  body: Buffer | null;
  batches: {
    id: string;
    name: string;
    releaseAt: number;
    attachmentAction: AttachmentAction;
    recipients: string[];
  }[];
  /** Non-empty: the message waits for one of these to approve it. */
  approvers: string[];
  notices: NewNotice[];
  audit: AuditEntry[];
}

/** A message whose spool file went missing after its acknowledgement, and what is said about it. */
export interface MissingBody {
  messageId: string;
  /** The bounce notice to its sender for the recipients it never reached. */
  notices: NewNotice[];
  audit: AuditEntry[];
}

export interface PolicyRecord {
  scope: string;
  document: string;
  updatedAt: number;
  updatedBy: string;
}

/** Outcome of one relay attempt for one recipient. */
export interface RecipientResult {
  address: string;
  outcome: "sent" | "retry" | "failed";
  response: string;
}

export interface AttemptRecord {
  batchId: string;
  messageId: string;
  now: number;
  results: RecipientResult[];
  /** When the remaining (retry) recipients are tried again; null: give them up as failed. */
  retryAt: number | null;
  notices: NewNotice[];
  /** Copies whose password notice is among `notices`: it is not queued again. */
  passwordsNoticed?: string[];
  audit: AuditEntry[];
}

/**
 * The recipients one copy of a batch reached, recorded before the batch's next copy is relayed,
 * with the password notices that copy's delivery queues. The batch stays leased.
 */
export interface CopyDeliveredRecord {
  batchId: string;
  now: number;
  /** Results with outcome "sent"; the others wait for the attempt's record. */
  sent: RecipientResult[];
  notices: NewNotice[];
  passwordsNoticed: string[];
}

export type HeldAction = "release" | "discard";

export interface HeldActionResult {
  /** ok: done; releasing: delivery already started; final: nothing left to act on. */
  outcome: "ok" | "releasing" | "final";
  status: MessageStatus;
}

export interface MessageFilter {
  userId?: number;
  sender?: string;
  /** Messages this address may approve (instead of own messages). */
  approver?: string;
  status?: MessageStatus;
  limit: number;
}

/** How a download link's recipient proves they may download: a password, or a code mailed to them. */
export type DownloadAuthMode = "password" | "otp";

/** A stored attachment of a download package (downloads/vault.ts holds its encrypted bytes). */
export interface DownloadFileRecord {
  id: string;
  packageId: string;
  /** As the sender named it; only ever shown escaped and sent in Content-Disposition. */
  name: string;
  contentType: string;
  /** Plaintext bytes. */
  size: number;
  /** SHA-256 of the plaintext, lowercase hex. */
  sha256: string;
  /** The encrypted file's name in the vault. */
  storageName: string;
  /** Its AES-256 key: kept here, never beside the file. */
  key: Buffer;
  stoppedAt: number | null;
  /** When retention deleted the stored file. */
  deletedAt: number | null;
}

/** One recipient's link to a package: revocable on its own, counted and locked on its own. */
export interface DownloadLinkRecord {
  id: string;
  packageId: string;
  recipient: string;
  /** Wrong passwords or codes since the last success or lockout. */
  failedAttempts: number;
  lockedUntil: number | null;
  downloadCount: number;
  stoppedAt: number | null;
  /** The one-time code last mailed (otp mode), hashed, and until when it is valid. */
  codeHash: string | null;
  codeExpiresAt: number | null;
  /** When the link was first used to download; null before. */
  firstDownloadAt: number | null;
}

export interface DownloadPackageRecord {
  id: string;
  /** The message (MessageRecord.id) whose attachments these are. */
  messageId: string;
  ownerUserId: number | null;
  createdAt: number;
  expiresAt: number;
  stoppedAt: number | null;
  authMode: DownloadAuthMode;
  /** scrypt hash (secrets.ts) in password mode; null in otp mode. */
  passwordHash: string | null;
  /** Downloads (a file or the ZIP of all) each link may make; null: no limit. */
  maxDownloads: number | null;
  /** Tell the sender when the first download happens ("[ダウンロード通知]"). */
  notifyFirst: boolean;
  firstDownloadAt: number | null;
  files: DownloadFileRecord[];
  links: DownloadLinkRecord[];
}

export interface NewDownloadPackage extends Omit<
  DownloadPackageRecord,
  "stoppedAt" | "firstDownloadAt" | "files" | "links"
> {
  files: Omit<DownloadFileRecord, "packageId" | "stoppedAt" | "deletedAt">[];
  /** tokenHash: sha256 of the link's token (secrets.ts); the token itself is never stored. */
  links: { id: string; recipient: string; tokenHash: string }[];
  audit: AuditEntry[];
}

export type DownloadOutcome =
  | "password_ok"
  | "password_wrong"
  | "code_sent"
  | "code_ok"
  | "code_wrong"
  | "locked"
  | "downloaded"
  | "downloaded_all"
  | "limit_reached"
  | "failed";

export interface DownloadLogEntry {
  packageId: string;
  linkId: string | null;
  recipient: string | null;
  /** The file downloaded or refused; null for sign-in events and the ZIP of all files. */
  fileId: string | null;
  ip: string;
  outcome: DownloadOutcome;
}

export interface DownloadLogRecord extends DownloadLogEntry {
  id: number;
  at: number;
}

/** What stopDownloads stops: the whole package, one of its files, or one recipient's link. */
export type DownloadStopTarget = { fileId: string } | { linkId: string } | null;

/** The per-link lockout rule: `limit` wrong answers in a row lock the link for `lockMs`. */
export interface LinkLockout {
  limit: number;
  lockMs: number;
}

export interface Store {
  addUser(user: NewUser): Promise<UserRecord>;
  /**
   * With `maxAgeMs`, the caller accepts a record read up to that long ago: changes made through this
   * store are seen at once, those of another process (the CLI) within maxAgeMs.
   */
  userByEmail(email: string, maxAgeMs?: number): Promise<UserRecord | undefined>;
  userById(id: number): Promise<UserRecord | undefined>;
  listUsers(): Promise<UserRecord[]>;
  updateUser(
    id: number,
    change: Partial<Pick<UserRecord, "role" | "language" | "holdMinutes" | "aliases" | "groups" | "manager">>,
  ): Promise<void>;

  /** Disables (when `disabled`) or enables a user, with its audit entry; false: no such user. */
  setUserDisabled(id: number, disabled: boolean, audit: AuditEntry): Promise<boolean>;
  /** Deletes a user and their tokens; their messages and audit trail stay (user_id becomes null). */
  deleteUser(id: number, audit: AuditEntry): Promise<boolean>;
  /** Sets a user's password hash and revokes their tokens, except `keepTokenId` (the caller's own). */
  setPasswordHash(
    id: number,
    passwordHash: string,
    keepTokenId: string | null,
    audit: AuditEntry,
  ): Promise<void>;

  /** Stores a new token (only its hash) and returns its public id. */
  saveToken(
    hash: string,
    userId: number,
    kind: TokenKind,
    csrf: string | null,
    expiresAt: number | null,
  ): Promise<string>;
  /** The enabled user a live token belongs to. */
  tokenOwner(hash: string, kind: TokenKind, now: number): Promise<TokenOwner | undefined>;
  deleteToken(hash: string): Promise<void>;
  /** A user's tokens that have not expired, newest first. */
  listTokens(userId: number, now: number): Promise<TokenRecord[]>;
  /**
   * Revokes the user's token `tokenId`, or all of their tokens when it is null; returns how many
   * went. A token of another user is never touched.
   */
  revokeTokens(userId: number, tokenId: string | null, audit: AuditEntry): Promise<number>;

  insertMessages(batch: NewMessage[]): Promise<void>;
  /**
   * Messages with a batch still to deliver or decide (pending approval, held, releasing) whose body
   * is in a spool file; acknowledged: the file and its directory entry were durable before the
   * client was answered (markSpoolAcknowledged).
   */
  unfinishedSpooled(): Promise<{ id: string; acknowledged: boolean }[]>;
  /** Records that these messages' spool files and directory entries are durable: they may be acknowledged. */
  markSpoolAcknowledged(ids: string[]): Promise<void>;
  /**
   * Acknowledged messages whose spool file is gone: flags each (bodyMissingAt = now), fails every
   * recipient still pending (response `reason`) and the batches still open, drops their notices not
   * yet sent (a hold notice would offer to release what cannot leave), and queues `notices` and
   * `audit` instead; one transaction (the caller passes at most a few hundred at a time).
   */
  markBodiesMissing(missing: MissingBody[], reason: string, now: number): Promise<void>;
  /** A message's body when it is stored in the database (bodyInDatabase). */
  messageBody(id: string): Promise<Buffer | undefined>;
  /**
   * Deletes messages that were never acknowledged (their spool file did not become durable), with
   * their pending notices; the audit log keeps their acceptance and records why they went.
   */
  forgetMessages(ids: string[], reason: string): Promise<void>;
  message(id: string): Promise<MessageRecord | undefined>;
  /** The messages with these ids that exist, in no particular order. */
  messages(ids: string[]): Promise<MessageRecord[]>;
  messagesByMessageId(messageId: string): Promise<MessageRecord[]>;
  listMessages(filter: MessageFilter): Promise<MessageRecord[]>;
  /** Release or discard every held batch of a message, or only `batchId`; atomic against the scheduler. */
  actOnHeld(
    id: string,
    action: HeldAction,
    actor: string,
    now: number,
    batchId?: string | null,
  ): Promise<HeldActionResult>;
  /** Approves (batches become held) or denies a message awaiting approval, atomically. */
  decideApproval(
    id: string,
    approve: boolean,
    actor: string,
    now: number,
    notices: NewNotice[],
    detail: Record<string, unknown>,
  ): Promise<HeldActionResult>;
  expiredApprovals(now: number): Promise<string[]>;
  isApprover(messageId: string, address: string): Promise<boolean>;
  /** A refused message leaves only its audit entry and the notice to its sender. */
  recordRejection(audit: AuditEntry, notices: NewNotice[]): Promise<void>;

  listPolicies(): Promise<PolicyRecord[]>;
  putPolicy(scope: string, document: string, actor: string): Promise<void>;
  deletePolicy(scope: string, actor: string): Promise<boolean>;
  policyVersion(): Promise<number>;

  resetLeases(): Promise<void>;
  claimDueBatches(now: number, limit: number): Promise<{ message: MessageRecord; batch: BatchRecord }[]>;
  recordAttempts(attempts: AttemptRecord[]): Promise<void>;
  recordCopyDelivered(record: CopyDeliveredRecord): Promise<void>;
  /**
   * Records the copies made of a batch at its first release (their files are durable already), with
   * the download package their links belong to, in one transaction.
   */
  addCopies(
    batchId: string,
    copies: NewCopy[],
    audit: AuditEntry[],
    now: number,
    download?: NewDownloadPackage,
  ): Promise<void>;
  /** Queues notices outside any other change (a download code asked for on the download page). */
  queueNotices(notices: NewNotice[], now: number): Promise<void>;
  claimDueNotices(now: number, limit: number): Promise<NoticeRecord[]>;
  /** Records how notices went, in one transaction: sent (no error), retry at a time, or failed. */
  finishNotices(results: NoticeResult[]): Promise<void>;
  /** When the next of each kind of work is due: a batch to deliver, a notice, an approval deadline. */
  dueTimes(): Promise<DueTimes>;
  queueDepth(): Promise<{ held: number; releasing: number; notices: number }>;

  audit(entries: AuditEntry[]): Promise<void>;
  listAudit(filter: { messageId?: string; limit: number }): Promise<AuditRecord[]>;

  saveDkimKey(domain: string, selector: string, privateKey: string): Promise<void>;
  dkimKey(domain: string): Promise<{ selector: string; privateKey: string } | undefined>;

  // Retention (server/src/retention.ts): each call deletes at most `limit` rows in one short
  // transaction, so that intake's commits never wait long behind it.
  /**
   * Deletes the bodies of messages that reached their final status at or before `finalBefore` and
   * have no batch left to deliver or decide, recording `now` as when. Returns how many, and the ids
   * of those with files in the spool (a body file, or copies made for attachments): the caller
   * removes the files.
   */
  deleteFinishedBodies(
    finalBefore: number,
    now: number,
    limit: number,
  ): Promise<{ deleted: number; spooled: string[] }>;
  /** The files (paths under the spool's copies folder) of the copies recorded for these messages. */
  copyFilesOf(messageIds: string[]): Promise<Set<string>>;
  /** Of these message ids, those whose body is kept in a spool file (not in the database, not deleted). */
  spooledBodiesKept(ids: string[]): Promise<Set<string>>;
  /** Deletes messages (with their batches, recipients, approvers) final at or before `finalBefore` whose body is gone. */
  purgeMessages(finalBefore: number, limit: number): Promise<number>;
  /** Deletes notices sent or given up that were created at or before `createdBefore`. */
  purgeNotices(createdBefore: number, limit: number): Promise<number>;
  purgeAudit(before: number, limit: number): Promise<number>;
  /** Deletes API tokens and sessions that expired at or before `now`. */
  purgeExpiredTokens(now: number, limit: number): Promise<number>;

  /** Stores a package with its files and links (and the audit entries) in one transaction. */
  insertDownloadPackage(pkg: NewDownloadPackage): Promise<void>;
  downloadPackage(id: string): Promise<DownloadPackageRecord | undefined>;
  /** The link whose token hashes to `tokenHash`, with its package. */
  downloadLinkByToken(
    tokenHash: string,
  ): Promise<{ package: DownloadPackageRecord; link: DownloadLinkRecord } | undefined>;
  /**
   * Counts an attempt against a link before its password or code is checked, so that a burst of
   * concurrent guesses cannot pass the limit: refused while the link is locked (lockedUntil) or
   * while `limit` attempts are already counted and not yet decided (lockedUntil null).
   */
  reserveDownloadAttempt(
    linkId: string,
    limit: number,
    now: number,
  ): Promise<{ ok: true } | { ok: false; lockedUntil: number | null }>;
  /**
   * A reserved attempt was wrong: locks the link when the count reached the limit (the count then
   * starts again), and logs it; returns until when the link is locked, or null.
   */
  recordDownloadFailure(
    linkId: string,
    lockout: LinkLockout,
    now: number,
    log: DownloadLogEntry,
  ): Promise<{ lockedUntil: number | null }>;
  /** A right password or code: the link's failure count and pending code are cleared, and it is logged. */
  recordDownloadSuccess(linkId: string, now: number, log: DownloadLogEntry): Promise<void>;
  /** Keeps a new one-time code (its hash) for a link, replacing any earlier one, and logs it. */
  setDownloadCode(linkId: string, codeHash: string, expiresAt: number, log: DownloadLogEntry): Promise<void>;
  /**
   * Counts one download on a link if it is under `maxDownloads` (null: no limit), atomically, and
   * logs it (or limit_reached). first: this was the link's first download; `firstNotice` is then
   * queued in the same transaction (once per link, however many downloads run at once).
   */
  countDownload(
    linkId: string,
    maxDownloads: number | null,
    now: number,
    log: DownloadLogEntry,
    firstNotice?: NewNotice | null,
  ): Promise<{ counted: boolean; first: boolean }>;
  logDownloads(entries: DownloadLogEntry[], now: number): Promise<void>;
  /** A package's log, newest first. */
  downloadLog(packageId: string, limit: number): Promise<DownloadLogRecord[]>;
  /** Stops a package, one file or one link (already stopped stays as it was); false: nothing matched. */
  stopDownloads(
    packageId: string,
    target: DownloadStopTarget,
    now: number,
    audit: AuditEntry,
  ): Promise<boolean>;
  /** Sets a package's expiry; false: no such package. */
  extendDownloads(packageId: string, expiresAt: number, audit: AuditEntry): Promise<boolean>;
  /** Stored files not yet deleted that can no longer be downloaded (stopped, or expired by `now`). */
  downloadFilesToDelete(now: number, limit: number): Promise<{ id: string; storageName: string }[]>;
  markDownloadFilesDeleted(ids: string[], now: number): Promise<void>;
  /**
   * Deletes packages (links, files' rows, log) that ended (expired or stopped) at or before
   * `endedBefore` and have no stored file left.
   */
  purgeDownloadPackages(endedBefore: number, limit: number): Promise<number>;
  /** Of these vault file names, those a package still needs (a row, not deleted). */
  keptDownloadFiles(storageNames: string[]): Promise<Set<string>>;

  close(): Promise<void>;
}
