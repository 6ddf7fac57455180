// The header an add-in stamps on a message it lets go (relay hand-off), in both add-ins the same:
// "X-Sendguard-Confirmed: confirmed; 2026-12-04T23:00:00.000Z". It records what the client did;
// the gateway still checks every message itself.
export const CONFIRMED_HEADER = "X-Sendguard-Confirmed";

/** "confirmed" after the dialog; "no confirmation needed" when the policy asked for none. */
export type ConfirmedHow = "confirmed" | "no confirmation needed";

export function confirmedHeaderValue(how: ConfirmedHow, at: Date = new Date()): string {
  return `${how}; ${at.toISOString()}`;
}
