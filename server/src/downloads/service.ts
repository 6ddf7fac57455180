// Turns separated attachments into a download package: each file encrypted into the vault, one
// link per recipient (a 256-bit token, of which only the hash is stored), the password hashed.
// Callable on its own (tests, the API) as well as from the pipeline's web-download transform.
import { hashPassword, newId, newToken, sha256 } from "../secrets.js";
import type { NewDownloadPackage, Store } from "../store/types.js";
import { uniqueEntryNames } from "../pipeline/transform/zip/names.js";
import type { StoredFile, Vault } from "./vault.js";

/** Longest file name kept, in code points (Windows paths, and the list page, stay usable). */
export const MAX_FILE_NAME_LENGTH = 200;
const MAX_PASSWORD_CHARS = 1024;
const MAX_RECIPIENTS = 1000;
const MAX_FILES = 1000;

export interface DownloadFileInput {
  /** A plaintext temporary file; left in place (the caller removes it). */
  path: string;
  /** As the sender named it; made harmless (no path, controls, bidi overrides) and unique. */
  name: string;
  contentType: string;
}

export type DownloadAuth = { mode: "password"; password: string } | { mode: "otp" };

export interface NewDownloadRequest {
  messageId: string;
  ownerUserId: number | null;
  files: DownloadFileInput[];
  recipients: string[];
  auth: DownloadAuth;
  /** Epoch milliseconds; after now and at most maxExpiryDays ahead. */
  expiresAt: number;
  /** Downloads each link may make (a file or the ZIP of all); default: no limit. */
  maxDownloads?: number;
  /** Tell the sender at the first download; default false. */
  notifyFirst?: boolean;
  /** Who the audit entry names; default "gateway". */
  actor?: string;
}

export interface DownloadLink {
  recipient: string;
  token: string;
  url: string;
}

export interface CreatedDownloadPackage {
  packageId: string;
  links: DownloadLink[];
}

export interface PreparedDownloadPackage extends CreatedDownloadPackage {
  /** The rows to store: Store.insertDownloadPackage, or Store.addCopies with the copies linking to it. */
  record: NewDownloadPackage;
}

export interface DownloadServiceOptions {
  store: Store;
  vault: Vault;
  /** The gateway's public base URL (Links.publicUrl); links are publicUrl + /d/TOKEN. */
  publicUrl: string;
  /** The furthest expiry a package may have, counted from now; default 30 days. */
  maxExpiryDays?: number;
  now?: () => number;
}

/** A request the service refuses; the message names what was wrong. */
export class DownloadRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DownloadRequestError";
  }
}

export const DEFAULT_MAX_EXPIRY_DAYS = 30;

export class DownloadService {
  private readonly store: Store;
  private readonly vault: Vault;
  private readonly base: string;
  private readonly now: () => number;
  readonly maxExpiryMs: number;

  constructor(options: DownloadServiceOptions) {
    this.store = options.store;
    this.vault = options.vault;
    this.base = options.publicUrl.replace(/\/+$/, "");
    this.now = options.now ?? Date.now;
    this.maxExpiryMs = (options.maxExpiryDays ?? DEFAULT_MAX_EXPIRY_DAYS) * 86400_000;
  }

  url(token: string): string {
    return `${this.base}/d/${token}`;
  }

  /** Throws DownloadRequestError unless `expiresAt` lies after now and within the maximum. */
  checkExpiry(expiresAt: number): void {
    const now = this.now();
    if (!Number.isFinite(expiresAt) || expiresAt <= now)
      throw new DownloadRequestError("expiresAt must lie in the future");
    if (expiresAt > now + this.maxExpiryMs)
      throw new DownloadRequestError(
        `expiresAt may lie at most ${this.maxExpiryMs / 86400_000} days ahead (${new Date(now + this.maxExpiryMs).toISOString()})`,
      );
  }

  /** Stores the files and the rows of a package in one go: what the API and tests call. */
  async createDownloadPackage(request: NewDownloadRequest): Promise<CreatedDownloadPackage> {
    const prepared = await this.prepareDownloadPackage(request);
    try {
      await this.store.insertDownloadPackage(prepared.record);
    } catch (err) {
      await this.discard(prepared.record);
      throw err;
    }
    return { packageId: prepared.packageId, links: prepared.links };
  }

