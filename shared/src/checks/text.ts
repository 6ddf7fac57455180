// Text helpers of the confirm dialog: what the sender typed themselves, and file sizes for people.
import type { Language } from "../api/types.js";
import { t } from "../i18n/index.js";

// All patterns run on normalizeText() output (NFKC + lower case), so "＞", "：" and "WROTE:" are
// already ">", ":" and "wrote:" here.
const QUOTED_LINE = /^\s*>/;
/** "-----Original Message-----" (Outlook), "-------- Forwarded Message --------" (Thunderbird), … */
const SEPARATOR =
  /^\s*-{2,}\s*(?:original message|元のメッセージ|forwarded message|転送メッセージ|転送されたメッセージ)\s*-{2,}\s*$/;
/**
 * Attribution lines: "On 1/5/26 10:00, Taro wrote:" (Thunderbird, Gmail), "… のメッセージ:",
 * "… さんは書きました:", and Gmail's Japanese "2026年1月5日(月) 10:00 山田 <taro@example.jp>:".
 */
const ATTRIBUTION = /(?:\bwrote|のメッセージ|書きました|@[^\s<>]+>)\s*:\s*$/;
/** New Outlook puts a rule of underscores, then "From:" / "差出人:", above the quoted message. */
const OUTLOOK_RULE = /^\s*_{10,}\s*$/;
const OUTLOOK_FROM = /^\s*(?:from|差出人|送信者)\s*:/;

/**
 * The part of a normalised plain-text body the sender wrote: everything above the first reply or
 * forward header, minus lines quoted with ">". "資料を添付します" in the message replied to is not a
 * promise the sender makes now, so the forgotten-attachment check must not see it.
 */
export function ownText(normalizedBody: string): string {
  const lines = normalizedBody.split(/\r\n|\r|\n/);
  const own: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (SEPARATOR.test(line) || ATTRIBUTION.test(line)) break;
    if (OUTLOOK_RULE.test(line)) {
      let j = i + 1;
      while (j < lines.length && (lines[j] ?? "").trim() === "") j++;
      if (OUTLOOK_FROM.test(lines[j] ?? "")) break;
    }
    if (!QUOTED_LINE.test(line)) own.push(line);
  }
  return own.join("\n");
}

const UNITS = ["B", "KB", "MB", "GB", "TB"] as const;

/**
 * "512 B", "1.2 MB", "350 MB" (binary units, as mail clients show them); sizes a client could not
 * tell (-1, or anything not a finite number ≥ 0) read "size unknown" instead of crashing or "-1 B".
 */
export function formatSize(bytes: number, lang: Language): string {
  if (!Number.isFinite(bytes) || bytes < 0) return t(lang, "confirm.size.unknown");
  let unit = 0;
  let value = bytes;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  let text = value < 100 ? value.toFixed(1) : String(Math.round(value));
  // 1023.97 KB would print as "1024 KB": say "1.0 MB" instead.
  if (Number(text) >= 1024 && unit < UNITS.length - 1) {
    unit++;
    text = (value / 1024).toFixed(1);
  }
  return `${text} ${UNITS[unit]}`;
}
