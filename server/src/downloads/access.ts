// Who may open a download link: its password, or a one-time code mailed to the link's recipient,
// with a lockout per link (in the database, so it holds across restarts and processes) and a limit
// per client network (auth/limiter.ts), and comparisons in constant time.
import { addressKey, FailureLimiter } from "../auth/limiter.js";
import type { Language } from "@sendguard/shared";
import { safeEqual, sha256, verifyPassword } from "../secrets.js";
import { Semaphore } from "../semaphore.js";
import type { DownloadLinkRecord, DownloadLogEntry, DownloadPackageRecord, Store } from "../store/types.js";
import { generateCode } from "./password.js";

/** Mails a one-time code to a link's recipient; the lead hooks it to notify/ (tests catch it). */
export interface DownloadCodeSender {
  sendCode(mail: {
    recipient: string;
    code: string;
    language: Language;
    expiresAt: number;
    packageId: string;
  }): Promise<void>;
}

export interface AccessOptions {
  /** Wrong passwords or codes in a row that lock a link; default 5. */
  linkAttempts?: number;
  /** How long a locked link stays locked; default 15 minutes. */
  lockMinutes?: number;
  /** Wrong answers from one client network (IPv4 address, IPv6 /64) per window, over all links; default 20. */
  ipAttempts?: number;
  /** The window of ipAttempts; default 15 minutes. */
  ipWindowMinutes?: number;
  /** Digits of a one-time code (6 to 10); default 6. */
  codeDigits?: number;
  /** How long a code is valid; default 10 minutes. */
  codeValidMinutes?: number;
  /** Least time between two codes for one link (the recipient's mailbox is not to be flooded); default 60 s. */
  codeResendSeconds?: number;
  /** Password hashes computed at once (scrypt, ~50 ms each, in libuv's pool); default 2, 20 more may wait. */
  concurrentChecks?: number;
}

const DEFAULTS: Required<AccessOptions> = {
  linkAttempts: 5,
  lockMinutes: 15,
  ipAttempts: 20,
  ipWindowMinutes: 15,
  codeDigits: 6,
  codeValidMinutes: 10,
  codeResendSeconds: 60,
  concurrentChecks: 2,
};

export type AccessResult =
  | { ok: true }
  | { ok: false; reason: "wrong" }
  | { ok: false; reason: "locked"; retryAfter: number }
  /** otp: no code was asked for, or it ran out. */
  | { ok: false; reason: "no_code" }
  /** Every password-check slot is taken: try again shortly. */
  | { ok: false; reason: "busy" };

export type CodeResult = { sent: true; expiresAt: number } | { sent: false; retryAfter: number };

/** A link found by its token, with its package. */
export interface FoundLink {
  package: DownloadPackageRecord;
  link: DownloadLinkRecord;
}

/** Why a link cannot be used any more, or null while it can. */
export type LinkEnd = "stopped" | "expired" | "limit" | "no_files" | null;

export function linkEnd(found: FoundLink, now: number): LinkEnd {
  const { package: pkg, link } = found;
  if (pkg.stoppedAt !== null || link.stoppedAt !== null) return "stopped";
  if (pkg.expiresAt <= now) return "expired";
  if (pkg.maxDownloads !== null && link.downloadCount >= pkg.maxDownloads) return "limit";
  if (!liveFiles(pkg).length) return "no_files";
  return null;
}

/** The files of a package that can still be downloaded. */
export function liveFiles(pkg: DownloadPackageRecord) {
  return pkg.files.filter((f) => f.stoppedAt === null && f.deletedAt === null);
}

function codeHash(linkId: string, code: string): string {
  return sha256(`download-code:${linkId}:${code}`);
}

export class DownloadAccess {
  private readonly options: Required<AccessOptions>;
  private readonly ipLimiter: FailureLimiter;
  private readonly slots: Semaphore;

  constructor(
    private readonly store: Store,
    private readonly codes: DownloadCodeSender,
    options: AccessOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.ipLimiter = new FailureLimiter(this.options.ipWindowMinutes * 60_000, now);
    this.slots = new Semaphore(this.options.concurrentChecks, 20);
  }

