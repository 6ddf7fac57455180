// The download centre's rows in SqliteStore (server/src/store/sqlite/downloads.ts), against a real
// database file: packages, files, links, lockout, counting, stop, extend, log and retention queries.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { newId, sha256 } from "../src/secrets.js";
import { SqliteStore } from "../src/store/sqlite.js";
import type { DownloadLogEntry, NewDownloadPackage, NewNotice } from "../src/store/types.js";

const T = Date.UTC(2026, 0, 5, 9, 0, 0);
const DAY = 86400_000;

function newPackage(changes: Partial<NewDownloadPackage> = {}): NewDownloadPackage {
  const id = newId();
  return {
    id,
    messageId: `m-${id}`,
    ownerUserId: null,
    createdAt: T,
    expiresAt: T + 7 * DAY,
    authMode: "password",
    passwordHash: "scrypt$hash",
    maxDownloads: null,
    notifyFirst: false,
    files: [
      {
        id: newId(),
        name: "見積書.pdf",
        contentType: "application/pdf",
        size: 10,
        sha256: "ab".repeat(32),
        storageName: `${newId()}.sgd`,
        key: randomBytes(32),
      },
      {
        id: newId(),
        name: "b.txt",
        contentType: "text/plain",
        size: 3,
        sha256: "cd".repeat(32),
        storageName: `${newId()}.sgd`,
        key: randomBytes(32),
      },
    ],
    links: [
      { id: newId(), recipient: "a@partner.example", tokenHash: sha256(newId()) },
      { id: newId(), recipient: "b@partner.example", tokenHash: sha256(newId()) },
    ],
    audit: [{ actor: "sender@corp.example", action: "downloads_created", messageId: `m-${id}` }],
    ...changes,
  };
}

const entry = (
  pkg: NewDownloadPackage,
  outcome: DownloadLogEntry["outcome"],
  link = 0,
): DownloadLogEntry => ({
  packageId: pkg.id,
  linkId: pkg.links[link]?.id ?? null,
  recipient: pkg.links[link]?.recipient ?? null,
  fileId: null,
  ip: "192.0.2.7",
  outcome,
});

