import type { Language } from "@sendguard/shared";
import type { BrowserApi } from "./browser-api.js";

/** Thunderbird's UI language when it is one we speak, else the organisation's. */
export function uiLanguage(api: Pick<BrowserApi, "i18n">, fallback: Language): Language {
  const ui = api.i18n.getUILanguage().toLowerCase();
  return ui.startsWith("ja") ? "ja" : ui.startsWith("en") ? "en" : fallback;
}
