// Builds notification mails (hold notice, bounce notice) in the recipient's language. MailComposer
// encodes non-ASCII headers as RFC 2047 words, so Japanese subjects survive any relay.
import { formatLocalTime, t, type Language } from "@sendguard/shared";
import MailComposer from "nodemailer/lib/mail-composer";
import type { MessageRecord } from "../store/types.js";

export interface NoticeContent {
  subject: string;
  text: string;
}

export interface FailedRecipient {
  address: string;
  response: string;
}

/** Subjects go into a header: strip anything that could end it, and keep it to a sane length. */
function safeSubject(subject: string): string {
  // eslint-disable-next-line no-control-regex
  return subject.replace(/[\u0000-\u001f\u007f]+/g, " ").slice(0, 500);
}

export function holdNotice(
  message: MessageRecord,
  lang: Language,
  timeZone: string,
  holdUrl: string,
): NoticeContent {
  const recipients = message.groups.flatMap((g) => g.recipients.map((r) => r.address));
  const releaseAt = Math.min(...message.groups.map((g) => g.releaseAt));
  const shown =
    recipients.slice(0, 20).join(", ") + (recipients.length > 20 ? ` (+${recipients.length - 20})` : "");
  return {
    subject: `${t(lang, "hold.tag")} ${safeSubject(message.subject)}`,
    text: [
      t(lang, "hold.intro"),
      "",
      t(lang, "hold.subject", { subject: safeSubject(message.subject) }),
      t(lang, "hold.recipients", { recipients: shown }),
      t(lang, "hold.releaseAt", { time: formatLocalTime(new Date(releaseAt), timeZone) }),
      "",
      t(lang, "hold.link"),
      holdUrl,
      "",
      "--",
      t(lang, "hold.footer"),
      "",
    ].join("\n"),
  };
}

export function bounceNotice(
  message: MessageRecord,
  lang: Language,
  failed: FailedRecipient[],
): NoticeContent {
  return {
    subject: `${t(lang, "bounce.tag")} ${safeSubject(message.subject)}`,
    text: [
      t(lang, "bounce.intro"),
      "",
      t(lang, "hold.subject", { subject: safeSubject(message.subject) }),
      `Message-ID: <${message.messageId}>`,
      "",
      t(lang, "bounce.failed"),
      ...failed.map((f) => `  ${f.address}: ${f.response}`),
      "",
      "--",
      t(lang, "bounce.footer"),
      "",
    ].join("\n"),
  };
}

export interface NoticeAddressing {
  from: string;
  to: string;
  inReplyTo: string;
  hostname: string;
}

export function composeNotice(content: NoticeContent, addressing: NoticeAddressing): Promise<Buffer> {
  const mail = new MailComposer({
    from: { name: "Sendguard", address: addressing.from },
    to: addressing.to,
    subject: content.subject,
    text: content.text,
    inReplyTo: `<${addressing.inReplyTo}>`,
    references: [`<${addressing.inReplyTo}>`],
    headers: { "Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All" },
    messageId: undefined,
    textEncoding: "base64",
  });
  return new Promise((resolve, reject) =>
    mail.compile().build((err, buf) => (err ? reject(err) : resolve(buf))),
  );
}
