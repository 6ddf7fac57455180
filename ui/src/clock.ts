// "10:05": a release time as the add-ins' messages say it, in the reader's own clock.
import type { Language } from "@sendguard/shared";

export function clockTime(iso: string, lang: Language): string {
  return new Date(iso).toLocaleTimeString(lang === "ja" ? "ja-JP" : "en-GB", {
    hour: "2-digit",
    minute: "2-digit",
  });
}
