// The download service (server/src/downloads/service.ts) and its password generator, against a
// real SqliteStore and vault in a temporary directory.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { generateCode, generatePassword, PASSWORD_ALPHABET } from "../src/downloads/password.js";
import { DownloadRequestError, DownloadService, type NewDownloadRequest } from "../src/downloads/service.js";
import { Vault } from "../src/downloads/vault.js";
import { sha256, verifyPassword } from "../src/secrets.js";
import { Db } from "../src/store/db.js";
import { SqliteStore } from "../src/store/sqlite.js";
import type { Store } from "../src/store/types.js";

const NOW = Date.UTC(2026, 0, 5, 9, 0, 0);
const DAY = 86400_000;

describe("generatePassword", () => {
  test("has the length asked for, only unambiguous characters, and every character class", () => {
    for (const length of [8, 12, 64]) {
      for (let i = 0; i < 200; i++) {
        const p = generatePassword(length);
        assert.equal(p.length, length);
        assert.match(p, /^[A-Za-z2-9]+$/);
        assert.doesNotMatch(p, /[0O1lIio]/, p);
        assert.match(p, /[A-Z]/);
        assert.match(p, /[a-z]/);
        assert.match(p, /[2-9]/);
      }
    }
  });

  test("is random: no repeats, and every character of the alphabet turns up", () => {
    const seen = new Set<string>();
    const chars = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const p = generatePassword(12);
      seen.add(p);
      for (const c of p) chars.add(c);
    }
    assert.equal(seen.size, 2000);
    assert.equal(chars.size, PASSWORD_ALPHABET.length);
  });

  test("refuses lengths that are too short, too long or not whole", () => {
    for (const bad of [0, 7, 65, 8.5, Number.NaN, -1])
      assert.throws(() => generatePassword(bad), /password length must be a whole number from 8 to 64/);
  });

  test("one-time codes are digits of the length asked for", () => {
    assert.match(generateCode(6), /^\d{6}$/);
    assert.match(generateCode(8), /^\d{8}$/);
    assert.throws(() => generateCode(5), /6 to 10 digits/);
  });
});

