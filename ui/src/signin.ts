// Signing in: exchanges e-mail and password for an API token (POST /api/v1/tokens). The password
// goes no further than this request; where the token is kept is the host's business.
import type { Language } from "@sendguard/shared";

export type TokenResult = { ok: true; gatewayUrl: string; token: string } | { ok: false; message: string };

export async function requestToken(
  input: { gatewayUrl: string; email: string; password: string },
  lang: Language,
  fetchImpl: typeof fetch = fetch,
): Promise<TokenResult> {
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
  return { ok: true, gatewayUrl: base, token: body.token };
}
