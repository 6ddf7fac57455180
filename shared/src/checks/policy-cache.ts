// The client policy an add-in decides with: the gateway's when it answers, else the last one the
// gateway gave (kept in the add-in's own storage), else the frozen fail-closed policy — never
// "no checks". Each add-in passes its storage and its way of asking the gateway, so the fallback
// order is the same in Thunderbird and Outlook.
import type { ClientPolicy } from "../api/types.js";
import { FALLBACK_CLIENT_POLICY } from "./fallback.js";

/** Where an add-in keeps the last policy (Thunderbird's storage.local, Outlook's roamingSettings). */
export interface PolicyStore {
  /** What was written last; anything (or nothing) when the storage was cleared or edited. */
  read(): Promise<unknown>;
  write(policy: ClientPolicy): Promise<void>;
}

export type PolicySource = "gateway" | "cache" | "fallback";

/**
 * Enough of a ClientPolicy to classify recipients and run the checks. A cache written by hand or
 * cut short by a storage quota must not pass for a policy: it falls back to fail closed instead.
 */
function isClientPolicy(value: unknown): value is ClientPolicy {
  const p = value as Partial<ClientPolicy> | null;
  return (
    typeof p === "object" &&
    p !== null &&
    Array.isArray(p.domains?.internal) &&
    Array.isArray(p.domains?.semiInternal) &&
    typeof p.client === "object" &&
    p.client !== null
  );
}

/** The last policy the gateway gave, else the frozen fail-closed one. */
export async function cachedPolicy(store: PolicyStore): Promise<ClientPolicy> {
  const cached = await store.read().catch(() => undefined);
  return isClientPolicy(cached) ? cached : FALLBACK_CLIENT_POLICY;
}

/**
 * The policy from the gateway (`fetchPolicy`, null when the add-in is not signed in), else the
 * cached one. `known` is the policy the cache holds already (the last one seen): an unchanged
 * policy is not written again.
 */
export async function loadPolicy(
  store: PolicyStore,
  fetchPolicy: (() => Promise<ClientPolicy>) | null,
  known?: ClientPolicy,
): Promise<{ policy: ClientPolicy; source: PolicySource }> {
  if (fetchPolicy) {
    try {
      const policy = await fetchPolicy();
      if (!isClientPolicy(policy)) throw new TypeError("not a client policy");
      // Not awaited: the user is waiting for the decision, the cache is for next time. Nor written
      // when unchanged (nearly always): the write competes with what the user is waiting for.
      if (!known || JSON.stringify(known) !== JSON.stringify(policy))
        void store.write(policy).catch(() => undefined);
      return { policy, source: "gateway" };
    } catch {
      // unreachable, slow, refused or garbled: fall through to the cache
    }
  }
  const policy = await cachedPolicy(store);
  return { policy, source: policy === FALLBACK_CLIENT_POLICY ? "fallback" : "cache" };
}
