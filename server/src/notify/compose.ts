// Builds notification mails (hold, bounce, reject, approval request, denial) in the recipient's language. MailComposer
// encodes non-ASCII headers as RFC 2047 words, so Japanese subjects survive any relay.
import { formatLocalTime, t, type Language, type MessageKey } from "@sendguard/shared";
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

/** Every notice has the same shape: tag + subject, an intro, the facts, an optional link, a footer. */
function notice(
  lang: Language,
  kind: "hold" | "bounce" | "reject" | "approval" | "denied",
  subject: string,
  parts: { intro: string; facts: string[]; link?: { text: string; url: string }; footer?: MessageKey },
): NoticeContent {
  const clean = safeSubject(subject);
  return {
    subject: `${t(lang, `${kind}.tag`)} ${clean}`,
    text: [
      parts.intro,
      "",
      t(lang, "hold.subject", { subject: clean }),
      ...parts.facts,
      ...(parts.link ? ["", parts.link.text, parts.link.url] : []),
      "",
      "--",
      t(lang, parts.footer ?? "hold.footer"),
      "",
    ].join("\n"),
  };
}

function recipientsLine(addresses: string[]): string {
  return addresses.slice(0, 20).join(", ") + (addresses.length > 20 ? ` (+${addresses.length - 20})` : "");
}

const allRecipients = (message: MessageRecord) =>
  message.groups.flatMap((g) => g.recipients.map((r) => r.address));

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
  return notice(lang, "hold", message.subject, {
    intro: t(lang, "hold.intro"),
    facts: [
      t(lang, "hold.recipients", { recipients: recipientsLine(recipients) }),
      t(lang, "hold.releaseAt", { time: formatLocalTime(new Date(releaseAt), timeZone) }),
    ],
    link: { text: t(lang, "hold.link"), url: holdUrl },
  });
}

export function bounceNotice(
  message: MessageRecord,
  lang: Language,
  failed: FailedRecipient[],
): NoticeContent {
  return notice(lang, "bounce", message.subject, {
    intro: t(lang, "bounce.intro"),
    facts: [
      `Message-ID: <${message.messageId}>`,
      "",
      t(lang, "bounce.failed"),
      ...failed.map((f) => `  ${f.address}: ${f.response}`),
    ],
    footer: "bounce.footer",
  });
}

export interface RejectData {
  subject: string;
  rule: string;
  reason: string;
  recipients: string[];
}

export function rejectNotice(data: RejectData, lang: Language): NoticeContent {
  return notice(lang, "reject", data.subject, {
    intro: t(lang, "reject.intro"),
    facts: [
      t(lang, "hold.recipients", { recipients: recipientsLine(data.recipients) }),
      t(lang, "reject.rule", { rule: data.rule }),
      t(lang, "reject.reason", { reason: data.reason }),
    ],
    footer: "reject.footer",
  });
}

export function approvalRequestNotice(
  message: MessageRecord,
  lang: Language,
  timeZone: string,
  url: string,
): NoticeContent {
  const deadline = message.approvalDeadline;
  return notice(lang, "approval", message.subject, {
    intro: t(lang, "approval.intro", { sender: message.sender }),
    facts: [
      t(lang, "hold.recipients", { recipients: recipientsLine(allRecipients(message)) }),
      t(lang, "approval.rules", { rules: message.matchedRules.join(", ") }),
      ...(deadline
        ? [t(lang, "approval.deadline", { time: formatLocalTime(new Date(deadline), timeZone) })]
        : []),
    ],
    link: { text: t(lang, "approval.link"), url },
  });
}

export function deniedNotice(
  message: MessageRecord,
  lang: Language,
  approver: string,
  comment: string,
): NoticeContent {
  return notice(lang, "denied", message.subject, {
    intro: t(lang, "denied.intro"),
    facts: [
      t(lang, "denied.by", { approver }),
      ...(comment ? [t(lang, "denied.comment", { comment: comment.slice(0, 2000) })] : []),
    ],
  });
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
