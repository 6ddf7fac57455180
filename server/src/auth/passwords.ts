// Checks an e-mail/password pair for SMTP AUTH and the web, with per-user and per-IP lockout and a
// bound on how many password hashes are computed at once.
import type { Config } from "../config/schema.js";
import { randomBytes } from "node:crypto";
import { dummyPasswordHash, hmac, verifyPassword } from "../secrets.js";
import { Semaphore } from "../semaphore.js";
import type { Store, UserRecord } from "../store/types.js";
import { addressKey, FailureLimiter } from "./limiter.js";

export type AuthResult =
  | { ok: true; user: UserRecord }
  | { ok: false; reason: "bad_credentials" }
  /** The password was right, but an admin disabled the account. */
  | { ok: false; reason: "disabled" }
  | { ok: false; reason: "too_many_attempts"; retryAfter: number }
  /** Every password-check slot is taken and the queue for them is full: try again shortly. */
  | { ok: false; reason: "busy" };

export interface PasswordCheckSlots {
  /** Hashes computed at once (config auth.concurrentPasswordChecks). */
  concurrent: number;
  /** Checks that may wait for a slot (config auth.queuedPasswordChecks). */
  queued: number;
  /** The hash comparison; tests wrap it to see how many guesses reach scrypt. */
  verify?: (password: string, hash: string) => Promise<boolean>;
}

/** How long a successful login is remembered (Dovecot's auth_cache_ttl plays the same role). */
const REMEMBER_MS = 5 * 60_000;
const REMEMBER_MAX = 10_000;

export class PasswordChecker {
  private readonly limiter: FailureLimiter;
  /**
   * scrypt runs in libuv's thread pool (4 threads by default), where the spool's fsyncs and every
   * SQLite statement run too: a flood of AUTH attempts, each ~50 ms of scrypt, would otherwise
   * occupy all of it and stall intake.
   */
  private readonly slots: Semaphore;
  private readonly verify: (password: string, hash: string) => Promise<boolean>;
  /**
   * Recent successful logins, so a client that authenticates for every message does not cost
   * ~50 ms of scrypt each time. Keyed by an HMAC (process-local key) of user, stored hash and
   * password: a changed password misses, and failures are never remembered.
   */
  private readonly remembered = new Map<string, number>();
  private readonly rememberKey = randomBytes(32);

  constructor(
    private readonly store: Store,
    private readonly limits: Config["smtp"]["authFailures"],
    slots: PasswordCheckSlots,
  ) {
    this.limiter = new FailureLimiter(limits.windowSeconds * 1000);
    this.slots = new Semaphore(slots.concurrent, slots.queued);
    this.verify = slots.verify ?? verifyPassword;
  }

  async check(email: string, password: string, ip: string): Promise<AuthResult> {
    const userKey = `user:${email.toLowerCase()}`;
    const attempt = this.limiter.reserve([
      { key: userKey, limit: this.limits.perUser },
      { key: `ip:${addressKey(ip)}`, limit: this.limits.perIp },
    ]);
    if ("retryAfter" in attempt)
      return { ok: false, reason: "too_many_attempts", retryAfter: attempt.retryAfter };
    let valid: boolean | "busy";
    let user: UserRecord | undefined;
    let memo: string | undefined;
    try {
      user = await this.store.userByEmail(email);
      memo = user && hmac(this.rememberKey, `${user.id}\0${user.passwordHash}\0${password}`);
      valid =
        memo && (this.remembered.get(memo) ?? 0) > Date.now() ? true : await this.hashCheck(password, user);
    } catch (err) {
      attempt.giveBack(); // no verdict was reached: the attempt is not the caller's failure
      throw err;
    }
    if (valid === "busy") {
      attempt.giveBack();
      return { ok: false, reason: "busy" };
    }
    if (!user || !valid) return { ok: false, reason: "bad_credentials" };
    if (user.disabledAt !== null) return { ok: false, reason: "disabled" };
    attempt.giveBack();
    this.limiter.succeed(userKey);
    this.remember(memo as string);
    return { ok: true, user };
  }

  /** Hashes even for unknown users, so response time does not reveal which addresses exist. */
  private async hashCheck(password: string, user: UserRecord | undefined): Promise<boolean | "busy"> {
    const slot = this.slots.acquire();
    if (!slot) return "busy";
    const release = await slot;
    try {
      return await this.verify(password, user?.passwordHash ?? (await dummyPasswordHash()));
    } finally {
      release();
    }
  }

  private remember(memo: string): void {
    this.remembered.delete(memo);
    this.remembered.set(memo, Date.now() + REMEMBER_MS);
    if (this.remembered.size > REMEMBER_MAX) {
      const oldest = this.remembered.keys().next().value;
      if (oldest !== undefined) this.remembered.delete(oldest);
    }
  }
}
