// MTA-STS (RFC 8461) for the TLS probe: the domain's policy (mta-sts-fetch.ts gets it), and the
// host that answered judged against it. MX matching is mailauth's.
import { validateMx } from "mailauth/lib/mta-sts.js";
import type { MtaStsReport } from "./tls-probe-result.js";
import { within } from "./within.js";

export interface MtaStsPolicy {
  mode: "enforce" | "testing" | "none";
  /** Allowed MX patterns ("mx.example.jp", "*.example.jp"); required unless mode is "none". */
  mx?: string[];
}

/** The domain's policy, or null when it publishes none; throws when a published one cannot be had. */
export type MtaStsFetch = (domain: string) => Promise<MtaStsPolicy | null>;

export type MtaStsOutcome = { policy: MtaStsPolicy | null } | { error: string };

/** The fetch's answer within the time limit; never throws. */
export async function loadMtaSts(
  fetch: MtaStsFetch,
  domain: string,
  timeoutMs: number,
): Promise<MtaStsOutcome> {
  try {
    return {
      policy: await within(fetch(domain), timeoutMs, () => new Error(`no policy within ${timeoutMs} ms`)),
    };
  } catch (err) {
    return { error: `MTA-STS policy of ${domain}: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** What the result says about MTA-STS; undefined when the domain publishes no policy. */
export function mtaStsReport(outcome: MtaStsOutcome, host: string | undefined): MtaStsReport | undefined {
  if ("error" in outcome) return { mode: "none", mxMatches: false, error: outcome.error };
  const { policy } = outcome;
  if (!policy) return undefined;
  return { mode: policy.mode, mxMatches: host !== undefined && listed(host, policy) };
}

/**
 * The hosts a sender may use (RFC 8461 §5): under "enforce" only those the policy lists. When it
 * lists none of them, all stay, so the probe still describes the domain (and mxMatches says no).
 */
export function hostsToTry(hosts: string[], outcome: MtaStsOutcome): string[] {
  if ("error" in outcome || outcome.policy?.mode !== "enforce") return hosts;
  const policy = outcome.policy;
  const allowed = hosts.filter((host) => listed(host, policy));
  return allowed.length > 0 ? allowed : hosts;
}

function listed(host: string, policy: MtaStsPolicy): boolean {
  // validateMx passes anything under mode "none"; here the question is whether the host is listed at all.
  return (policy.mx ?? []).length > 0 && validateMx(host, { ...policy, mode: "enforce" }).valid;
}
