// formatLocalTime of @sendguard/shared, remembered by minute and timezone. Every accepted message
// shows its release time twice (the SMTP reply and the hold notice), and messages accepted in the
// same minute share it; formatting it (Intl formatToParts) cost ~3 % of a message's CPU.
import { formatLocalTime } from "@sendguard/shared";

/** Minutes remembered; past this the memory is simply cleared. */
const KEPT = 1000;
const MINUTE_MS = 60_000;

const formatted = new Map<string, string>();

/** Like formatLocalTime (which shows minutes, never seconds), for a time in epoch milliseconds. */
export function localMinute(ms: number, timeZone: string): string {
  const minute = Math.floor(ms / MINUTE_MS);
  const key = `${minute} ${timeZone}`;
  let text = formatted.get(key);
  if (text === undefined) {
    if (formatted.size >= KEPT) formatted.clear();
    text = formatLocalTime(new Date(minute * MINUTE_MS), timeZone);
    formatted.set(key, text);
  }
  return text;
}