describe("DownloadService", () => {
  const dir = mkdtempSync(join(tmpdir(), "sendguard-downloads-service-"));
  const vault = new Vault(join(dir, "downloads"));
  let store: SqliteStore;
  let service: DownloadService;
  let n = 0;

  before(async () => {
    store = await SqliteStore.open(join(dir, "sendguard.db"));
    await vault.init();
    service = new DownloadService({ store, vault, publicUrl: "https://gw.example/", now: () => NOW });
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function tempFile(data: Buffer): string {
    const path = join(dir, `in-${++n}`);
    writeFileSync(path, data);
    return path;
  }

  function request(changes: Partial<NewDownloadRequest> = {}): NewDownloadRequest {
    return {
      messageId: `m${++n}`,
      ownerUserId: null,
      files: [{ path: tempFile(Buffer.from("hello")), name: "a.txt", contentType: "text/plain" }],
      recipients: ["a@partner.example"],
      auth: { mode: "password", password: "Secret-Pass-23" },
      expiresAt: NOW + 7 * DAY,
      ...changes,
    };
  }

  const storedFiles = () => readdirSync(vault.dir).length;

  test("a link per recipient (deduplicated without case), 256-bit tokens, urls under /d/", async () => {
    const created = await service.createDownloadPackage(
      request({ recipients: ["a@partner.example", "B@partner.example", "A@PARTNER.example"] }),
    );
    assert.deepEqual(
      created.links.map((l) => l.recipient),
      ["a@partner.example", "B@partner.example"],
    );
    for (const link of created.links) {
      assert.match(link.token, /^[A-Za-z0-9_-]{43}$/, "32 random bytes, base64url");
      assert.equal(link.url, `https://gw.example/d/${link.token}`);
      const found = await store.downloadLinkByToken(sha256(link.token));
      assert.equal(found?.package.id, created.packageId);
      assert.equal(found?.link.recipient, link.recipient);
    }
    assert.notEqual(created.links[0]?.token, created.links[1]?.token);
  });

  test("the database keeps the tokens' hashes and the password's scrypt hash, never the secrets", async () => {
    const created = await service.createDownloadPackage(request());
    const pkg = await store.downloadPackage(created.packageId);
    const hash = pkg?.passwordHash ?? "";
    assert.ok(hash.startsWith("scrypt$"));
    assert.equal(await verifyPassword("Secret-Pass-23", hash), true);
    const db = await Db.open(join(dir, "sendguard.db"), true);
    try {
      const dump = JSON.stringify([
        await db.all("SELECT * FROM download_links"),
        await db.all("SELECT * FROM download_packages"),
      ]);
      for (const l of created.links) assert.equal(dump.includes(l.token), false);
      assert.equal(dump.includes("Secret-Pass-23"), false);
    } finally {
      await db.close();
    }
  });

  test("files are stored encrypted and come back byte for byte; hostile names are made harmless and unique", async () => {
    const big = randomBytes(300_000);
    const names = [
      "../../etc/passwd",
      "a\u0000b.txt",
      "evil\u202Etxt.exe",
      "x".repeat(1000) + ".pdf",
      "見積書.xlsx",
      "A.TXT",
      "a.txt",
    ];
    const created = await service.createDownloadPackage(
      request({
        files: names.map((name) => ({ path: tempFile(big), name, contentType: "" })),
        auth: { mode: "otp" },
      }),
    );
    const pkg = await store.downloadPackage(created.packageId);
    assert.ok(pkg);
    assert.equal(pkg.authMode, "otp");
    assert.equal(pkg.passwordHash, null);
    const stored = pkg.files.map((f) => f.name);
    assert.equal(stored[0], "passwd");
    assert.equal(stored[1], "ab.txt");
    assert.equal(stored[2], "eviltxt.exe");
    assert.equal(Array.from(stored[3] as string).length, 200);
    assert.ok(stored[3]?.endsWith(".pdf"));
    assert.equal(stored[4], "見積書.xlsx");
    assert.equal(stored[5], "A.TXT");
    assert.equal(stored[6], "a (2).txt", "unique without case");
    for (const file of pkg.files) {
      assert.equal(file.contentType, "application/octet-stream");
      assert.equal(file.size, big.length);
      const parts: Buffer[] = [];
      for await (const chunk of vault.open(file)) parts.push(chunk as Buffer);
      assert.ok(Buffer.concat(parts).equals(big));
    }
  });

  test("bad requests are refused with what was wrong, and leave no stored file", async () => {
    const before = storedFiles();
    const cases: [Partial<NewDownloadRequest>, RegExp][] = [
      [{ files: [] }, /at least one file/],
      [{ recipients: [] }, /at least one recipient/],
      [{ recipients: ["not an address"] }, /not an e-mail address: "not an address"/],
      [{ auth: { mode: "password", password: "" } }, /password must have 1 to 1024/],
      [{ auth: { mode: "password", password: "x".repeat(1025) } }, /password must have 1 to 1024/],
      [{ expiresAt: NOW }, /expiresAt must lie in the future/],
      [{ expiresAt: Number.NaN }, /expiresAt must lie in the future/],
      [{ expiresAt: NOW + 31 * DAY }, /at most 30 days ahead/],
      [{ maxDownloads: 0 }, /maxDownloads must be a whole number/],
      [{ maxDownloads: 1.5 }, /maxDownloads must be a whole number/],
    ];
    for (const [changes, message] of cases) {
      await assert.rejects(service.createDownloadPackage(request(changes)), (err: Error) => {
        assert.ok(err instanceof DownloadRequestError, String(err));
        assert.match(err.message, message);
        return true;
      });
    }
    await assert.rejects(
      service.createDownloadPackage(
        request({ files: [{ path: join(dir, "missing"), name: "m", contentType: "x" }] }),
      ),
      /ENOENT/,
    );
    assert.equal(storedFiles(), before);
  });

  test("files already stored are removed when the package cannot be stored", async () => {
    const failing = Object.create(store) as Store;
    failing.insertDownloadPackage = () => Promise.reject(new Error("disk full"));
    const broken = new DownloadService({
      store: failing,
      vault,
      publicUrl: "https://gw.example",
      now: () => NOW,
    });
    const before = storedFiles();
    const files = [1, 2, 3].map((i) => ({
      path: tempFile(randomBytes(1000)),
      name: `f${i}`,
      contentType: "x/y",
    }));
    await assert.rejects(broken.createDownloadPackage(request({ files })), /disk full/);
    assert.equal(storedFiles(), before);
  });
});
