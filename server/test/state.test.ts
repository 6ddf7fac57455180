// Small stateful helpers: message status aggregation, group commit batching, login failure limiter.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { MessageStatus } from "@sendguard/shared";
import { FailureLimiter } from "../src/auth/limiter.js";
import { GroupCommit } from "../src/store/group-commit.js";
import { aggregateStatus, type BatchTally } from "../src/store/status.js";

describe("aggregateStatus", () => {
  const g = (status: BatchTally["status"], sent = 0, failed = 0): BatchTally => ({ status, sent, failed });
  const cases: [why: string, groups: BatchTally[], expected: MessageStatus][] = [
    ["one held group", [g("held")], "held"],
    ["one releasing group", [g("releasing")], "releasing"],
    ["one group waiting for approval", [g("pending_approval")], "pending_approval"],
    [
      "approval wins over everything",
      [g("sent", 1), g("releasing"), g("held"), g("pending_approval")],
      "pending_approval",
    ],
    ["releasing wins over held (delivery has started)", [g("held"), g("releasing")], "releasing"],
    ["held wins over final groups", [g("sent", 2), g("held")], "held"],
    ["held next to a discarded group", [g("discarded"), g("held")], "held"],
    ["all recipients sent", [g("sent", 3)], "sent"],
    ["sent across groups", [g("sent", 1), g("sent", 2)], "sent"],
    ["all recipients failed", [g("failed", 0, 2)], "failed"],
    ["some sent, some failed in one group", [g("failed", 1, 1)], "partially_sent"],
    ["one group sent, another failed", [g("sent", 2), g("failed", 0, 1)], "partially_sent"],
    ["everything discarded", [g("discarded"), g("discarded")], "discarded"],
    ["a sent group and a discarded group count as sent", [g("sent", 1), g("discarded")], "sent"],
    ["a failed group and a discarded group count as failed", [g("failed", 0, 1), g("discarded")], "failed"],
    ["no groups at all", [], "discarded"],
  ];
  for (const [why, groups, expected] of cases) {
    test(`${why} → ${expected}`, () => {
      assert.equal(aggregateStatus(groups), expected);
    });
  }
});

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void } {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const settle = async (p: Promise<void>) =>
  p.then(
    () => "ok",
    (e: Error) => `error: ${e.message}`,
  );

describe("GroupCommit", () => {
  test("a lone writer is flushed at once, on its own", async () => {
    const batches: number[][] = [];
    const commit = new GroupCommit<number>(async (items) => {
      batches.push(items);
    });
    await commit.add(1);
    assert.deepEqual(batches, [[1]]);
  });

  test("adds that arrive while a flush runs go together into the next flush", async () => {
    const batches: number[][] = [];
    const gates: ReturnType<typeof deferred>[] = [];
    const commit = new GroupCommit<number>((items) => {
      batches.push(items);
      const gate = deferred();
      gates.push(gate);
      return gate.promise;
    });
    const first = commit.add(1);
    const rest = [commit.add(2), commit.add(3), commit.add(4)];
    assert.deepEqual(batches, [[1]], "the first flush starts synchronously with one item");
    gates[0]?.resolve();
    await first;
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(batches, [[1], [2, 3, 4]]);
    gates[1]?.resolve();
    await Promise.all(rest);
  });

  test("no add resolves before its own flush has finished", async () => {
    const gate = deferred();
    const commit = new GroupCommit<string>(() => gate.promise);
    let done = false;
    const p = commit.add("x").then(() => {
      done = true;
    });
    await new Promise((r) => setImmediate(r));
    assert.equal(done, false);
    gate.resolve();
    await p;
    assert.equal(done, true);
  });

  test("maxBatch splits a long queue into several flushes, in order", async () => {
    const batches: number[][] = [];
    const gate = deferred();
    let calls = 0;
    const commit = new GroupCommit<number>(async (items) => {
      batches.push(items);
      if (calls++ === 0) await gate.promise;
    }, 2);
    const all = [0, 1, 2, 3, 4, 5].map((i) => commit.add(i));
    gate.resolve();
    await Promise.all(all);
    assert.deepEqual(batches, [[0], [1, 2], [3, 4], [5]]);
  });

  test("a failing flush rejects only its own batch", async () => {
    const gate = deferred();
    let call = 0;
    const commit = new GroupCommit<string>(async (items) => {
      call++;
      if (call === 1) await gate.promise;
      if (items.includes("bad")) throw new Error(`disk full (${items.join(",")})`);
    });
    const a = settle(commit.add("a"));
    const b = settle(commit.add("bad"));
    const c = settle(commit.add("c"));
    gate.resolve();
    assert.equal(await a, "ok");
    assert.equal(await b, "error: disk full (bad,c)");
    assert.equal(await c, "error: disk full (bad,c)", "c shared the failing batch");
    assert.equal(await settle(commit.add("d")), "ok", "a later add works again");
  });

  test("a flush that throws synchronously rejects its batch and the commit keeps working", async () => {
    let fail = true;
    const commit = new GroupCommit<number>((items) => {
      if (fail) throw new Error("sync");
      return Promise.resolve(void items);
    });
    assert.equal(await settle(commit.add(1)), "error: sync");
    fail = false;
    assert.equal(await settle(commit.add(2)), "ok");
  });

  test("the batch after a failed one is flushed and resolved", async () => {
    const gate = deferred();
    const batches: string[][] = [];
    const commit = new GroupCommit<string>(async (items) => {
      batches.push(items);
      if (items[0] === "first") {
        await gate.promise;
        throw new Error("boom");
      }
    });
    const first = settle(commit.add("first"));
    const second = settle(commit.add("second"));
    const third = settle(commit.add("third"));
    gate.resolve();
    assert.deepEqual([await first, await second, await third], ["error: boom", "ok", "ok"]);
    assert.deepEqual(batches, [["first"], ["second", "third"]]);
  });
});

describe("FailureLimiter", () => {
  const WINDOW = 60_000;
  const setup = () => {
    let now = 1_000_000;
    const clock = {
      advance: (ms: number) => {
        now += ms;
      },
    };
    const limiter = new FailureLimiter(WINDOW, () => now);
    return { limiter, clock };
  };
  const user = (limit = 3) => [{ key: "user:a", limit }];

  test("nothing is locked out at first", () => {
    const { limiter } = setup();
    assert.equal(limiter.retryAfter(user()), 0);
    assert.equal(limiter.retryAfter([]), 0);
  });

  test("failures below the limit do not lock out", () => {
    const { limiter } = setup();
    limiter.fail(["user:a"]);
    limiter.fail(["user:a"]);
    assert.equal(limiter.retryAfter(user(3)), 0);
  });

  test("reaching the limit locks out until the window since the first failure ends", () => {
    const { limiter, clock } = setup();
    limiter.fail(["user:a"]);
    clock.advance(10_000);
    limiter.fail(["user:a"]);
    limiter.fail(["user:a"]);
    assert.equal(limiter.retryAfter(user(3)), 50);
    clock.advance(49_500);
    assert.equal(limiter.retryAfter(user(3)), 1, "rounded up to whole seconds");
    clock.advance(500);
    assert.equal(limiter.retryAfter(user(3)), 0, "the window has ended");
  });

  test("after the window a new failure starts a new count", () => {
    const { limiter, clock } = setup();
    for (let i = 0; i < 3; i++) limiter.fail(["user:a"]);
    clock.advance(WINDOW);
    limiter.fail(["user:a"]);
    assert.equal(limiter.retryAfter(user(3)), 0);
    assert.equal(limiter.retryAfter(user(1)), 60);
  });

  test("success clears the key", () => {
    const { limiter } = setup();
    for (let i = 0; i < 3; i++) limiter.fail(["user:a"]);
    limiter.succeed("user:a");
    assert.equal(limiter.retryAfter(user(3)), 0);
  });

  test("keys are independent and share one fail call", () => {
    const { limiter } = setup();
    for (let i = 0; i < 2; i++) limiter.fail(["user:a", "ip:192.0.2.1"]);
    limiter.fail(["user:b", "ip:192.0.2.1"]);
    assert.equal(limiter.retryAfter([{ key: "user:a", limit: 3 }]), 0);
    assert.equal(limiter.retryAfter([{ key: "ip:192.0.2.1", limit: 3 }]), 60);
    assert.equal(limiter.retryAfter([{ key: "user:b", limit: 3 }]), 0);
  });

  test("the longest wait of all locked keys is returned", () => {
    const { limiter, clock } = setup();
    limiter.fail(["ip:x"]);
    clock.advance(30_000);
    limiter.fail(["user:a"]);
    assert.equal(
      limiter.retryAfter([
        { key: "ip:x", limit: 1 },
        { key: "user:a", limit: 1 },
      ]),
      60,
    );
    assert.equal(limiter.retryAfter([{ key: "ip:x", limit: 1 }]), 30);
  });

  test("a key is judged by the limit the caller gives", () => {
    const { limiter } = setup();
    for (let i = 0; i < 5; i++) limiter.fail(["k"]);
    assert.equal(limiter.retryAfter([{ key: "k", limit: 5 }]), 60);
    assert.equal(limiter.retryAfter([{ key: "k", limit: 6 }]), 0);
  });

  test("a crowded map is swept of expired keys without losing live ones", () => {
    const { limiter, clock } = setup();
    for (let i = 0; i < 100_001; i++) limiter.fail([`old:${i}`]);
    clock.advance(WINDOW);
    limiter.fail(["live"]);
    assert.equal(limiter.retryAfter([{ key: "live", limit: 1 }]), 60);
    assert.equal(limiter.retryAfter([{ key: "old:5", limit: 1 }]), 0);
  });
});
