import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { PasswordChecker } from "../src/auth/passwords.js";
import { hashPassword, verifyPassword } from "../src/secrets.js";
import { SqliteStore } from "../src/store/sqlite.js";
import type { Store } from "../src/store/types.js";
import { newUser } from "./fixtures/users.js";

describe("PasswordChecker", () => {
  let store: SqliteStore;
  const limits = { perUser: 3, perIp: 100, windowSeconds: 60 };
  const slots = { concurrent: 2, queued: 16 };

  before(async () => {
    store = await SqliteStore.open(join(mkdtempSync(join(tmpdir(), "sg-pw-")), "db.sqlite"));
    const passwordHash = await hashPassword("right-password");
    await store.addUser(newUser("a@corp.example", { passwordHash }));
    await store.addUser(newUser("flood@corp.example", { passwordHash }));
    const off = await store.addUser(newUser("off@corp.example", { passwordHash }));
    await store.setUserDisabled(off.id, true, { actor: "test", action: "user_disabled" });
  });

  /** verifyPassword, counting the calls that reach it and how many run at once. */
  function countingVerify(gate?: Promise<void>) {
    const seen = { calls: 0, running: 0, mostAtOnce: 0 };
    const verify = async (password: string, hash: string) => {
      seen.calls++;
      seen.running++;
      seen.mostAtOnce = Math.max(seen.mostAtOnce, seen.running);
      try {
        await gate;
        return await verifyPassword(password, hash);
      } finally {
        seen.running--;
      }
    };
    return { seen, verify };
  }
  after(() => store.close());

  test("a remembered login is fast, and a wrong password after it still fails", async () => {
    const checker = new PasswordChecker(store, limits, slots);
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
    const checker = new PasswordChecker(store, limits, slots);
    assert.equal((await checker.check("a@corp.example", "right-password", "5.6.7.8")).ok, true);
    for (let i = 0; i < 3; i++) await checker.check("a@corp.example", "guess", "5.6.7.8");
    const r = await checker.check("a@corp.example", "right-password", "5.6.7.8");
    assert.equal(r.ok, false);
    assert.equal(r.ok === false && r.reason, "too_many_attempts");
  });

  test("concurrent wrong passwords: the attempt counts before hashing, so at most the limit reach scrypt", async () => {
    const { seen, verify } = countingVerify();
    const checker = new PasswordChecker(
      store,
      { perUser: 5, perIp: 1000, windowSeconds: 60 },
      {
        concurrent: 2,
        queued: 100,
        verify,
      },
    );
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => checker.check("flood@corp.example", `guess-${i}`, `10.0.0.${i}`)),
    );
    assert.equal(seen.calls, 5, "only the attempts within the limit are hashed");
    assert.equal(results.filter((r) => !r.ok && r.reason === "bad_credentials").length, 5);
    assert.equal(results.filter((r) => !r.ok && r.reason === "too_many_attempts").length, 35);
    assert.equal(seen.mostAtOnce, 2, "no more hashes at once than there are slots");
    const right = await checker.check("flood@corp.example", "right-password", "10.0.1.1");
    assert.equal(right.ok === false && right.reason, "too_many_attempts");
    assert.equal(seen.calls, 5, "a locked-out user's right password is not hashed either");
  });

  test("a success gives its attempt back: many good logins from one address do not lock it", async () => {
    const checker = new PasswordChecker(store, { perUser: 2, perIp: 2, windowSeconds: 60 }, slots);
    for (let i = 0; i < 5; i++) {
      assert.equal((await checker.check("a@corp.example", "right-password", "192.0.2.50")).ok, true);
    }
    await checker.check("a@corp.example", "wrong", "192.0.2.50");
    await checker.check("a@corp.example", "wrong", "192.0.2.50");
    const locked = await checker.check("a@corp.example", "right-password", "192.0.2.50");
    assert.equal(locked.ok === false && locked.reason, "too_many_attempts", "failures still count");
  });

  test("IPv6 addresses of one /64 share the per-IP limit; IPv4-mapped addresses count as IPv4", async () => {
    const checker = new PasswordChecker(store, { perUser: 100, perIp: 3, windowSeconds: 60 }, slots);
    for (const ip of ["2001:db8:1:2::1", "2001:db8:1:2:aaaa::2", "2001:DB8:0001:0002:ffff:ffff:ffff:ffff"]) {
      assert.equal((await checker.check(`${ip.length}x@corp.example`, "wrong", ip)).ok, false);
    }
    const same64 = await checker.check("other@corp.example", "wrong", "2001:db8:1:2:1234:5678:9abc:def0");
    assert.equal(same64.ok === false && same64.reason, "too_many_attempts");
    const next64 = await checker.check("other@corp.example", "wrong", "2001:db8:1:3::1");
    assert.equal(next64.ok === false && next64.reason, "bad_credentials", "the next /64 has its own limit");

    for (let i = 0; i < 3; i++) await checker.check(`v4-${i}@corp.example`, "wrong", "198.51.100.7");
    const mapped = await checker.check("v4@corp.example", "wrong", "::ffff:198.51.100.7");
    assert.equal(mapped.ok === false && mapped.reason, "too_many_attempts");
  });

  test("past the slots and the queue a check is answered busy at once, and busy costs no attempt", async () => {
    let open = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    const { seen, verify } = countingVerify(gate);
    // A store that answers in order, so the three checks reach the semaphore in the order started.
    const user = await store.userByEmail("a@corp.example");
    const inOrder = {
      userByEmail: (email: string) => Promise.resolve(email === user?.email ? user : undefined),
    };
    const checker = new PasswordChecker(
      inOrder as unknown as Store,
      { perUser: 1, perIp: 1000, windowSeconds: 60 },
      {
        concurrent: 1,
        queued: 1,
        verify,
      },
    );
    const first = checker.check("u1@corp.example", "x", "192.0.2.1");
    const queued = checker.check("u2@corp.example", "x", "192.0.2.2");
    assert.deepEqual(await checker.check("a@corp.example", "right-password", "192.0.2.3"), {
      ok: false,
      reason: "busy",
    });
    open();
    assert.equal((await first).ok, false);
    assert.equal((await queued).ok, false);
    assert.equal(seen.calls, 2);
    assert.equal(
      (await checker.check("a@corp.example", "right-password", "192.0.2.3")).ok,
      true,
      "the busy answer did not use up the user's only attempt",
    );
  });

  test("a disabled user is refused with the right password, and a wrong one stays bad_credentials", async () => {
    const checker = new PasswordChecker(store, limits, slots);
    assert.deepEqual(await checker.check("off@corp.example", "right-password", "192.0.2.9"), {
      ok: false,
      reason: "disabled",
    });
    assert.deepEqual(await checker.check("off@corp.example", "wrong", "192.0.2.9"), {
      ok: false,
      reason: "bad_credentials",
    });
  });

  test("disabling a user whose login is remembered refuses the next login at once", async () => {
    const checker = new PasswordChecker(store, limits, slots);
    const user = await store.addUser(
      newUser("soon-off@corp.example", { passwordHash: await hashPassword("right-password") }),
    );
    assert.equal((await checker.check(user.email, "right-password", "192.0.2.10")).ok, true);
    await store.setUserDisabled(user.id, true, { actor: "test", action: "user_disabled" });
    const r = await checker.check(user.email, "right-password", "192.0.2.10");
    assert.equal(r.ok === false && r.reason, "disabled");
  });

  test("unknown users get bad_credentials, like wrong passwords", async () => {
    const checker = new PasswordChecker(store, limits, slots);
    assert.deepEqual(await checker.check("nobody@corp.example", "x", "9.9.9.9"), {
      ok: false,
      reason: "bad_credentials",
    });
  });
});
