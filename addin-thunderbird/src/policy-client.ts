// Thunderbird's side of the policy cache (shared/checks/policy-cache.ts): the last policy lives in
// storage.local, and the gateway is asked through GatewayClient.
import {
  cachedPolicy as cachedIn,
  loadPolicy as loadInto,
  type ClientPolicy,
  type PolicySource,
  type PolicyStore,
} from "@sendguard/shared";
import type { BrowserApi } from "./browser-api.js";
import type { GatewayClient } from "@sendguard/ui";

/** Send waits for the policy at most this long before using the cached one. */
const TIMEOUT_MS = 3000;

function store(api: BrowserApi): PolicyStore {
  return {
    read: async () => ((await api.storage.local.get("policyCache")) as { policyCache?: unknown }).policyCache,
    write: (policy) => api.storage.local.set({ policyCache: policy }),
  };
}

/** The last policy the gateway gave, else the frozen fail-closed one. */
export function cachedPolicy(api: BrowserApi): Promise<ClientPolicy> {
  return cachedIn(store(api));
}

/** The policy from the gateway, else the cached one; `known` is what the cache holds already. */
export function loadPolicy(
  api: BrowserApi,
  gateway: GatewayClient,
  known?: ClientPolicy,
): Promise<{ policy: ClientPolicy; source: PolicySource }> {
  return loadInto(store(api), gateway.configured ? () => gateway.policy(TIMEOUT_MS) : null, known);
}
