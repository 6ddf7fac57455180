// api hand-off: the message built from the item's parts, as POST /api/v1/messages takes it (JSON).
// Outlook has no MIME of a message being written, so: the recipients as confirmed, the subject,
// the body as text and as HTML, and every attachment's content (getAttachmentContentAsync, 1.8):
// files as they are, inline images with their Content-ID (the HTML shows them as cid:), an attached
// message or meeting as .eml / .ics. A cloud attachment is only a link: it is refused, since the
// gateway could neither check nor protect a file it never sees.
import { t, type Draft, type DraftRecipient, type JsonMessage, type Language } from "@sendguard/shared";
import { hostCall } from "../../handler/host.js";

/** Something in the item that cannot be handed over; the message says what to do. */
export class SubmissionProblem extends Error {
  override readonly name = "SubmissionProblem";
}

type Attachment = NonNullable<JsonMessage["attachments"]>[number];

function formatted(r: DraftRecipient): string {
  return r.name ? `"${r.name.replace(/["\\\r\n]/g, "")}" <${r.address}>` : r.address;
}

function utf8Base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function withExtension(name: string, extension: string): string {
  return name.toLowerCase().endsWith(extension) ? name : `${name}${extension}`;
}

async function attachmentPart(
  item: Office.MessageCompose,
  details: Office.AttachmentDetailsCompose,
  lang: Language,
): Promise<Attachment> {
  const { format, content } = await hostCall<Office.AttachmentContent>((done) =>
    item.getAttachmentContentAsync(details.id, done),
  );
  switch (format) {
    case Office.MailboxEnums.AttachmentContentFormat.Base64:
      // Compose mode does not say the type: the gateway's composer takes it from the name.
      return {
        filename: details.name,
        content,
        ...(details.isInline && details.contentId ? { cid: details.contentId } : {}),
      };
    case Office.MailboxEnums.AttachmentContentFormat.Eml:
      return {
        filename: withExtension(details.name, ".eml"),
        contentType: "message/rfc822",
        content: utf8Base64(content),
      };
    case Office.MailboxEnums.AttachmentContentFormat.ICalendar:
      return {
        filename: withExtension(details.name, ".ics"),
        contentType: "text/calendar",
        content: utf8Base64(content),
      };
    default:
      throw new SubmissionProblem(t(lang, "outlook.pane.cloudAttachment", { name: details.name }));
  }
}

export async function buildSubmission(
  item: Office.MessageCompose,
  draft: Draft,
  lang: Language,
): Promise<JsonMessage> {
  const [html, attachments] = await Promise.all([
    hostCall<string>((done) => item.body.getAsync(Office.CoercionType.Html, done)),
    hostCall<Office.AttachmentDetailsCompose[]>((done) => item.getAttachmentsAsync(done)),
  ]);
  // One at a time: each is the whole file in memory (base64), and Outlook on the web fetches it.
  const parts: Attachment[] = [];
  for (const details of attachments) parts.push(await attachmentPart(item, details, lang));
  const field = (name: DraftRecipient["field"]) =>
    draft.recipients.filter((r) => r.field === name).map(formatted);
  return {
    from: draft.from,
    to: field("to"),
    cc: field("cc"),
    bcc: field("bcc"),
    subject: draft.subject,
    text: draft.body,
    html,
    attachments: parts,
  };
}
