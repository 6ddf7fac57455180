// Retention: deletes what is past its keeping time (config `retention`): message bodies some days
// after the message's final status, its rows and notices later, old audit entries, expired tokens
// and sessions, old outbox files, and spool files that belong to no kept body. It works in batches
// of at most `retention.batchSize` rows, each its own short transaction, yielding between them, so
// that intake's commits (queued on the same connection) never wait behind more than one batch.
import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "./config/schema.js";
import type { Vault } from "./downloads/vault.js";
import { outboxDir } from "./delivery/relay.js";
import type { Logger } from "./log.js";
import type { Spool } from "./store/spool.js";
import type { Store } from "./store/types.js";

const DAY_MS = 86_400_000;

/**
 * A spool file with no kept body is removed only once it is this old: a message being taken in
 * right now has its file before its rows are committed.
 */
export const ORPHAN_MIN_AGE_MS = 3600_000;

export interface RetentionSummary {
  bodies: number;
  messages: number;
  notices: number;
  audit: number;
  tokens: number;
  orphanSpoolFiles: number;
  outboxFiles: number;
  /** Stored download files of packages expired or stopped (or files stopped), and orphans. */
  downloadFiles: number;
  downloadPackages: number;
}

export interface RetentionDeps {
  config: Config;
  store: Store;
  spool: Spool;
  /** The download centre's files; without it no download data is touched. */
  vault?: Vault;
  log: Logger;
  /** The time a run takes as now; tests move it forward instead of waiting days. */
  clock?: () => number;
}

const yieldTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class RetentionJob {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<RetentionSummary> | null = null;
  private stopped = false;
  private readonly clock: () => number;

  constructor(private readonly deps: RetentionDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  /** Runs once now (in the background) and then every `retention.intervalMinutes`. */
  start(): void {
    const every = this.deps.config.retention.intervalMinutes * 60_000;
    this.timer = setInterval(() => this.runInBackground(), every);
    this.timer.unref();
    this.runInBackground();
  }

  /** Stops the timer and waits for a run in progress, which ends after its current batch. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  private runInBackground(): void {
    this.run().catch((err: unknown) => this.deps.log.error({ err }, "retention run failed"));
  }

  /** One run over everything; a call while a run is in progress gets that run's result. */
  run(): Promise<RetentionSummary> {
    this.running ??= this.runOnce().finally(() => (this.running = null));
    return this.running;
  }

  private async runOnce(): Promise<RetentionSummary> {
    const { config, store, spool, log } = this.deps;
    const { bodyDays, metadataDays, auditDays, outboxDays, downloadDays, batchSize } = config.retention;
    const now = this.clock();
    const before = (days: number) => now - days * DAY_MS;
    const summary: RetentionSummary = {
      bodies: 0,
      messages: 0,
      notices: 0,
      audit: 0,
      tokens: 0,
      orphanSpoolFiles: 0,
      outboxFiles: 0,
      downloadFiles: 0,
      downloadPackages: 0,
    };
    // Bodies before rows: a message's rows go only once its body has (and the config keeps rows
    // at least as long as bodies).
    if (bodyDays !== null) {
      summary.bodies = await this.inBatches(async () => {
        const { deleted, spooled } = await store.deleteFinishedBodies(before(bodyDays), now, batchSize);
        // After the commit: a crash in between leaves files whose body is recorded as deleted,
        // which the orphan sweep below removes.
        await spool.removeBodies(spooled);
        return deleted;
      });
    }
    if (metadataDays !== null) {
      const cutoff = before(metadataDays);
      summary.messages = await this.inBatches(() => store.purgeMessages(cutoff, batchSize));
      summary.notices = await this.inBatches(() => store.purgeNotices(cutoff, batchSize));
    }
    if (auditDays !== null) {
      const cutoff = before(auditDays);
      summary.audit = await this.inBatches(() => store.purgeAudit(cutoff, batchSize));
    }
    summary.tokens = await this.inBatches(() => store.purgeExpiredTokens(now, batchSize));
    if (!this.stopped) summary.orphanSpoolFiles = await this.sweepSpool(now);
    if (outboxDays !== null && !this.stopped) {
      summary.outboxFiles = await this.sweepOutbox(before(outboxDays), now);
    }
    const { vault } = this.deps;
    if (vault && !this.stopped) {
      summary.downloadFiles = await this.inBatches(async () => {
        const files = await store.downloadFilesToDelete(now, batchSize);
        // Files first: a crash in between leaves rows that the next run deletes again (force).
        for (const file of files) await vault.remove(file.storageName);
        await store.markDownloadFilesDeleted(
          files.map((f) => f.id),
          now,
        );
        return files.length;
      });
      if (downloadDays !== null) {
        const cutoff = before(downloadDays);
        summary.downloadPackages = await this.inBatches(() => store.purgeDownloadPackages(cutoff, batchSize));
      }
      if (!this.stopped) summary.downloadFiles += await this.sweepVault(vault, now);
    }
    if (Object.values(summary).some((n) => n > 0)) {
      log.info({ event: "retention", ...summary }, "retention deleted old data");
      await store.audit([{ actor: "retention", action: "retention_run", detail: { ...summary } }]);
    }
    return summary;
  }

  /** Repeats `batch` (which deletes up to `retention.batchSize` rows) until it finds less than a full batch. */
  private async inBatches(batch: () => Promise<number>): Promise<number> {
    let total = 0;
    while (!this.stopped) {
      const deleted = await batch();
      total += deleted;
      if (deleted < this.deps.config.retention.batchSize) break;
      await yieldTurn();
    }
    return total;
  }

  /** Removes spool files that belong to no kept body and are older than ORPHAN_MIN_AGE_MS. */
  private async sweepSpool(now: number): Promise<number> {
    const { store, spool } = this.deps;
    const ids = await spool.bodyIds();
    const kept = await store.spooledBodiesKept(ids);
    const orphans: string[] = [];
    for (const id of ids) {
      if (kept.has(id)) continue;
      const modifiedAt = await spool.bodyModifiedAt(id);
      if (modifiedAt !== null && modifiedAt <= now - ORPHAN_MIN_AGE_MS) orphans.push(id);
    }
    await spool.removeBodies(orphans);
    if (orphans.length)
      this.deps.log.warn(
        { msg_ids: orphans.slice(0, 100), count: orphans.length },
        "removed orphan spool files",
      );
    return orphans.length;
  }

  /**
   * Removes vault files no package needs (a crash between storing a file and its package's commit,
   * or during a deletion) and partial ones, once ORPHAN_MIN_AGE_MS old: a package being made has
   * its files before its rows.
   */
  private async sweepVault(vault: Vault, now: number): Promise<number> {
    const { stored, partial } = await vault.list();
    const kept = await this.deps.store.keptDownloadFiles(stored);
    let removed = 0;
    for (const name of [...stored.filter((n) => !kept.has(n)), ...partial]) {
      const modifiedAt = await vault.modifiedAt(name);
      if (modifiedAt === null || modifiedAt > now - ORPHAN_MIN_AGE_MS) continue;
      await vault.remove(name);
      removed++;
    }
    return removed;
  }

  /**
   * Removes outbox files last written at or before `cutoff`, and temporary ones a crash left (only
   * once they are ORPHAN_MIN_AGE_MS old: a younger one may be being written).
   */
  private async sweepOutbox(cutoff: number, now: number): Promise<number> {
    const dir = outboxDir(this.deps.config);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return 0;
      throw err;
    }
    let removed = 0;
    for (const name of names) {
      const temporary = name.endsWith(".eml.tmp");
      if (!temporary && !name.endsWith(".eml")) continue;
      const path = join(dir, name);
      const info = await stat(path).catch(() => null);
      const limit = temporary ? Math.min(cutoff, now - ORPHAN_MIN_AGE_MS) : cutoff;
      if (!info?.isFile() || info.mtimeMs > limit) continue;
      await rm(path, { force: true });
      removed++;
    }
    return removed;
  }
}
