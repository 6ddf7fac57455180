// The attempt limiter's reservations, the address keys it limits by, and the semaphore that bounds
// password checks (server/src/auth/limiter.ts, server/src/semaphore.ts).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { addressKey, FailureLimiter } from "../src/auth/limiter.js";
import { Semaphore } from "../src/semaphore.js";

describe("FailureLimiter.reserve", () => {
  const WINDOW = 60_000;
  const keys = (limit: number) => [
    { key: "user:a", limit },
    { key: "ip:x", limit: 100 },
  ];

  test("counts the attempt at once, so the limit holds for attempts still in flight", () => {
    const limiter = new FailureLimiter(WINDOW, () => 0);
    const made = Array.from({ length: 8 }, () => limiter.reserve(keys(3)));
    assert.equal(made.filter((r) => "giveBack" in r).length, 3);
    assert.deepEqual(made[3], { retryAfter: 60 });
  });

  test("a given-back attempt frees its place on every key; giving back twice frees one", () => {
    const limiter = new FailureLimiter(WINDOW, () => 0);
    const first = limiter.reserve(keys(2));
    limiter.reserve(keys(2));
    assert.ok("giveBack" in first);
    first.giveBack();
    first.giveBack();
    assert.equal(limiter.retryAfter([{ key: "user:a", limit: 2 }]), 0);
    assert.ok("giveBack" in limiter.reserve(keys(2)));
    assert.ok("retryAfter" in limiter.reserve(keys(2)));
  });

  test("giving back after the window ended or the key was cleared touches the new count not", () => {
    let now = 0;
    const limiter = new FailureLimiter(WINDOW, () => now);
    const old = limiter.reserve(keys(1));
    now = WINDOW;
    limiter.fail(["user:a"]);
    assert.ok("giveBack" in old);
    old.giveBack();
    assert.equal(limiter.retryAfter([{ key: "user:a", limit: 1 }]), 60);
  });
});

describe("addressKey", () => {
  const cases: [string, string][] = [
    ["192.0.2.1", "192.0.2.1"],
    ["::ffff:192.0.2.1", "192.0.2.1"],
    ["::FFFF:c000:201", "192.0.2.1"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:db8:1:2::9", "2001:db8:1:2::/64"],
    ["2001:0DB8:0001:0002:ffff::1", "2001:db8:1:2::/64"],
    ["2001:db8::", "2001:db8:0:0::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["64:ff9b::192.0.2.1", "64:ff9b:0:0::/64"],
    ["", ""],
    ["not an address", "not an address"],
  ];
  for (const [address, key] of cases) {
    test(`${JSON.stringify(address)} → ${JSON.stringify(key)}`, () => assert.equal(addressKey(address), key));
  }
});

describe("Semaphore", () => {
  test("gives out its slots, queues up to its bound, refuses past it, and hands a slot to the next waiter", async () => {
    const semaphore = new Semaphore(2, 1);
    const a = await semaphore.acquire();
    const b = await semaphore.acquire();
    const waiting = semaphore.acquire();
    assert.ok(a && b && waiting);
    assert.equal(semaphore.acquire(), undefined, "the queue is full");
    let got = false;
    void waiting.then(() => (got = true));
    await Promise.resolve();
    assert.equal(got, false, "the waiter waits while both slots are held");
    a();
    a(); // a second release of the same slot frees nothing more
    const c = await waiting;
    const next = semaphore.acquire();
    assert.ok(next, "the queue has room again");
    assert.equal(semaphore.acquire(), undefined, "the released slot went to the waiter: both are held");
    b();
    const d = await next;
    c();
    d();
    const e = semaphore.acquire();
    const f = semaphore.acquire();
    assert.ok(e && f, "both slots are free again");
    (await e)();
    (await f)();
  });
});
