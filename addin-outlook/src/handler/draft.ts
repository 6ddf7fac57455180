// What Outlook hands over (recipient details, attachment details) → the add-in-neutral Draft the
// shared checks understand.
import type { Draft, DraftAttachment, DraftRecipient, RecipientField } from "@sendguard/shared";

/** The parts of Office.EmailAddressDetails and AttachmentDetailsCompose the checks use. */
export interface HostRecipient {
  emailAddress: string;
  displayName: string;
  recipientType: string;
}

export interface HostAttachment {
  name: string;
  size: number;
  attachmentType: string;
  isInline: boolean;
}

export interface ItemContent {
  kind: "message" | "appointment";
  /** To/Cc/Bcc of a message; required attendees (as To) and optional ones (as Cc) of a meeting. */
  recipients: { field: RecipientField; recipients: HostRecipient[] }[];
  subject: string;
  body: string;
  attachments: HostAttachment[];
}

function recipient(r: HostRecipient, field: RecipientField): DraftRecipient {
  const name = (r.displayName ?? "").trim();
  // A personal contact group may come without an address: its name must still be shown.
  const address = (r.emailAddress ?? "").trim() || name;
  return {
    address,
    field,
    ...(name && name !== address ? { name } : {}),
    ...(r.recipientType === "distributionList" ? { list: true } : {}),
  };
}

/**
 * Inline images (a signature's logo, a pasted screenshot) are part of the body, not attachments;
 * an attached message or meeting (attachmentType "item") and a cloud link are, and count.
 */
function attachment(a: HostAttachment): DraftAttachment {
  return { name: a.name, size: Number.isFinite(a.size) ? a.size : -1 };
}

export function draftOf(content: ItemContent, from: string): Draft {
  return {
    from,
    recipients: content.recipients.flatMap((list) => list.recipients.map((r) => recipient(r, list.field))),
    subject: content.subject,
    body: content.body,
    attachments: content.attachments.filter((a) => !a.isInline).map(attachment),
  };
}
