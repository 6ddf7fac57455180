// Relay hand-off: Outlook sends the confirmed item itself. The pane leaves its confirmation in
// sessionData (the handler lets this very item pass on the OnMessageSend that sendAsync fires),
// stamps X-Sendguard-Confirmed, and sends (Mailbox 1.15); an older client is told to press Send.
import { CONFIRMED_HEADER, confirmedHeaderValue, type Draft } from "@sendguard/shared";
import { CONFIRMED_KEY } from "../../handler/commands.js";
import { hostCall, type ComposeItem } from "../../handler/host.js";
import { confirmationDigest } from "../../handler/marker.js";

/** "sent": Outlook took it; "pressSend": confirmed, but this client cannot send from the pane. */
export type SendOutcome = "sent" | "pressSend";

export async function confirmAndSend(item: ComposeItem, draft: Draft): Promise<SendOutcome> {
  await hostCall<void>((done) => item.sessionData.setAsync(CONFIRMED_KEY, confirmationDigest(draft), done));
  // Meeting invitations have no internet headers to set.
  if (item.itemType === "message")
    await hostCall<void>((done) =>
      (item as Office.MessageCompose).internetHeaders.setAsync(
        { [CONFIRMED_HEADER]: confirmedHeaderValue("confirmed") },
        done,
      ),
    );
  if (!Office.context.requirements.isSetSupported("Mailbox", "1.15")) return "pressSend";
  await hostCall<void>((done) => item.sendAsync(done));
  return "sent";
}
