// Counts failed password attempts per key (user, IP) in a fixed window and locks the key out when
// it reaches its limit. In memory: a restart forgets, which errs on the side of letting users in.
export interface LimitRule {
  prefix: string;
  limit: number;
}

export class FailureLimiter {
  private readonly counts = new Map<string, { count: number; since: number }>();

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until every key is allowed again; 0 when none of them is locked out. */
  retryAfter(keys: { key: string; limit: number }[]): number {
    let wait = 0;
    const now = this.now();
    for (const { key, limit } of keys) {
      const entry = this.counts.get(key);
      if (!entry || now - entry.since >= this.windowMs) continue;
      if (entry.count >= limit) wait = Math.max(wait, Math.ceil((entry.since + this.windowMs - now) / 1000));
    }
    return wait;
  }

  fail(keys: string[]): void {
    const now = this.now();
    for (const key of keys) {
      const entry = this.counts.get(key);
      if (!entry || now - entry.since >= this.windowMs) this.counts.set(key, { count: 1, since: now });
      else entry.count++;
    }
    if (this.counts.size > 100_000) this.sweep(now);
  }

  succeed(key: string): void {
    this.counts.delete(key);
  }

  private sweep(now: number): void {
    for (const [key, entry] of this.counts) if (now - entry.since >= this.windowMs) this.counts.delete(key);
  }
}
