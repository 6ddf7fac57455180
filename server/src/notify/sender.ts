// Sends one pending notice: writes the mail about its message and hands it to the relay.
import { randomUUID } from "node:crypto";
import type { Config } from "../config/schema.js";
import type { DkimKeys } from "../delivery/dkim.js";
import type { BufferRelay } from "../delivery/relay-thread.js";
import type { Links } from "../links.js";
import type { MessageRecord, NoticeRecord, RecipientResult } from "../store/types.js";
import { domainOf } from "@sendguard/shared";
import {
  approvalRequestNotice,
  bounceNotice,
  composeNotice,
  deniedNotice,
  downloadCodeNotice,
  downloadedNotice,
  holdNotice,
  passwordNotice,
  rejectNotice,
  type DownloadedData,
  type FailedRecipient,
  type NoticeContent,
  type RejectData,
} from "./compose.js";

export class NoticeSender {
  readonly from: string;

  constructor(
    private readonly config: Config,
    private readonly relay: BufferRelay,
    private readonly links: Links,
    private readonly dkim: DkimKeys,
  ) {
    this.from = config.notify.from ?? `sendguard@${config.smtp.hostname}`;
  }

  /**
   * null when the notice has become pointless (the message is gone or no longer in that state).
   * `message` is the record the notice is about, read by the caller for a whole batch of notices.
   */
  async send(notice: NoticeRecord, message: MessageRecord | undefined): Promise<RecipientResult | null> {
    const content = this.content(notice, message);
    if (!content) return null;
    const { raw, messageId } = composeNotice(content, {
      from: this.from,
      to: notice.recipient,
      inReplyTo: (notice.data.messageId as string | undefined) ?? content.messageId,
    });
    const [result] = await this.relay.send({ from: this.from, to: [notice.recipient] }, raw, {
      dkim: await this.dkim.forDomain(domainOf(this.from)),
      name: `notice-${notice.id}-${notice.kind}`,
      messageId,
    });
    return result ?? null;
  }

  private content(
    notice: NoticeRecord,
    message: MessageRecord | undefined,
  ): (NoticeContent & { messageId: string }) | null {
    const lang = notice.language;
    if (notice.kind === "reject") {
      return {
        ...rejectNotice(notice.data as unknown as RejectData, lang),
        messageId: String(notice.data.messageId),
      };
    }
    const tz = this.config.organization.timezone;
    if (notice.kind === "download_code") {
      const { code, expiresAt } = notice.data as { code: string; expiresAt: number };
      return { ...downloadCodeNotice(code, expiresAt, lang, tz), messageId: `${randomUUID()}@sendguard` };
    }
    if (!message) return null;
    const messageId = message.messageId;
    switch (notice.kind) {
      case "hold":
        if (!message.batches.some((g) => g.status === "held")) return null;
        return { ...holdNotice(message, lang, tz, this.links.holdUrl(message.id)), messageId };
      case "bounce":
        return { ...bounceNotice(message, lang, (notice.data.failed ?? []) as FailedRecipient[]), messageId };
      case "approval_request":
        if (message.status !== "pending_approval") return null;
        return {
          ...approvalRequestNotice(message, lang, tz, this.links.approveUrl(message.id, notice.recipient)),
          messageId,
        };
      case "denied":
        return {
          ...deniedNotice(
            message,
            lang,
            String(notice.data.approver ?? ""),
            String(notice.data.comment ?? ""),
          ),
          messageId,
        };
      case "downloaded":
        return {
          ...downloadedNotice(message, notice.data as unknown as DownloadedData, lang, tz),
          messageId,
        };
      case "password": {
        // copyId: one copy's notice, as queued by earlier versions too; copyIds: the sender's for several.
        const ids = new Set((notice.data.copyIds ?? [notice.data.copyId]) as string[]);
        const copies = message.batches.flatMap((b) => b.copies).filter((c) => ids.has(c.id));
        const content = passwordNotice(message, copies, lang, notice.data.toSender === true);
        return content ? { ...content, messageId } : null;
      }
    }
  }
}
