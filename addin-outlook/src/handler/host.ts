// The handler's reads of the item being composed. One batch of host calls whatever the number of
// recipients (each call is a round trip in Outlook on the web): To, Cc, Bcc (or the attendees),
// subject, body text, attachments, and the task pane's confirmation marker.
import type { RecipientField } from "@sendguard/shared";
import { CONFIRMED_KEY } from "./commands.js";
import type { ItemContent } from "./draft.js";

export type ComposeItem = Office.MessageCompose | Office.AppointmentCompose;

/** An Office callback API as a promise; a failed AsyncResult rejects with the host's reason. */
export function hostCall<T>(start: (callback: (result: Office.AsyncResult<T>) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) =>
    start((result) =>
      result.status === Office.AsyncResultStatus.Failed
        ? reject(new Error(result.error?.message || "Outlook refused the request"))
        : resolve(result.value),
    ),
  );
}

function recipientFields(item: ComposeItem): [RecipientField, Office.Recipients][] {
  if (item.itemType === "appointment") {
    const meeting = item as Office.AppointmentCompose;
    return [
      ["to", meeting.requiredAttendees],
      ["cc", meeting.optionalAttendees],
    ];
  }
  const message = item as Office.MessageCompose;
  return [
    ["to", message.to],
    ["cc", message.cc],
    ["bcc", message.bcc],
  ];
}

export async function readItem(item: ComposeItem): Promise<ItemContent> {
  const [recipients, subject, body, attachments] = await Promise.all([
    Promise.all(
      recipientFields(item).map(async ([field, list]) => ({
        field,
        recipients: await hostCall<Office.EmailAddressDetails[]>((done) => list.getAsync(done)),
      })),
    ),
    hostCall<string>((done) => item.subject.getAsync(done)),
    hostCall<string>((done) => item.body.getAsync("text", done)),
    hostCall<Office.AttachmentDetailsCompose[]>((done) => item.getAttachmentsAsync(done)),
  ]);
  return {
    kind: item.itemType === "appointment" ? "appointment" : "message",
    recipients,
    subject,
    body,
    attachments,
  };
}

/** The task pane's marker, or null: none yet, or a client without sessionData (before 1.11). */
export async function readMarker(item: ComposeItem): Promise<string | null> {
  if (!item.sessionData) return null;
  return hostCall<string>((done) => item.sessionData.getAsync(CONFIRMED_KEY, done)).catch(() => null);
}