  /**
   * Stores the files in the vault and makes the links, but not the rows: the caller commits
   * `record` itself, with whatever refers to the package (the web-download copies, in the same
   * transaction, so a crash never leaves a package no copy links to), or discard()s it.
   */
  async prepareDownloadPackage(request: NewDownloadRequest): Promise<PreparedDownloadPackage> {
    const recipients = this.checkRequest(request);
    const names = uniqueEntryNames(
      request.files.map((f) => f.name),
      MAX_FILE_NAME_LENGTH,
    );
    const passwordHash = request.auth.mode === "password" ? await hashPassword(request.auth.password) : null;
    const stored: StoredFile[] = [];
    try {
      for (const file of request.files) stored.push(await this.vault.put(file.path));
    } catch (err) {
      // Nothing refers to files of a package that was not stored.
      await Promise.all(stored.map((s) => this.vault.remove(s.storageName)));
      throw err;
    }
    const packageId = newId();
    const links = recipients.map((recipient) => ({ id: newId(), recipient, token: newToken() }));
    const record: NewDownloadPackage = {
      id: packageId,
      messageId: request.messageId,
      ownerUserId: request.ownerUserId,
      createdAt: this.now(),
      expiresAt: request.expiresAt,
      authMode: request.auth.mode,
      passwordHash,
      maxDownloads: request.maxDownloads ?? null,
      notifyFirst: request.notifyFirst ?? false,
      files: stored.map((s, i) => ({
        id: newId(),
        name: names[i] as string,
        contentType: request.files[i]?.contentType || "application/octet-stream",
        size: s.size,
        sha256: s.sha256,
        storageName: s.storageName,
        key: s.key,
      })),
      links: links.map((l) => ({ id: l.id, recipient: l.recipient, tokenHash: sha256(l.token) })),
      audit: [
        {
          actor: request.actor ?? "gateway",
          action: "downloads_created",
          messageId: request.messageId,
          detail: { packageId, files: stored.length, recipients, authMode: request.auth.mode },
        },
      ],
    };
    return {
      packageId,
      links: links.map((l) => ({ recipient: l.recipient, token: l.token, url: this.url(l.token) })),
      record,
    };
  }

  /** Removes the vault files of a prepared package whose rows were not stored. */
  async discard(record: NewDownloadPackage): Promise<void> {
    await Promise.all(record.files.map((f) => this.vault.remove(f.storageName)));
  }

  /** The recipients, deduplicated without case; throws DownloadRequestError naming the first problem. */
  private checkRequest(request: NewDownloadRequest): string[] {
    const { files, auth, maxDownloads } = request;
    if (!files.length) throw new DownloadRequestError("a download package needs at least one file");
    if (files.length > MAX_FILES) throw new DownloadRequestError(`at most ${MAX_FILES} files in a package`);
    if (auth.mode === "password" && (!auth.password || auth.password.length > MAX_PASSWORD_CHARS))
      throw new DownloadRequestError(`the password must have 1 to ${MAX_PASSWORD_CHARS} characters`);
    if (maxDownloads !== undefined && (!Number.isInteger(maxDownloads) || maxDownloads < 1))
      throw new DownloadRequestError("maxDownloads must be a whole number of at least 1");
    this.checkExpiry(request.expiresAt);
    const seen = new Map<string, string>();
    for (const recipient of request.recipients) {
      if (!/^[^\s@]+@[^\s@]+$/.test(recipient) || recipient.length > 320)
        throw new DownloadRequestError(`not an e-mail address: ${JSON.stringify(recipient.slice(0, 100))}`);
      if (!seen.has(recipient.toLowerCase())) seen.set(recipient.toLowerCase(), recipient);
    }
    if (!seen.size) throw new DownloadRequestError("a download package needs at least one recipient");
    if (seen.size > MAX_RECIPIENTS) throw new DownloadRequestError(`at most ${MAX_RECIPIENTS} recipients`);
    return [...seen.values()];
  }
}
