// The "添付ファイル分離のお知らせ" notice put at the top of a separated message's bodies: what
// happened, the download link, whom it is for, the files, until when, how access is proven. The
// texts are the i18n catalog's (separate.*); the HTML is short, inline-styled (mail clients drop
// <style>) and escapes every value. Only characters of JIS X 0208 are used, so the notice fits an
// ISO-2022-JP or Shift_JIS body as it is.
import { formatLocalTime, formatSize, t, type Language } from "@sendguard/shared";
import { escapeUTF8 } from "entities";

export interface SeparationNoticeOptions {
  language: Language;
  /** The recipient's download page (http or https). */
  url: string;
  /** The address the link is bound to. */
  recipient: string;
  files: { name: string; size: number }[];
  expiresAt: Date;
  /** IANA zone the expiry is shown in, with its UTC offset. */
  timeZone: string;
  /** How the recipient proves access: a password mailed separately (default) or a one-time code. */
  access?: "password" | "code";
}

/** Files listed by name; the rest are counted. */
const MAX_FILES_LISTED = 50;
/** A longer name is cut (with "…"): the notice stays readable whatever the sender attached. */
const MAX_NAME_CHARS = 120;

// eslint-disable-next-line no-control-regex
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * A name as it may be shown: no control characters (a line break would forge notice lines) and no
 * bidirectional overrides (U+202E makes "txt.exe" read "exe.txt").
 */
export function displayName(name: string): string {
  const clean = name.replace(HIDDEN, "").trim();
  const chars = Array.from(clean || "?");
  return chars.length > MAX_NAME_CHARS ? `${chars.slice(0, MAX_NAME_CHARS - 1).join("")}…` : chars.join("");
}

function checkedUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:")
    throw new Error(`the download URL must be http or https, not ${parsed.protocol}`);
  return parsed.href;
}

export function separationNotice(options: SeparationNoticeOptions): { text: string; html: string } {
  const lang = options.language;
  const url = checkedUrl(options.url);
  const recipient = displayName(options.recipient);
  const listed = options.files.slice(0, MAX_FILES_LISTED);
  const files = listed.map((f) => `${displayName(f.name)} (${formatSize(f.size, lang)})`);
  const more = options.files.length - listed.length;
  if (more > 0) files.push(t(lang, "separate.more", { count: more }));
  const expires = t(lang, "separate.expires", { time: formatLocalTime(options.expiresAt, options.timeZone) });
  const access = t(lang, options.access === "code" ? "separate.code" : "separate.password");
  const title = t(lang, "separate.title");
  const intro = t(lang, "separate.intro");
  const forWhom = t(lang, "separate.recipient", { recipient });

  const text = [
    title,
    intro,
    t(lang, "separate.url", { url }),
    forWhom,
    t(lang, "separate.files"),
    ...files.map((f) => `  ・${f}`),
    expires,
    access,
    "-".repeat(60),
  ].join("\n");

  const e = escapeUTF8;
  const [urlBefore = "", urlAfter = ""] = t(lang, "separate.url").split("{url}");
  const html =
    `<div style="border:1px solid #8a8886;border-radius:4px;padding:8px 12px;margin:0 0 16px 0;` +
    `font-family:sans-serif;font-size:14px;line-height:1.5;color:#201f1e;background:#f3f2f1">` +
    `<div style="font-weight:bold">${e(title)}</div>` +
    `<div>${e(intro)}</div>` +
    `<div>${e(urlBefore)}<a href="${e(url)}">${e(url)}</a>${e(urlAfter)}</div>` +
    `<div>${e(forWhom)}</div>` +
    `<div>${e(t(lang, "separate.files"))}</div>` +
    `<ul style="margin:0;padding-left:20px">${files.map((f) => `<li>${e(f)}</li>`).join("")}</ul>` +
    `<div>${e(expires)}</div>` +
    `<div>${e(access)}</div>` +
    `</div>`;
  return { text, html };
}