  /** Takes a password-check slot first: an attempt counted is always decided (verifyPassword never throws). */
  async checkPassword(found: FoundLink, password: string, ip: string): Promise<AccessResult> {
    const hash = found.package.passwordHash;
    const slot = this.slots.acquire();
    if (!slot) return { ok: false, reason: "busy" };
    const release = await slot;
    try {
      return await this.check(
        found,
        ip,
        "password",
        async () => hash !== null && verifyPassword(password, hash),
      );
    } finally {
      release();
    }
  }

  checkCode(found: FoundLink, code: string, ip: string): Promise<AccessResult> {
    const { link } = found;
    if (!link.codeHash || link.codeExpiresAt === null || link.codeExpiresAt <= this.now())
      return Promise.resolve({ ok: false, reason: "no_code" });
    const stored = link.codeHash;
    return this.check(found, ip, "code", async () => safeEqual(codeHash(link.id, code.trim()), stored));
  }

  /** Mails a new code to the link's recipient, unless one went out less than codeResendSeconds ago. */
  async sendCode(found: FoundLink, ip: string, language: Language): Promise<CodeResult> {
    const { link, package: pkg } = found;
    const now = this.now();
    const validMs = this.options.codeValidMinutes * 60_000;
    if (link.codeExpiresAt !== null) {
      const nextAt = link.codeExpiresAt - validMs + this.options.codeResendSeconds * 1000;
      if (nextAt > now) return { sent: false, retryAfter: Math.ceil((nextAt - now) / 1000) };
    }
    const code = generateCode(this.options.codeDigits);
    const expiresAt = now + validMs;
    await this.store.setDownloadCode(
      link.id,
      codeHash(link.id, code),
      expiresAt,
      this.entry(found, ip, "code_sent"),
    );
    await this.codes.sendCode({ recipient: link.recipient, code, language, expiresAt, packageId: pkg.id });
    return { sent: true, expiresAt };
  }

  private async check(
    found: FoundLink,
    ip: string,
    kind: "password" | "code",
    verify: () => Promise<boolean>,
  ): Promise<AccessResult> {
    const now = this.now();
    const { link } = found;
    const retryAfter = (until: number) => Math.ceil((until - now) / 1000);
    const attempt = this.ipLimiter.reserve([
      { key: `download:${addressKey(ip)}`, limit: this.options.ipAttempts },
    ]);
    if ("retryAfter" in attempt) return { ok: false, reason: "locked", retryAfter: attempt.retryAfter };
    // Counted on the link before the check, as on the client network: a burst of concurrent
    // guesses cannot all be checked before the first failure is recorded.
    const reserved = await this.store.reserveDownloadAttempt(link.id, this.options.linkAttempts, now);
    if (!reserved.ok) {
      attempt.giveBack();
      return reserved.lockedUntil === null
        ? { ok: false, reason: "busy" }
        : { ok: false, reason: "locked", retryAfter: retryAfter(reserved.lockedUntil) };
    }
    if (await verify()) {
      attempt.giveBack();
      await this.store.recordDownloadSuccess(link.id, now, this.entry(found, ip, `${kind}_ok`));
      return { ok: true };
    }
    const { lockedUntil } = await this.store.recordDownloadFailure(
      link.id,
      { limit: this.options.linkAttempts, lockMs: this.options.lockMinutes * 60_000 },
      now,
      this.entry(found, ip, `${kind}_wrong`),
    );
    return lockedUntil === null
      ? { ok: false, reason: "wrong" }
      : { ok: false, reason: "locked", retryAfter: retryAfter(lockedUntil) };
  }

  private entry(found: FoundLink, ip: string, outcome: DownloadLogEntry["outcome"]): DownloadLogEntry {
    return {
      packageId: found.package.id,
      linkId: found.link.id,
      recipient: found.link.recipient,
      fileId: null,
      ip,
      outcome,
    };
  }
}
