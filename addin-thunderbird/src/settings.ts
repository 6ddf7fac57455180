// Where the gateway is, how to sign in and how a confirmed message reaches it. Admins pre-set
// everything through policies.json (storage.managed), which wins over what a user entered
// (storage.local).
import type { BrowserApi } from "./browser-api.js";

/**
 * How a confirmed message reaches the gateway:
 * - "relay": Thunderbird sends it through the gateway's SMTP, as the account is set up;
 * - "api": the extension cancels Thunderbird's send and posts the message to /api/v1/messages.
 */
export type Handoff = "relay" | "api";

export interface Settings {
  gatewayUrl: string;
  token: string;
  handoff: Handoff;
}

const KEYS = ["gatewayUrl", "token", "handoff"] as const;

/** The managed (policies.json) part only: what the user cannot change. */
export async function managedSettings(
  api: BrowserApi,
): Promise<Partial<Record<(typeof KEYS)[number], string>>> {
  // Without a policy, storage.managed.get rejects: that just means "nothing managed".
  return pickKeys(await api.storage.managed.get("settings").catch(() => ({})));
}

function pickKeys(source: Record<string, unknown>): Partial<Record<(typeof KEYS)[number], string>> {
  const settings = (source.settings ?? source) as Record<string, unknown>;
  const picked: Partial<Record<(typeof KEYS)[number], string>> = {};
  for (const key of KEYS) if (typeof settings[key] === "string" && settings[key]) picked[key] = settings[key];
  return picked;
}

export async function loadSettings(api: BrowserApi): Promise<Settings> {
  const [local, managed] = await Promise.all([
    api.storage.local.get("settings").catch(() => ({})),
    managedSettings(api),
  ]);
  const merged = { ...pickKeys(local), ...managed };
  return {
    gatewayUrl: (merged.gatewayUrl ?? "").replace(/\/$/, ""),
    token: merged.token ?? "",
    handoff: merged.handoff === "api" ? "api" : "relay",
  };
}
