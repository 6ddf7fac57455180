// The policy cache both add-ins use (shared/src/checks/policy-cache.ts): gateway, else cache,
// else the frozen fail-closed policy.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  FALLBACK_CLIENT_POLICY,
  cachedPolicy,
  loadPolicy,
  type ClientPolicy,
  type PolicyStore,
} from "../src/index.js";

const POLICY: ClientPolicy = {
  ...FALLBACK_CLIENT_POLICY,
  domains: { internal: ["corp.example"], semiInternal: [] },
};

/** A store in memory that records its writes. */
function memoryStore(initial?: unknown): PolicyStore & { value: unknown; writes: number } {
  const store = {
    value: initial,
    writes: 0,
    read: async () => store.value,
    write: async (policy: ClientPolicy) => {
      store.writes++;
      store.value = policy;
    },
  };
  return store;
}

const settle = () => new Promise((r) => setImmediate(r));

describe("loadPolicy", () => {
  test("the gateway's policy is used and cached; an unchanged one is not written again", async () => {
    const store = memoryStore();
    assert.deepEqual(await loadPolicy(store, async () => POLICY), { policy: POLICY, source: "gateway" });
    await settle();
    assert.deepEqual(store.value, POLICY);
    await loadPolicy(store, async () => POLICY, POLICY);
    await settle();
    assert.equal(store.writes, 1);
  });

  test("gateway unreachable or not signed in: the cached policy", async () => {
    const store = memoryStore(POLICY);
    const down = async (): Promise<ClientPolicy> => {
      throw new TypeError("fetch failed");
    };
    assert.deepEqual(await loadPolicy(store, down), { policy: POLICY, source: "cache" });
    assert.deepEqual(await loadPolicy(store, null), { policy: POLICY, source: "cache" });
  });

  test("a garbled answer is no policy: the cache is kept and used", async () => {
    const store = memoryStore(POLICY);
    const garbled = async () => ({ error: "maintenance" }) as unknown as ClientPolicy;
    assert.deepEqual(await loadPolicy(store, garbled), { policy: POLICY, source: "cache" });
    await settle();
    assert.equal(store.writes, 0);
  });

  test("nothing cached, a cache edited by hand, or a storage that fails: fail closed", async () => {
    for (const cached of [undefined, null, "x", { domains: { internal: "corp.example" } }]) {
      const { policy, source } = await loadPolicy(memoryStore(cached), null);
      assert.equal(policy, FALLBACK_CLIENT_POLICY, JSON.stringify(cached));
      assert.equal(source, "fallback");
    }
    const broken: PolicyStore = {
      read: () => Promise.reject(new Error("quota")),
      write: () => Promise.reject(new Error("quota")),
    };
    assert.equal(await cachedPolicy(broken), FALLBACK_CLIENT_POLICY);
    assert.deepEqual(await loadPolicy(broken, async () => POLICY), { policy: POLICY, source: "gateway" });
  });
});
