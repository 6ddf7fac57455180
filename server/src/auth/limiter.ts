// Counts failed password attempts per key (user, IP network) in a fixed window and locks the key out
// when it reaches its limit. In memory: a restart forgets, which errs on the side of letting users in.
import { isIPv4, isIPv6 } from "node:net";

export interface LimitRule {
  prefix: string;
  limit: number;
}

interface Window {
  count: number;
  since: number;
}

/** An attempt counted before its password was checked; it stays a failure unless given back. */
export interface Reservation {
  giveBack(): void;
}

export class FailureLimiter {
  private readonly counts = new Map<string, Window>();

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

  /**
   * Counts an attempt as failed on every key before the password is checked, or refuses it (with
   * the seconds to wait) when a key is at its limit. Checking first and counting after the check
   * let every attempt of a concurrent burst through before the first failure was counted.
   */
  reserve(keys: { key: string; limit: number }[]): { retryAfter: number } | Reservation {
    const retryAfter = this.retryAfter(keys);
    if (retryAfter > 0) return { retryAfter };
    this.fail(keys.map((k) => k.key));
    let counted = keys.map(({ key }) => ({ key, entry: this.counts.get(key) }));
    return {
      giveBack: () => {
        const once = counted;
        counted = [];
        for (const { key, entry } of once) {
          // A window that ended (or was cleared) since has nothing of this attempt left to give back.
          if (entry && this.counts.get(key) === entry && entry.count > 0) entry.count--;
        }
      },
    };
  }

  succeed(key: string): void {
    this.counts.delete(key);
  }

  private sweep(now: number): void {
    for (const [key, entry] of this.counts) if (now - entry.since >= this.windowMs) this.counts.delete(key);
  }
}

/**
 * The limiter key of a client address. An IPv6 client usually owns a whole /64 (SLAAC, privacy
 * addresses), so one per address would give a guesser 2^64 fresh limits: IPv6 is keyed by its /64.
 * An IPv4-mapped IPv6 address (::ffff:192.0.2.1, from a dual-stack socket) counts as its IPv4.
 */
export function addressKey(address: string): string {
  const ip = address.replace(/%.*$/, ""); // a zone index (fe80::1%eth0) names the interface, not the host
  const groups = isIPv6(ip) ? ipv6Groups(ip) : null;
  if (!groups) return ip.toLowerCase();
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (mapped) {
    const [high = 0, low = 0] = groups.slice(6);
    return [high >> 8, high & 0xff, low >> 8, low & 0xff].join(".");
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(":")}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (with "::" expanded and a dotted IPv4 tail read). */
function ipv6Groups(ip: string): number[] | null {
  let text = ip;
  const tail = /:(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (tail) {
    if (!isIPv4(tail)) return null;
    const [a = 0, b = 0, c = 0, d = 0] = tail.split(".").map(Number);
    text = `${text.slice(0, -tail.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", rest] = text.split("::");
  const parse = (part: string) => (part ? part.split(":").map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  const missing = 8 - left.length - right.length;
  if (missing < 0 || (rest === undefined && missing !== 0)) return null;
  return [...left, ...Array<number>(missing).fill(0), ...right];
}
