// "[ダウンロード通知]": the notice to a package's sender at the first download of each recipient's
// link, when the policy asked for it (attachments.download.notifySender). Built before the count
// and queued by it, in the count's transaction, only when that download is the link's first.
import type { DownloadedData } from "../notify/compose.js";
import type { DownloadFileRecord, NewNotice, Store } from "../store/types.js";
import { liveFiles, type FoundLink } from "./access.js";

export async function firstDownloadNotice(
  store: Pick<Store, "message">,
  found: FoundLink,
  /** The file downloaded; null: all of them as one ZIP. */
  file: DownloadFileRecord | null,
  ip: string,
  now: number,
): Promise<NewNotice | null> {
  const { package: pkg, link } = found;
  if (!pkg.notifyFirst || link.firstDownloadAt !== null) return null;
  // The sender, their language and the subject are the message's; once retention has deleted its
  // rows there is nothing left to say it about.
  const message = await store.message(pkg.messageId);
  if (!message) return null;
  const data: DownloadedData = {
    recipient: link.recipient,
    at: now,
    ip,
    files: (file ? [file] : liveFiles(pkg)).map((f) => ({ name: f.name, size: f.size })),
    all: file === null,
  };
  return {
    kind: "downloaded",
    messageId: pkg.messageId,
    recipient: message.sender,
    language: message.language,
    data: { ...data },
  };
}
