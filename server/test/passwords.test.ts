import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { PasswordChecker } from "../src/auth/passwords.js";
import { hashPassword } from "../src/secrets.js";
import { SqliteStore } from "../src/store/sqlite.js";
import { newUser } from "./fixtures/users.js";

describe("PasswordChecker", () => {
  let store: SqliteStore;
  const limits = { perUser: 3, perIp: 100, windowSeconds: 60 };

  before(async () => {
    store = await SqliteStore.open(join(mkdtempSync(join(tmpdir(), "sg-pw-")), "db.sqlite"));
    await store.addUser(newUser("a@corp.example", { passwordHash: await hashPassword("right-password") }));
  });
  after(() => store.close());

  test("a remembered login is fast, and a wrong password after it still fails", async () => {
    const checker = new PasswordChecker(store, limits);
    assert.equal((await checker.check("a@corp.example", "right-password", "1.2.3.4")).ok, true);
    const started = performance.now();
    assert.equal((await checker.check("a@corp.example", "right-password", "1.2.3.4")).ok, true);
    assert.ok(performance.now() - started < 20, "served from memory, without scrypt");
    assert.deepEqual(await checker.check("a@corp.example", "wrong-password", "1.2.3.4"), {
      ok: false,
      reason: "bad_credentials",
    });
  });

  test("a locked-out user is refused even with a remembered password", async () => {
    const checker = new PasswordChecker(store, limits);
    assert.equal((await checker.check("a@corp.example", "right-password", "5.6.7.8")).ok, true);
    for (let i = 0; i < 3; i++) await checker.check("a@corp.example", "guess", "5.6.7.8");
    const r = await checker.check("a@corp.example", "right-password", "5.6.7.8");
    assert.equal(r.ok, false);
    assert.equal(r.ok === false && r.reason, "too_many_attempts");
  });

  test("unknown users get bad_credentials, like wrong passwords", async () => {
    const checker = new PasswordChecker(store, limits);
    assert.deepEqual(await checker.check("nobody@corp.example", "x", "9.9.9.9"), {
      ok: false,
      reason: "bad_credentials",
    });
  });
});
