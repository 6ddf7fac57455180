// The Outlook add-in's manifests as this gateway serves them: the checked-in files name a placeholder
// origin, and each gateway writes its own publicUrl (and the admin's send mode) into its copy, so one
// build serves every installation.
import { OUTLOOK_PLACEHOLDER_ORIGIN, type OutlookSendMode } from "@sendguard/shared";
import { esc } from "./html.js";

export interface ServedManifest {
  /** The gateway's public URL (config publicUrl, or the local one it made up). */
  publicUrl: string;
  sendMode: OutlookSendMode;
}

const PLACEHOLDER_HOST = new URL(OUTLOOK_PLACEHOLDER_ORIGIN).host;
const base = (publicUrl: string) => publicUrl.replace(/\/+$/, "");

export function servedXmlManifest(xml: string, served: ServedManifest): string {
  const out = xml.split(OUTLOOK_PLACEHOLDER_ORIGIN).join(esc(base(served.publicUrl)));
  return served.sendMode === "block" ? out.replace(/ SendMode="SoftBlock"/g, ' SendMode="Block"') : out;
}

/** manifest.json: every placeholder URL and host, and each send event's mode. */
export function servedJsonManifest(json: string, served: ServedManifest): string {
  const host = new URL(base(served.publicUrl)).host;
  const rewrite = (value: unknown, key: string): unknown => {
    if (typeof value === "string") {
      if (value === PLACEHOLDER_HOST) return host;
      if (key === "sendMode" && served.sendMode === "block") return "block";
      return value.split(OUTLOOK_PLACEHOLDER_ORIGIN).join(base(served.publicUrl));
    }
    if (Array.isArray(value)) return value.map((item) => rewrite(item, key));
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewrite(v, k)]));
    }
    return value;
  };
  return `${JSON.stringify(rewrite(JSON.parse(json), ""), null, 2)}\n`;
}
