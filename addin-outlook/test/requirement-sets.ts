// The Mailbox requirement set each launch event came with (Microsoft's "Supported events" table),
// written here apart from source.ts so that the manifests are checked against it, not against themselves.
export const EVENT_SETS: Record<string, string> = {
  OnMessageSend: "1.12",
  OnAppointmentSend: "1.12",
  OnMessageRecipientsChanged: "1.13",
  OnMessageAttachmentsChanged: "1.13",
  messageSending: "1.12",
  appointmentSending: "1.12",
  messageRecipientsChanged: "1.13",
  messageAttachmentsChanged: "1.13",
};

/** Events that only prepare the check: a 1.12 client does without them (the send check still runs). */
export const PREPARING = new Set(["OnMessageRecipientsChanged", "OnMessageAttachmentsChanged"]);

/** Whether requirement-set version `a` is `b` or later ("1.13" ≥ "1.12"; "1.9" < "1.12"). */
export function atLeast(a: string, b: string): boolean {
  const [am = 0, an = 0] = a.split(".").map(Number);
  const [bm = 0, bn = 0] = b.split(".").map(Number);
  return am > bm || (am === bm && an >= bn);
}
