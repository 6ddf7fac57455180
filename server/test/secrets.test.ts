// Identifiers, tokens, password hashing and hold-link signatures (server/src/secrets.ts, links.ts).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { Links, loadServerSecret } from "../src/links.js";
import {
  dummyPasswordHash,
  hashPassword,
  hmac,
  newId,
  newToken,
  safeEqual,
  sha256,
  verifyPassword,
} from "../src/secrets.js";

const BASE64URL = /^[A-Za-z0-9_-]+$/;

describe("identifiers and tokens", () => {
  test("newToken is 256 bits of base64url (43 characters, no padding)", () => {
    const token = newToken();
    assert.match(token, BASE64URL);
    assert.equal(token.length, 43);
    assert.equal(Buffer.from(token, "base64url").length, 32);
  });

  test("newId is 96 bits of base64url (16 characters)", () => {
    const id = newId();
    assert.match(id, BASE64URL);
    assert.equal(id.length, 16);
  });

  test("tokens and ids do not repeat and use the whole alphabet", () => {
    const tokens = Array.from({ length: 2000 }, newToken);
    const ids = Array.from({ length: 2000 }, newId);
    assert.equal(new Set(tokens).size, tokens.length);
    assert.equal(new Set(ids).size, ids.length);
    const alphabet = new Set(tokens.join(""));
    assert.ok(alphabet.size >= 60, `only ${alphabet.size} distinct characters`);
  });

  test("sha256 is deterministic base64url and differs between inputs", () => {
    assert.equal(sha256("abc"), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
    assert.notEqual(sha256("abc"), sha256("abd"));
  });

  test("hmac depends on the secret and on the value", () => {
    const k1 = Buffer.alloc(32, 1);
    const k2 = Buffer.alloc(32, 2);
    assert.equal(hmac(k1, "v"), hmac(Buffer.alloc(32, 1), "v"));
    assert.notEqual(hmac(k1, "v"), hmac(k2, "v"));
    assert.notEqual(hmac(k1, "v"), hmac(k1, "w"));
    assert.match(hmac(k1, "v"), BASE64URL);
    assert.equal(hmac(k1, "v").length, 43);
  });
});

describe("safeEqual", () => {
  const cases: [a: string, b: string, expected: boolean][] = [
    ["abc", "abc", true],
    ["", "", true],
    ["abc", "abd", false],
    ["abc", "ab", false],
    ["ab", "abc", false],
    ["abc", "", false],
    ["日本", "日本", true],
    ["é", "e", false],
    ["ABC", "abc", false],
  ];
  for (const [a, b, expected] of cases) {
    test(`${JSON.stringify(a)} vs ${JSON.stringify(b)} → ${expected} (never throws on different lengths)`, () => {
      assert.equal(safeEqual(a, b), expected);
    });
  }
});

describe("password hashing", () => {
  test("a hash has the form scrypt$N$r$p$salt$key and verifies only its own password", async () => {
    const hash = await hashPassword("correct horse battery");
    const parts = hash.split("$");
    assert.equal(parts.length, 6);
    assert.deepEqual(parts.slice(0, 4), ["scrypt", "16384", "8", "1"]);
    assert.equal(Buffer.from(parts[4] as string, "base64url").length, 16, "16-byte salt");
    assert.equal(Buffer.from(parts[5] as string, "base64url").length, 32, "32-byte key");
    assert.equal(await verifyPassword("correct horse battery", hash), true);
    assert.equal(await verifyPassword("correct horse batterY", hash), false);
    assert.equal(await verifyPassword("", hash), false);
    assert.equal(await verifyPassword("correct horse battery ", hash), false);
  });

  test("the same password hashes differently each time (random salt)", async () => {
    const [a, b] = await Promise.all([hashPassword("same password"), hashPassword("same password")]);
    assert.notEqual(a, b);
    assert.equal(await verifyPassword("same password", b), true);
  });

  test("non-ASCII passwords round-trip", async () => {
    const hash = await hashPassword("パスワード🔑");
    assert.equal(await verifyPassword("パスワード🔑", hash), true);
    assert.equal(await verifyPassword("パスワード", hash), false);
  });

  test("a hash made with other scrypt parameters still verifies (cost can be raised later)", async () => {
    const hash = await hashPassword("pw-1234567890");
    const [, , , , salt] = hash.split("$");
    const { scryptSync } = await import("node:crypto");
    const key = scryptSync("pw-1234567890", Buffer.from(salt as string, "base64url"), 24, {
      N: 1024,
      r: 4,
      p: 2,
    });
    const other = ["scrypt", 1024, 4, 2, salt, key.toString("base64url")].join("$");
    assert.equal(await verifyPassword("pw-1234567890", other), true);
    assert.equal(await verifyPassword("pw-123456789", other), false);
  });

  const malformed: [why: string, stored: string][] = [
    ["an empty string", ""],
    ["another scheme", "bcrypt$2b$10$abcdefghijklmnopqrstuv"],
    ["a missing key", "scrypt$16384$8$1$c2FsdA"],
    ["an empty key", "scrypt$16384$8$1$c2FsdA$"],
    ["an empty salt", "scrypt$16384$8$1$$aGFzaA"],
  ];
  for (const [why, stored] of malformed) {
    test(`a stored hash with ${why} never verifies`, async () => {
      assert.equal(await verifyPassword("anything", stored), false);
    });
  }

  test("a stored hash whose key decodes to zero bytes never verifies", async () => {
    assert.equal(await verifyPassword("anything", "scrypt$16384$8$1$c2FsdA$!!!"), false);
  });

  test("a stored hash with non-numeric parameters is refused, not thrown", async () => {
    assert.equal(await verifyPassword("anything", "scrypt$abc$8$1$c2FsdA$aGFzaA"), false);
  });

  test("the dummy hash for unknown users is a real scrypt hash that random guesses do not match", async () => {
    const dummy = await dummyPasswordHash();
    assert.match(dummy, /^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    assert.equal(await verifyPassword("", dummy), false);
    assert.equal(await verifyPassword("password", dummy), false);
    assert.equal(await dummyPasswordHash(), dummy, "made once, then reused");
  });
});

describe("Links", () => {
  const secret = Buffer.alloc(32, 7);
  const links = new Links("https://sendguard.example.co.jp/", secret);

  test("holdUrl is PUBLIC/hold/ID/SIG without a double slash", () => {
    const url = links.holdUrl("msg123");
    assert.equal(url, `https://sendguard.example.co.jp/hold/msg123/${links.holdSignature("msg123")}`);
    assert.equal(
      new Links("http://h:8080", secret).holdUrl("m"),
      `http://h:8080/hold/m/${links.holdSignature("m")}`,
    );
  });

  test("the signature is 256-bit base64url and stable for the same id and secret", () => {
    const sig = links.holdSignature("msg123");
    assert.match(sig, BASE64URL);
    assert.equal(Buffer.from(sig, "base64url").length, 32);
    assert.equal(new Links("https://other.example", Buffer.alloc(32, 7)).holdSignature("msg123"), sig);
  });

  test("verifyHold accepts the signature of the same id", () => {
    assert.equal(links.verifyHold("msg123", links.holdSignature("msg123")), true);
  });

  const sig = links.holdSignature("msg123");
  const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === "A" ? "B" : "A") + s.slice(i + 1);
  const tampered: [why: string, id: string, signature: string][] = [
    ["the first character changed", "msg123", flip(sig, 0)],
    ["the last character changed", "msg123", flip(sig, sig.length - 1)],
    ["a character appended", "msg123", `${sig}A`],
    ["the last character removed", "msg123", sig.slice(0, -1)],
    ["an empty signature", "msg123", ""],
    ["upper-cased", "msg123", sig.toUpperCase() === sig ? sig.toLowerCase() : sig.toUpperCase()],
    ["the signature of another id", "msg124", sig],
    ["the id with a suffix", "msg1234", sig],
    ["the CSRF token of the same id", "msg123", links.holdCsrf("msg123")],
    [
      "a signature made with another secret",
      "msg123",
      new Links("x", Buffer.alloc(32, 8)).holdSignature("msg123"),
    ],
    ["a plain HMAC of the id without the hold: prefix", "msg123", hmac(secret, "msg123")],
  ];
  for (const [why, id, signature] of tampered) {
    test(`verifyHold rejects ${why}`, () => {
      assert.equal(links.verifyHold(id, signature), false);
    });
  }

  test("the CSRF token is bound to the message", () => {
    assert.notEqual(links.holdCsrf("a"), links.holdCsrf("b"));
    assert.notEqual(links.holdCsrf("a"), links.holdSignature("a"));
    assert.equal(links.holdCsrf("a"), new Links("y", secret).holdCsrf("a"));
  });
});

describe("loadServerSecret", () => {
  const dir = mkdtempSync(join(tmpdir(), "sendguard-secret-test-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("creates a 32-byte secret with mode 0600 and returns the same one next time", async () => {
    const dataDir = join(dir, "a", "b");
    const first = await loadServerSecret(dataDir);
    assert.equal(first.length, 32);
    assert.equal(statSync(join(dataDir, "secret.key")).mode & 0o777, 0o600);
    assert.deepEqual(await loadServerSecret(dataDir), first);
  });

  test("replaces a secret file that is too short", async () => {
    const dataDir = join(dir, "short");
    await loadServerSecret(dataDir);
    writeFileSync(join(dataDir, "secret.key"), randomBytes(8));
    const secret = await loadServerSecret(dataDir);
    assert.equal(secret.length, 32);
    assert.deepEqual(readFileSync(join(dataDir, "secret.key")), secret);
  });
});
