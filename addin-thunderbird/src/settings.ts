// Where the gateway is and how to sign in. Admins pre-set everything through policies.json
// (storage.managed), which wins over what a user entered (storage.local).
import type { BrowserApi } from "./browser-api.js";

export interface Settings {
  gatewayUrl: string;
  token: string;
}

const KEYS = ["gatewayUrl", "token"] as const;

export async function loadSettings(api: BrowserApi): Promise<Settings> {
  const local = await api.storage.local.get("settings").catch(() => ({}));
  // Without a policy, storage.managed.get rejects: that just means "nothing managed".
  const managed = await api.storage.managed.get("settings").catch(() => ({}));
  const pick = (source: Record<string, unknown>) => (source.settings ?? source) as Record<string, unknown>;
  const merged: Record<string, string> = {};
  for (const source of [pick(local), pick(managed)]) {
    for (const key of KEYS)
      if (typeof source[key] === "string" && source[key]) merged[key] = source[key] as string;
  }
  return { gatewayUrl: (merged.gatewayUrl ?? "").replace(/\/$/, ""), token: merged.token ?? "" };
}