describe("SqliteStore downloads", () => {
  const dir = mkdtempSync(join(tmpdir(), "sendguard-downloads-store-"));
  let store: SqliteStore;
  before(async () => {
    store = await SqliteStore.open(join(dir, "sendguard.db"));
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a package is stored with its files in order, its links and its audit entry", async () => {
    const pkg = newPackage();
    await store.insertDownloadPackage(pkg);
    const got = await store.downloadPackage(pkg.id);
    assert.ok(got);
    assert.equal(got.messageId, pkg.messageId);
    assert.equal(got.authMode, "password");
    assert.equal(got.stoppedAt, null);
    assert.deepEqual(
      got.files.map((f) => [f.name, f.size, f.key.equals(pkg.files.find((p) => p.id === f.id)!.key)]),
      [
        ["見積書.pdf", 10, true],
        ["b.txt", 3, true],
      ],
    );
    assert.deepEqual(
      got.links.map((l) => [l.recipient, l.failedAttempts, l.downloadCount, l.lockedUntil]),
      [
        ["a@partner.example", 0, 0, null],
        ["b@partner.example", 0, 0, null],
      ],
    );
    const audit = await store.listAudit({ messageId: pkg.messageId, limit: 10 });
    assert.deepEqual(
      audit.map((a) => a.action),
      ["downloads_created"],
    );
    assert.equal(await store.downloadPackage("nope"), undefined);
  });

  test("a link is found by its token's hash only", async () => {
    const pkg = newPackage();
    await store.insertDownloadPackage(pkg);
    const found = await store.downloadLinkByToken(pkg.links[1]!.tokenHash);
    assert.equal(found?.link.recipient, "b@partner.example");
    assert.equal(found?.package.id, pkg.id);
    assert.equal(await store.downloadLinkByToken(sha256("guess")), undefined);
  });

  test("a package without a password in password mode, or a duplicate token, is refused and leaves nothing", async () => {
    const bad = newPackage({ passwordHash: null });
    await assert.rejects(store.insertDownloadPackage(bad), /CHECK constraint/);
    assert.equal(await store.downloadPackage(bad.id), undefined);
    const first = newPackage();
    await store.insertDownloadPackage(first);
    const dup = newPackage({
      links: [{ id: newId(), recipient: "x@y.example", tokenHash: first.links[0]!.tokenHash }],
    });
    await assert.rejects(store.insertDownloadPackage(dup), /UNIQUE/);
    assert.equal(await store.downloadPackage(dup.id), undefined);
  });

  test("attempts are counted before the check: wrong ones lock the link at the limit, the count starts again, a success clears it", async () => {
    const pkg = newPackage();
    await store.insertDownloadPackage(pkg);
    const link = pkg.links[0]!.id;
    const lockout = { limit: 3, lockMs: 60_000 };
    /** One wrong attempt at `now`, reserved and then recorded, as DownloadAccess makes it. */
    const wrong = async (now: number) => {
      assert.deepEqual(await store.reserveDownloadAttempt(link, 3, now), { ok: true });
      return store.recordDownloadFailure(link, lockout, now, entry(pkg, "password_wrong"));
    };
    assert.deepEqual(await wrong(T), { lockedUntil: null });
    await wrong(T + 1);
    assert.deepEqual(await wrong(T + 2), { lockedUntil: T + 2 + 60_000 });
    let got = await store.downloadPackage(pkg.id);
    assert.equal(got?.links[0]?.lockedUntil, T + 2 + 60_000);
    assert.equal(got?.links[0]?.failedAttempts, 0);
    assert.equal(got?.links[1]?.lockedUntil, null, "the other recipient's link is untouched");
    assert.deepEqual(await store.reserveDownloadAttempt(link, 3, T + 30_000), {
      ok: false,
      lockedUntil: T + 2 + 60_000,
    });
    await wrong(T + 70_000);
    await store.setDownloadCode(link, "codehash", T + 600_000, entry(pkg, "code_sent"));
    got = await store.downloadPackage(pkg.id);
    assert.equal(got?.links[0]?.failedAttempts, 1);
    assert.equal(got?.links[0]?.lockedUntil, null, "an ended lock is cleared by the next attempt");
    assert.equal(got?.links[0]?.codeHash, "codehash");
    await store.recordDownloadSuccess(link, T + 80_000, entry(pkg, "code_ok"));
    got = await store.downloadPackage(pkg.id);
    assert.equal(got?.links[0]?.failedAttempts, 0);
    assert.equal(got?.links[0]?.codeHash, null);
    assert.deepEqual(
      (await store.downloadLog(pkg.id, 10)).map((l) => l.outcome),
      ["code_ok", "code_sent", "password_wrong", "locked", "password_wrong", "password_wrong"],
    );
  });

  test("a burst of concurrent attempts: no more than the limit are let through to be checked", async () => {
    const pkg = newPackage();
    await store.insertDownloadPackage(pkg);
    const link = pkg.links[0]!.id;
    const results = await Promise.all(
      Array.from({ length: 20 }, () => store.reserveDownloadAttempt(link, 5, T)),
    );
    assert.equal(results.filter((r) => r.ok).length, 5);
    assert.ok(
      results.filter((r) => !r.ok).every((r) => !r.ok && r.lockedUntil === null),
      "refused as busy",
    );
  });

  test("downloads are counted per link up to the maximum, even when asked for at once", async () => {
    const pkg = newPackage({ maxDownloads: 3, notifyFirst: true });
    await store.insertDownloadPackage(pkg);
    const link = pkg.links[0]!.id;
    const notice: NewNotice = {
      kind: "downloaded",
      messageId: pkg.messageId,
      recipient: "sender@corp.example",
      language: "ja",
      data: { recipient: "a@partner.example" },
    };
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        store.countDownload(link, 3, T + i, entry(pkg, "downloaded"), notice),
      ),
    );
    assert.equal(results.filter((r) => r.counted).length, 3);
    assert.equal(results.filter((r) => r.first).length, 1, "one first download");
    const queued = (await store.claimDueNotices(T + 10, 100)).filter((n) => n.messageId === pkg.messageId);
    assert.deepEqual(
      queued.map((n) => [n.kind, n.recipient]),
      [["downloaded", "sender@corp.example"]],
      "the first download's notice is queued once, with its count",
    );
    const got = await store.downloadPackage(pkg.id);
    assert.equal(got?.links[0]?.downloadCount, 3);
    assert.ok(got?.firstDownloadAt);
    const other = await store.countDownload(pkg.links[1]!.id, 3, T, entry(pkg, "downloaded", 1));
    assert.deepEqual(other, { counted: true, first: true }, "the other link has its own count and first");
    const log = await store.downloadLog(pkg.id, 100);
    assert.equal(log.filter((l) => l.outcome === "limit_reached").length, 3);
    const unlimited = await store.countDownload(link, null, T, entry(pkg, "downloaded"));
    assert.equal(unlimited.counted, true);
  });

  test("stop a file, a link or the package; a second stop keeps the first time; other packages' ids do nothing", async () => {
    const pkg = newPackage();
    const other = newPackage();
    await store.insertDownloadPackage(pkg);
    await store.insertDownloadPackage(other);
    const audit = { actor: "sender@corp.example", action: "downloads_stopped", messageId: pkg.messageId };
    assert.equal(await store.stopDownloads(pkg.id, { fileId: pkg.files[1]!.id }, T + 1, audit), true);
    assert.equal(await store.stopDownloads(pkg.id, { fileId: other.files[0]!.id }, T + 1, audit), false);
    assert.equal(await store.stopDownloads(pkg.id, { linkId: pkg.links[0]!.id }, T + 2, audit), true);
    assert.equal(await store.stopDownloads(pkg.id, { linkId: other.links[0]!.id }, T + 2, audit), false);
    assert.equal(await store.stopDownloads(pkg.id, null, T + 3, audit), true);
    assert.equal(await store.stopDownloads(pkg.id, null, T + 9, audit), true);
    assert.equal(await store.stopDownloads("nope", null, T, audit), false);
    const got = await store.downloadPackage(pkg.id);
    assert.equal(got?.files[0]?.stoppedAt, null);
    assert.equal(got?.files[1]?.stoppedAt, T + 1);
    assert.equal(got?.links[0]?.stoppedAt, T + 2);
    assert.equal(got?.stoppedAt, T + 3);
    const untouched = await store.downloadPackage(other.id);
    assert.equal(untouched?.stoppedAt, null);
    assert.ok(untouched?.files.every((f) => f.stoppedAt === null));
    assert.ok(untouched?.links.every((l) => l.stoppedAt === null));
  });

  test("extend sets the expiry; retention finds the files of stopped and expired packages, then purges", async () => {
    const live = newPackage({ expiresAt: T + DAY });
    const expired = newPackage({ expiresAt: T + DAY });
    const stoppedFile = newPackage({ expiresAt: T + 30 * DAY });
    for (const p of [live, expired, stoppedFile]) await store.insertDownloadPackage(p);
    const audit = { actor: "s", action: "downloads_extended" };
    assert.equal(await store.extendDownloads(live.id, T + 10 * DAY, audit), true);
    assert.equal(await store.extendDownloads("nope", T + 10 * DAY, audit), false);
    await store.stopDownloads(stoppedFile.id, { fileId: stoppedFile.files[0]!.id }, T, audit);
    const due = await store.downloadFilesToDelete(T + 2 * DAY, 1000);
    const ids = new Set(due.map((d) => d.id));
    for (const f of expired.files) assert.ok(ids.has(f.id), "expired package's files");
    assert.ok(ids.has(stoppedFile.files[0]!.id), "the stopped file");
    assert.ok(!ids.has(stoppedFile.files[1]!.id), "its live sibling stays");
    for (const f of live.files) assert.ok(!ids.has(f.id), "the extended package stays");
    assert.equal((await store.downloadFilesToDelete(T + 2 * DAY, 1)).length, 1, "bounded by the limit");

    assert.equal(await store.purgeDownloadPackages(T + 2 * DAY, 1000), 0, "files still on disk: rows stay");
    await store.markDownloadFilesDeleted(
      due.map((d) => d.id),
      T + 2 * DAY,
    );
    const gone = await store.downloadPackage(expired.id);
    assert.ok(
      gone?.files.every((f) => f.deletedAt === T + 2 * DAY && f.key.length === 0),
      "keys wiped too",
    );
    assert.ok(!(await store.downloadFilesToDelete(T + 2 * DAY, 1000)).some((d) => ids.has(d.id)));
    await store.logDownloads([entry(expired, "downloaded")], T);
    const purged = await store.purgeDownloadPackages(T + 2 * DAY, 1000);
    assert.ok(purged >= 1);
    assert.equal(await store.downloadPackage(expired.id), undefined);
    assert.deepEqual(await store.downloadLog(expired.id, 10), [], "its log went with it");
    assert.ok(await store.downloadPackage(stoppedFile.id), "a package with a live file stays");
    assert.ok(await store.downloadPackage(live.id));
  });
});
