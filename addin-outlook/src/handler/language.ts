// The language of what the add-in shows: Outlook's display language when it is one we speak.
import { pickLanguage, type Language } from "@sendguard/shared";

/** "ja-JP" → ja, "en-GB" → en; any other (or none) → `fallback`, the organisation's. */
export function language(fallback: Language): Language {
  try {
    return pickLanguage(Office.context.displayLanguage, fallback);
  } catch {
    return fallback;
  }
}
