// Which message a hold notice ([配送保留] / [Held]) is about. The notice links to the message's hold
// page, PUBLIC_URL/hold/ID/SIG (server/src/notify/compose.ts, server/src/links.ts): the read pane
// takes the gateway's id from that link. Anyone can write such a mail, but the id only reaches the
// gateway with the reader's own token, which shows and acts on the reader's own messages alone.
import { t } from "@sendguard/shared";
import { hostCall } from "../handler/host.js";

/** The notice's subject tag in either language: a notice is in its recipient's language. */
const TAGS = [t("ja", "hold.tag"), t("en", "hold.tag")];
/** The hold page link: the id (base64url) and its signature (HMAC, base64url). */
const HOLD_LINK = /\/hold\/([A-Za-z0-9_-]{8,64})\/[A-Za-z0-9_-]{20,}/;

/** The gateway's id of the held message, or null when the mail is no hold notice. */
export function noticeMessageId(subject: string, body: string): string | null {
  if (!TAGS.some((tag) => subject.includes(tag))) return null;
  return HOLD_LINK.exec(body)?.[1] ?? null;
}

/** The same for the item open in Outlook; its body is read only when the subject is a notice's. */
export async function openNoticeMessageId(item: Office.MessageRead | undefined): Promise<string | null> {
  if (!item || item.itemType !== Office.MailboxEnums.ItemType.Message) return null;
  const subject = item.subject ?? "";
  if (!TAGS.some((tag) => subject.includes(tag))) return null;
  const body = await hostCall<string>((done) => item.body.getAsync(Office.CoercionType.Text, done)).catch(
    () => "",
  );
  return noticeMessageId(subject, body);
}
