// Sends one pending notice: reads the message it is about, writes the mail, hands it to the relay.
import { Readable } from "node:stream";
import type { Config } from "../config/schema.js";
import type { DkimKeys } from "../delivery/dkim.js";
import type { Relay } from "../delivery/relay.js";
import type { Links } from "../links.js";
import type { NoticeRecord, RecipientResult, Store } from "../store/types.js";
import { domainOf } from "@sendguard/shared";
import { bounceNotice, composeNotice, holdNotice, type FailedRecipient } from "./compose.js";

export class NoticeSender {
  readonly from: string;

  constructor(
    private readonly config: Config,
    private readonly store: Store,
    private readonly relay: Relay,
    private readonly links: Links,
    private readonly dkim: DkimKeys,
  ) {
    this.from = config.notify.from ?? `sendguard@${config.smtp.hostname}`;
  }

  /** null when the notice has become pointless (the message is gone or no longer held). */
  async send(notice: NoticeRecord): Promise<RecipientResult | null> {
    const message = await this.store.message(notice.messageId);
    if (!message) return null;
    let content;
    if (notice.kind === "hold") {
      if (message.status !== "held") return null;
      content = holdNotice(
        message,
        notice.language,
        this.config.organization.timezone,
        this.links.holdUrl(message.id),
      );
    } else {
      content = bounceNotice(message, notice.language, (notice.data.failed ?? []) as FailedRecipient[]);
    }
    const raw = await composeNotice(content, {
      from: this.from,
      to: notice.recipient,
      inReplyTo: message.messageId,
      hostname: this.config.smtp.hostname,
    });
    const [result] = await this.relay.send(
      { from: this.from, to: [notice.recipient] },
      Readable.from([raw]),
      await this.dkim.forDomain(domainOf(this.from)),
      `notice-${notice.id}-${notice.kind}`,
    );
    return result ?? null;
  }
}
