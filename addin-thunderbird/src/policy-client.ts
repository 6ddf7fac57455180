// The client policy from the gateway (GET /api/v1/policy), cached for when the gateway cannot be
// reached. With neither, the frozen fail-closed policy applies: never "no checks".
import { FALLBACK_CLIENT_POLICY, type ClientPolicy } from "@sendguard/shared";
import type { BrowserApi } from "./browser-api.js";
import type { Settings } from "./settings.js";

const TIMEOUT_MS = 3000;

export type PolicySource = "gateway" | "cache" | "fallback";

export async function loadPolicy(
  api: BrowserApi,
  settings: Settings,
  fetchImpl: typeof fetch = fetch,
): Promise<{ policy: ClientPolicy; source: PolicySource }> {
  if (settings.gatewayUrl && settings.token) {
    try {
      const res = await fetchImpl(`${settings.gatewayUrl}/api/v1/policy`, {
        headers: { authorization: `Bearer ${settings.token}` },
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      if (res.ok) {
        const policy = (await res.json()) as ClientPolicy;
        await api.storage.local.set({ policyCache: policy });
        return { policy, source: "gateway" };
      }
    } catch {
      // unreachable or slow: fall through to the cache
    }
  }
  const cached = (await api.storage.local.get("policyCache").catch(() => ({}))) as {
    policyCache?: ClientPolicy;
  };
  if (cached.policyCache) return { policy: cached.policyCache, source: "cache" };
  return { policy: FALLBACK_CLIENT_POLICY, source: "fallback" };
}
