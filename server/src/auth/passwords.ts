// Checks an e-mail/password pair for SMTP AUTH and the web, with per-user and per-IP lockout.
import type { Config } from "../config/schema.js";
import { randomBytes } from "node:crypto";
import { dummyPasswordHash, hmac, verifyPassword } from "../secrets.js";
import type { Store, UserRecord } from "../store/types.js";
import { FailureLimiter } from "./limiter.js";

export type AuthResult =
  | { ok: true; user: UserRecord }
  | { ok: false; reason: "bad_credentials" }
  | { ok: false; reason: "too_many_attempts"; retryAfter: number };

/** How long a successful login is remembered (Dovecot's auth_cache_ttl plays the same role). */
const REMEMBER_MS = 5 * 60_000;
const REMEMBER_MAX = 10_000;

export class PasswordChecker {
  private readonly limiter: FailureLimiter;
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
  ) {
    this.limiter = new FailureLimiter(limits.windowSeconds * 1000);
  }

  async check(email: string, password: string, ip: string): Promise<AuthResult> {
    const userKey = `user:${email.toLowerCase()}`;
    const ipKey = `ip:${ip}`;
    const retryAfter = this.limiter.retryAfter([
      { key: userKey, limit: this.limits.perUser },
      { key: ipKey, limit: this.limits.perIp },
    ]);
    if (retryAfter > 0) return { ok: false, reason: "too_many_attempts", retryAfter };
    const user = await this.store.userByEmail(email);
    const memo = user && hmac(this.rememberKey, `${user.id}\0${user.passwordHash}\0${password}`);
    if (user && memo && (this.remembered.get(memo) ?? 0) > Date.now()) {
      this.limiter.succeed(userKey);
      return { ok: true, user };
    }
    // Hash even for unknown users so response time does not reveal which addresses exist.
    const valid = await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash()));
    if (!user || !valid) {
      this.limiter.fail([userKey, ipKey]);
      return { ok: false, reason: "bad_credentials" };
    }
    this.limiter.succeed(userKey);
    this.remember(memo as string);
    return { ok: true, user };
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
