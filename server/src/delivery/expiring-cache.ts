// A map whose entries expire after their own TTL and whose size is capped: past the cap the entry
// written longest ago goes first, so a flood of distinct keys cannot grow memory.

export interface ExpiringCacheOptions {
  /** Most entries kept. Default 10,000. */
  maxEntries?: number;
  /** Clock in milliseconds. Default Date.now (tests pass their own). */
  now?: () => number;
}

export class ExpiringCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: ExpiringCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt > this.now()) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: V, ttlMs: number): void {
    // Deleting first moves a rewritten key to the end of the Map's insertion order.
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldest);
    }
  }
}
