// The policy an add-in uses when the gateway cannot be reached and nothing is cached or managed.
import type { ClientPolicy } from "../api/types.js";
import { clientDefaults } from "../policy/defaults.js";

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Fail closed: with no internal domains known every recipient is external, so every recipient and
 * every attachment must be ticked, and nothing is skipped. The checks themselves are the policy
 * defaults (policy/defaults.ts, which does not load zod). Nothing is promised about the gateway: no hold notice (holdMinutes 0), no
 * attachment conversion announced. Frozen, so that no caller can weaken it for the next send.
 */
export const FALLBACK_CLIENT_POLICY: ClientPolicy = deepFreeze({
  organization: { name: "", timezone: "Asia/Tokyo", language: "ja" },
  language: "ja",
  domains: { internal: [], semiInternal: [] },
  hold: { internal: 0, semiInternal: 0, external: 0 },
  delay: { semiInternal: 0, external: 0 },
  holdMinutes: 0,
  forcedBcc: { threshold: 0, to: "sender" },
  attachmentAction: "pass",
  // Never skip: with no internal domains known, everything counts as external.
  client: { ...clientDefaults(), skipWhenInternalOnly: false },
});
