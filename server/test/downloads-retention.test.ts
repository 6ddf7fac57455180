// Retention of the download centre (server/src/retention.ts with a vault): stored files go at the
// first run after their package expired or was stopped (or the file was stopped), the rows and
// log `retention.downloadDays` later, and vault files no package needs once an hour old.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { parseConfig } from "../src/config/load.js";
import { DownloadService } from "../src/downloads/service.js";
import { Vault } from "../src/downloads/vault.js";
import { createLogger } from "../src/log.js";
import { ORPHAN_MIN_AGE_MS, RetentionJob } from "../src/retention.js";
import { Spool } from "../src/store/spool.js";
import { SqliteStore } from "../src/store/sqlite.js";

const T = Date.UTC(2026, 0, 5, 9, 0, 0);
const DAY = 86400_000;

async function setup(t: TestContext, retention: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "sendguard-downloads-retention-"));
  const store = await SqliteStore.open(join(dir, "sendguard.db"));
  const spool = new Spool(join(dir, "spool"));
  await spool.init();
  const vault = new Vault(join(dir, "downloads"));
  await vault.init();
  const clock = { now: T };
  const config = parseConfig({ dataDir: dir, retention }, "test");
  const job = new RetentionJob({
    config,
    store,
    spool,
    vault,
    log: createLogger("silent"),
    clock: () => clock.now,
  });
  const service = new DownloadService({ store, vault, publicUrl: "http://gw.test", now: () => clock.now });
  let n = 0;
  const create = async (expiresInDays: number, files = 2) => {
    const paths = Array.from({ length: files }, (_, i) => {
      const path = join(dir, `plain-${++n}`);
      writeFileSync(path, `file ${n}`);
      return { path, name: `f${i}.txt`, contentType: "text/plain" };
    });
    const { packageId } = await service.createDownloadPackage({
      messageId: `m${n}`,
      ownerUserId: null,
      files: paths,
      recipients: ["r@partner.example"],
      auth: { mode: "otp" },
      expiresAt: clock.now + expiresInDays * DAY,
    });
    const pkg = await store.downloadPackage(packageId);
    return { packageId, stored: pkg!.files.map((f) => join(vault.dir, f.storageName)), files: pkg!.files };
  };
  t.after(async () => {
    await job.stop();
    await spool.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, store, vault, clock, job, create };
}

const audit = { actor: "sender@corp.example", action: "downloads_stopped" };

test("files of expired and stopped packages go at the next run, live ones stay; rows go downloadDays later", async (t) => {
  const s = await setup(t);
  const live = await s.create(10);
  const expiring = await s.create(1);
  const stopped = await s.create(10);
  const oneStopped = await s.create(10);
  await s.store.stopDownloads(stopped.packageId, null, T, audit);
  await s.store.stopDownloads(oneStopped.packageId, { fileId: oneStopped.files[0]!.id }, T, audit);

  s.clock.now = T + 1 * DAY; // exactly the expiry: no longer downloadable
  const first = await s.job.run();
  assert.equal(first.downloadFiles, 5);
  for (const path of [...expiring.stored, ...stopped.stored, oneStopped.stored[0]!])
    assert.equal(existsSync(path), false);
  for (const path of [...live.stored, oneStopped.stored[1]!]) assert.equal(existsSync(path), true);
  const gone = await s.store.downloadPackage(expiring.packageId);
  assert.ok(gone?.files.every((f) => f.deletedAt === T + DAY && f.key.length === 0));
  assert.equal(first.downloadPackages, 0, "rows stay downloadDays");
  assert.equal((await s.job.run()).downloadFiles, 0, "nothing twice");

  s.clock.now = T + 90 * DAY; // 90 days after the stop at T, 89 after the expiry
  const later = await s.job.run();
  assert.equal(later.downloadPackages, 1);
  assert.equal(await s.store.downloadPackage(stopped.packageId), undefined);
  assert.ok(await s.store.downloadPackage(expiring.packageId));
  s.clock.now = T + 91 * DAY;
  await s.job.run();
  assert.equal(await s.store.downloadPackage(expiring.packageId), undefined);
  assert.ok(
    await s.store.downloadPackage(oneStopped.packageId),
    "ended (T + 10 days) after the cutoff: its rows stay",
  );
});

test("downloadDays null keeps the rows for good; the files still go", async (t) => {
  const s = await setup(t, { downloadDays: null });
  const p = await s.create(1);
  s.clock.now = T + 1000 * DAY;
  const summary = await s.job.run();
  assert.equal(summary.downloadFiles, 2);
  assert.equal(summary.downloadPackages, 0);
  assert.ok(await s.store.downloadPackage(p.packageId));
});

test("vault files no package needs, and partial ones, go once an hour old; a file being stored is not touched", async (t) => {
  const s = await setup(t);
  const kept = await s.create(10, 1);
  const orphan = join(s.vault.dir, "orphanAAAAAAAAAAAAAAA.sgd");
  const partial = join(s.vault.dir, "crashedAAAAAAAAAAAAAA.part");
  const young = join(s.vault.dir, "youngAAAAAAAAAAAAAAAA.sgd");
  for (const path of [orphan, partial, young]) writeFileSync(path, "x");
  const old = (T - ORPHAN_MIN_AGE_MS - 1000) / 1000;
  utimesSync(orphan, old, old);
  utimesSync(partial, old, old);
  utimesSync(young, T / 1000, T / 1000);
  utimesSync(kept.stored[0]!, old, old);
  const summary = await s.job.run();
  assert.equal(summary.downloadFiles, 2);
  assert.equal(existsSync(orphan), false);
  assert.equal(existsSync(partial), false);
  assert.equal(existsSync(young), true);
  assert.equal(existsSync(kept.stored[0]!), true, "a file its package needs is never an orphan");
});
