// A length of time as people say it: "6 秒", "5 分", "1 時間 30 分" / "6 seconds", "1 hour 30 minutes" —
// never "0.1 minutes". Units and plurals are Intl's, so both languages stay right.
import type { Language } from "../api/types.js";

const UNITS = [
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
] as const;

const formats = new Map<string, Intl.NumberFormat>();

function unitFormat(lang: Language, unit: string): Intl.NumberFormat {
  const key = `${lang}:${unit}`;
  let format = formats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(lang, { style: "unit", unit, unitDisplay: "long" });
    formats.set(key, format);
  }
  return format;
}

/** `minutes` rounded to whole seconds, in hours, minutes and seconds, the zero parts left out. */
export function formatDuration(minutes: number, lang: Language): string {
  let seconds = Math.max(0, Math.round(minutes * 60));
  if (seconds === 0) return unitFormat(lang, "second").format(0);
  const parts: string[] = [];
  for (const [unit, size] of UNITS) {
    const n = Math.floor(seconds / size);
    seconds -= n * size;
    if (n > 0) parts.push(unitFormat(lang, unit).format(n));
  }
  return parts.join(" ");
}
