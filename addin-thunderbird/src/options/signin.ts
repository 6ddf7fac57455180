// Signing in from the options page: exchanges e-mail and password for an API token
// (POST /api/v1/tokens). The password is never stored; the token is.
import type { Language } from "@sendguard/shared";
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
  let url: URL;
  try {
    url = new URL(input.gatewayUrl.trim());
    if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error("protocol");
  } catch {
    return {
      ok: false,
      message:
        lang === "ja"
          ? "ゲートウェイの URL は https://… の形で入力してください。"
          : "Enter the gateway URL as https://…",
    };
  }
  const base = url.toString().replace(/\/$/, "");
  let res: Response;
  try {
    res = await fetchImpl(`${base}/api/v1/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json", "accept-language": lang },
      body: JSON.stringify({ email: input.email.trim(), password: input.password }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch {
    return {
      ok: false,
      message:
        lang === "ja"
          ? `${base} に接続できません。URL とネットワークを確認してください。`
          : `Cannot reach ${base}. Check the URL and the network.`,
    };
  }
  const body = (await res.json().catch(() => ({}))) as { token?: string; error?: { message?: string } };
  if (!res.ok || !body.token) return { ok: false, message: body.error?.message ?? `HTTP ${res.status}` };
  const current = (await api.storage.local.get("settings").catch(() => ({}))) as { settings?: object };
  await api.storage.local.set({
    settings: { ...(current.settings ?? {}), gatewayUrl: base, token: body.token },
  });
  return { ok: true, settings: await loadSettings(api) };
}
