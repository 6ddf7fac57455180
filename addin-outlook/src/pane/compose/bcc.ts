// "Convert to Bcc" in Outlook: the shared conversion (the same external recipients the gateway
// would move), written back to the item's To, Cc and Bcc with setAsync.
import { convertExternalToBcc, type ClientPolicy, type Draft, type DraftRecipient } from "@sendguard/shared";
import { hostCall } from "../../handler/host.js";

const FIELDS = ["to", "cc", "bcc"] as const;

const emailUser = (r: DraftRecipient): Office.EmailUser => ({
  emailAddress: r.address,
  displayName: r.name ?? r.address,
});

export async function moveExternalToBcc(
  item: Office.MessageCompose,
  draft: Draft,
  policy: ClientPolicy,
): Promise<void> {
  const converted = convertExternalToBcc(draft, policy);
  // One call a field whatever the number of recipients: each is a round trip in Outlook on the web.
  await Promise.all(
    FIELDS.map((field) =>
      hostCall<void>((done) =>
        item[field].setAsync(converted.recipients.filter((r) => r.field === field).map(emailUser), done),
      ),
    ),
  );
}
