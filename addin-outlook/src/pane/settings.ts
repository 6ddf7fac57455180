// The task panes' settings: which gateway, and the token the sign-in got from it. Both are kept in
// roamingSettings (the mailbox's own storage, in every Outlook the user signs in to) because the
// send handler reads them there too, in a runtime that has no page URL and no localStorage.
import { OUTLOOK_ADDIN_PATH, type ClientPolicy, type Language, type OutlookHandoff } from "@sendguard/shared";
import { requestToken } from "@sendguard/ui";
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

/**
 * Exchanges e-mail and password for an API token and keeps the token and the gateway in
 * roamingSettings; the password is never stored.
 */
export async function signIn(
  roaming: Office.RoamingSettings,
  input: { gatewayUrl: string; email: string; password: string },
  lang: Language,
  fetchImpl: typeof fetch = fetch,
): Promise<SignInResult> {
  const result = await requestToken(input, lang, fetchImpl);
  if (!result.ok) return result;
  roaming.set(ROAMING.gatewayUrl, result.gatewayUrl);
  roaming.set(ROAMING.token, result.token);
  await hostCall<void>((done) => roaming.saveAsync(done));
  return { ok: true, settings: { gatewayUrl: result.gatewayUrl, token: result.token } };
}

/** Forgets the token (and the gateway it was for); the cached policy stays, for fail-closed checks. */
export async function signOut(roaming: Office.RoamingSettings): Promise<void> {
  roaming.remove(ROAMING.token);
  roaming.remove(ROAMING.gatewayUrl);
  await hostCall<void>((done) => roaming.saveAsync(done));
}
