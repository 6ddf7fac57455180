// The client policy from the gateway (GET /api/v1/policy), cached for when the gateway cannot be
// reached. With neither, the frozen fail-closed policy applies: never "no checks".
import { FALLBACK_CLIENT_POLICY, type ClientPolicy } from "@sendguard/shared";
import type { BrowserApi } from "./browser-api.js";
import type { GatewayClient } from "./gateway-client.js";

/** Send waits for the policy at most this long before using the cached one. */
const TIMEOUT_MS = 3000;

export type PolicySource = "gateway" | "cache" | "fallback";

/** The last policy the gateway gave, else the frozen fail-closed one. */
export async function cachedPolicy(api: BrowserApi): Promise<ClientPolicy> {
  const cached = (await api.storage.local.get("policyCache").catch(() => ({}))) as {
    policyCache?: ClientPolicy;
  };
  return cached.policyCache ?? FALLBACK_CLIENT_POLICY;
}

/**
 * The policy from the gateway, else the cached one. `known` is the policy the cache holds already
 * (the last one seen): an unchanged policy is not written again.
 */
export async function loadPolicy(
  api: BrowserApi,
  gateway: GatewayClient,
  known?: ClientPolicy,
): Promise<{ policy: ClientPolicy; source: PolicySource }> {
  if (gateway.configured) {
    try {
      const policy = await gateway.policy(TIMEOUT_MS);
      // Not awaited: the user is waiting for the confirm window, the cache is for next time. Nor
      // written when unchanged (nearly always): the write competes with opening the window.
      if (!known || JSON.stringify(known) !== JSON.stringify(policy))
        void api.storage.local.set({ policyCache: policy }).catch(() => undefined);
      return { policy, source: "gateway" };
    } catch {
      // unreachable, slow or refused: fall through to the cache
    }
  }
  const policy = await cachedPolicy(api);
  return { policy, source: policy === FALLBACK_CLIENT_POLICY ? "fallback" : "cache" };
}
