// Checks an e-mail/password pair for SMTP AUTH and the web, with per-user and per-IP lockout.
import type { Config } from "../config/schema.js";
import { DUMMY_PASSWORD_HASH, verifyPassword } from "../secrets.js";
import type { Store, UserRecord } from "../store/types.js";
import { FailureLimiter } from "./limiter.js";

export type AuthResult =
  | { ok: true; user: UserRecord }
  | { ok: false; reason: "bad_credentials" }
  | { ok: false; reason: "too_many_attempts"; retryAfter: number };

export class PasswordChecker {
  private readonly limiter: FailureLimiter;

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
    // Hash even for unknown users so response time does not reveal which addresses exist.
    const valid = await verifyPassword(password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
    if (!user || !valid) {
      this.limiter.fail([userKey, ipKey]);
      return { ok: false, reason: "bad_credentials" };
    }
    this.limiter.succeed(userKey);
    return { ok: true, user };
  }
}
