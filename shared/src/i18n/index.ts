import type { Language } from "../api/types.js";
import { en, ja, type MessageKey } from "./catalog.js";

export type { MessageKey } from "./catalog.js";
export { tlsSummary } from "./tls.js";

const catalogs: Record<Language, Record<MessageKey, string>> = { ja, en };

export function isLanguage(value: unknown): value is Language {
  return value === "ja" || value === "en";
}

/** Looks up `key` in `lang` and fills `{name}` placeholders; unknown placeholders stay visible. */
export function t(lang: Language, key: MessageKey, vars: Record<string, string | number> = {}): string {
  return catalogs[lang][key].replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in vars ? String(vars[name]) : whole,
  );
}

/** Picks ja or en from an Accept-Language header; `fallback` when neither is asked for. */
export function pickLanguage(acceptLanguage: string | undefined, fallback: Language): Language {
  if (!acceptLanguage) return fallback;
  const ranked = acceptLanguage
    .split(",")
    .map((part) => {
      const [tag = "", ...params] = part.split(";");
      const q = params.map((p) => /^\s*q\s*=\s*([\d.]+)/.exec(p)?.[1]).find(Boolean);
      return { tag: tag.trim().toLowerCase(), q: q === undefined ? 1 : Number(q) };
    })
    .filter((entry) => entry.q > 0) // q=0 means "not acceptable" (RFC 9110 §12.4.2)
    .sort((a, b) => b.q - a.q);
  for (const { tag } of ranked) {
    const base = tag.split("-")[0];
    if (isLanguage(base)) return base;
  }
  return fallback;
}
