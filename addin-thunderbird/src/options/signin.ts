// Signing in from the options page: the token from the gateway (@sendguard/ui's requestToken)
// goes into storage.local; the password is never stored.
import type { Language } from "@sendguard/shared";
import { requestToken } from "@sendguard/ui";
import type { BrowserApi } from "../browser-api.js";
import { loadSettings, managedSettings, type Settings } from "../settings.js";

export type SignInResult = { ok: true; settings: Settings } | { ok: false; message: string };

/** Settings an administrator set through policies.json cannot be changed here. */
export async function managedKeys(api: BrowserApi): Promise<string[]> {
  return Object.keys(await managedSettings(api));
}

export async function signIn(
  api: BrowserApi,
  input: { gatewayUrl: string; email: string; password: string },
  lang: Language,
  fetchImpl: typeof fetch = fetch,
): Promise<SignInResult> {
  const result = await requestToken(input, lang, fetchImpl);
  if (!result.ok) return result;
  const current = (await api.storage.local.get("settings").catch(() => ({}))) as { settings?: object };
  await api.storage.local.set({
    settings: { ...(current.settings ?? {}), gatewayUrl: result.gatewayUrl, token: result.token },
  });
  return { ok: true, settings: await loadSettings(api) };
}
