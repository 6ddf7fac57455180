// The task panes' settings: which gateway, and the token the sign-in got from it. Both are kept in
// roamingSettings (the mailbox's own storage, in every Outlook the user signs in to) because the
// send handler reads them there too, in a runtime that has no page URL and no localStorage.
import {
  OUTLOOK_ADDIN_PATH,
  t,
  type ClientPolicy,
  type Language,
  type OutlookHandoff,
  type TokenResponse,
} from "@sendguard/shared";
import { ROAMING } from "../handler/commands.js";
import { hostCall } from "../handler/host.js";

export interface PaneSettings {
  /** "https://gw.example.co.jp", no trailing slash; "" when not known. */
  gatewayUrl: string;
  /** The API token of the sign-in; "" when not signed in. */
  token: string;
}

/**
 * The gateway that served these pages: https://gw.example/addin/outlook/taskpane.html →
 * https://gw.example. The manifests the gateway serves (and admins deploy) name its publicUrl, so
 * this is the admin's gateway before anyone signs in.
 */
export function servingGateway(pageUrl: string): string {
  const url = new URL(pageUrl);
  const at = url.pathname.indexOf(OUTLOOK_ADDIN_PATH);
  return at < 0 ? "" : `${url.origin}${url.pathname.slice(0, at)}`;
}

const text = (value: unknown): string => (typeof value === "string" ? value : "");

/** The signed-in gateway and token; before a sign-in, the serving gateway and no token. */
export function readSettings(roaming: Office.RoamingSettings, pageUrl: string): PaneSettings {
  const token = text(roaming.get(ROAMING.token));
  const stored = text(roaming.get(ROAMING.gatewayUrl)).replace(/\/+$/, "");
  // A token belongs to the gateway it was signed in to.
  if (token && stored) return { gatewayUrl: stored, token };
  return { gatewayUrl: servingGateway(pageUrl), token: "" };
}

/** The admin's choice of hand-off (GET /api/v1/policy); relay from gateways that do not say. */
export function handoffOf(policy: ClientPolicy): OutlookHandoff {
  return policy.outlook?.handoff === "api" ? "api" : "relay";
}

export type SignInResult = { ok: true; settings: PaneSettings } | { ok: false; message: string };

export interface SignInInput {
  gatewayUrl: string;
  email: string;
  password: string;
}

/** "https://gw.example/" → "https://gw.example", or null when it is no http(s) URL. */
function gatewayBase(input: string): string | null {
  try {
    const url = new URL(input.trim());
    return url.protocol === "https:" || url.protocol === "http:" ? url.toString().replace(/\/+$/, "") : null;
  } catch {
    return null;
  }
}

/**
 * Exchanges e-mail and password for an API token (POST /api/v1/tokens) and keeps the token and
 * the gateway in roamingSettings; the password is never stored.
 */
export async function signIn(
  roaming: Office.RoamingSettings,
  input: SignInInput,
  lang: Language,
  fetchImpl: typeof fetch = fetch,
): Promise<SignInResult> {
  const base = gatewayBase(input.gatewayUrl);
  if (!base) return { ok: false, message: t(lang, "outlook.signin.badUrl") };
  let res: Response;
  try {
    res = await fetchImpl(`${base}/api/v1/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json", "accept-language": lang },
      body: JSON.stringify({ email: input.email.trim(), password: input.password }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch {
    return { ok: false, message: t(lang, "outlook.signin.unreachable", { url: base }) };
  }
  const body = (await res.json().catch(() => ({}))) as Partial<TokenResponse> & {
    error?: { message?: string };
  };
  if (!res.ok || !body.token)
    return {
      ok: false,
      message: t(lang, "outlook.signin.refused", { detail: body.error?.message ?? `HTTP ${res.status}` }),
    };
  roaming.set(ROAMING.gatewayUrl, base);
  roaming.set(ROAMING.token, body.token);
  await hostCall<void>((done) => roaming.saveAsync(done));
  return { ok: true, settings: { gatewayUrl: base, token: body.token } };
}

/** Forgets the token (and the gateway it was for); the cached policy stays, for fail-closed checks. */
export async function signOut(roaming: Office.RoamingSettings): Promise<void> {
  roaming.remove(ROAMING.token);
  roaming.remove(ROAMING.gatewayUrl);
  await hostCall<void>((done) => roaming.saveAsync(done));
}
