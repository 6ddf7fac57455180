// Outlook's side of the policy cache (shared/checks/policy-cache.ts): the last policy lives in
// roamingSettings (the mailbox's own storage, there in every runtime, the JavaScript-only one too),
// and the gateway is asked with fetch, with the token the task pane's sign-in stored.
import { loadPolicy, type ClientPolicy, type PolicySource, type PolicyStore } from "@sendguard/shared";
import { ROAMING } from "./commands.js";
import { withDeadline } from "./deadline.js";
import { hostCall } from "./host.js";

export interface LoadedPolicy {
  policy: ClientPolicy;
  source: PolicySource;
}

export interface PolicyOptions {
  /** Milliseconds the gateway has to answer before the cache is used. */
  timeoutMs: number;
  /** How long a policy the gateway gave (on a recipients or attachments change) is used without asking again. */
  freshMs: number;
}

function roamingStore(roaming: Office.RoamingSettings): PolicyStore {
  return {
    read: async () => roaming.get(ROAMING.policyCache),
    write: async (policy) => {
      roaming.set(ROAMING.policyCache, policy);
      await hostCall<void>((done) => roaming.saveAsync(done));
    },
  };
}

/** GET /api/v1/policy, or null when not signed in (or fetch is missing). */
function gatewayFetcher(
  roaming: Office.RoamingSettings,
  timeoutMs: number,
): (() => Promise<ClientPolicy>) | null {
  const url: unknown = roaming.get(ROAMING.gatewayUrl);
  const token: unknown = roaming.get(ROAMING.token);
  if (typeof url !== "string" || !url || typeof token !== "string" || !token) return null;
  if (typeof fetch !== "function") return null;
  const request = async (): Promise<ClientPolicy> => {
    const res = await fetch(`${url.replace(/\/+$/, "")}/api/v1/policy`, {
      headers: { authorization: `Bearer ${token}` },
    });
    if (!res.ok) throw new Error(`HTTP ${res.status} from ${url}`);
    return (await res.json()) as ClientPolicy;
  };
  return () =>
    withDeadline(request(), timeoutMs, () => {
      throw new Error(`no answer from ${url} in ${timeoutMs} ms`);
    });
}

/**
 * The policy for one decision. A recipients or attachments change starts the fetch, so that Send
 * mostly finds it done; while a fetch runs, a second caller waits for the same one.
 */
export class PolicyLoader {
  private fresh: { at: number; loaded: LoadedPolicy } | null = null;
  private running: Promise<LoadedPolicy> | null = null;

  constructor(private readonly options: PolicyOptions) {}

  load(): Promise<LoadedPolicy> {
    if (this.fresh && Date.now() - this.fresh.at < this.options.freshMs)
      return Promise.resolve(this.fresh.loaded);
    return (this.running ??= this.fetch());
  }

  private async fetch(): Promise<LoadedPolicy> {
    try {
      const roaming = Office.context.roamingSettings;
      const known = roaming.get(ROAMING.policyCache) as ClientPolicy | undefined;
      const loaded = await loadPolicy(
        roamingStore(roaming),
        gatewayFetcher(roaming, this.options.timeoutMs),
        known,
      );
      // Only the gateway's answer is kept: after a failure the next Send asks again.
      if (loaded.source === "gateway") this.fresh = { at: Date.now(), loaded };
      return loaded;
    } finally {
      this.running = null;
    }
  }
}
