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
  // Only what is still held: internal copies may already be on their way.
  const held = message.groups.filter((g) => g.status === "held");
  const groups = held.length ? held : message.groups;
  const recipients = groups.flatMap((g) => g.recipients.map((r) => r.address));
  const releaseAt = Math.min(...groups.map((g) => g.nextAt));
  const shown = recipientsLine(recipients);
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

function recipientsLine(addresses: string[]): string {
  return addresses.slice(0, 20).join(", ") + (addresses.length > 20 ? ` (+${addresses.length - 20})` : "");
}

export interface RejectData {
  subject: string;
  rule: string;
  reason: string;
  recipients: string[];
}

export function rejectNotice(data: RejectData, lang: Language): NoticeContent {
  return {
    subject: `${t(lang, "reject.tag")} ${safeSubject(data.subject)}`,
    text: [
      t(lang, "reject.intro"),
      "",
      t(lang, "hold.subject", { subject: safeSubject(data.subject) }),
      t(lang, "hold.recipients", { recipients: recipientsLine(data.recipients) }),
      t(lang, "reject.rule", { rule: data.rule }),
      t(lang, "reject.reason", { reason: data.reason }),
      "",
      "--",
      t(lang, "reject.footer"),
      "",
    ].join("\n"),
  };
}

export function approvalRequestNotice(
  message: MessageRecord,
  lang: Language,
  timeZone: string,
  url: string,
): NoticeContent {
  const recipients = message.groups.flatMap((g) => g.recipients.map((r) => r.address));
  return {
    subject: `${t(lang, "approval.tag")} ${safeSubject(message.subject)}`,
    text: [
      t(lang, "approval.intro", { sender: message.sender }),
      "",
      t(lang, "hold.subject", { subject: safeSubject(message.subject) }),
      t(lang, "hold.recipients", { recipients: recipientsLine(recipients) }),
      t(lang, "approval.rules", { rules: message.matchedRules.join(", ") }),
      ...(message.approvalDeadline
        ? [
            t(lang, "approval.deadline", {
              time: formatLocalTime(new Date(message.approvalDeadline), timeZone),
            }),
          ]
        : []),
      "",
      t(lang, "approval.link"),
      url,
      "",
      "--",
      t(lang, "hold.footer"),
      "",
    ].join("\n"),
  };
}

export function deniedNotice(
  message: MessageRecord,
  lang: Language,
  approver: string,
  comment: string,
): NoticeContent {
  return {
    subject: `${t(lang, "denied.tag")} ${safeSubject(message.subject)}`,
    text: [
      t(lang, "denied.intro"),
      "",
      t(lang, "hold.subject", { subject: safeSubject(message.subject) }),
      t(lang, "denied.by", { approver }),
      ...(comment ? [t(lang, "denied.comment", { comment: comment.slice(0, 2000) })] : []),
      "",
      "--",
      t(lang, "hold.footer"),
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
