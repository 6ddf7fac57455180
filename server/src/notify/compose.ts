// Builds notification mails (hold, bounce, reject, approval request, denial, password, first
// download) in the recipient's language.
// Non-ASCII headers become RFC 2047 words, so Japanese subjects survive any relay.
import { randomUUID } from "node:crypto";
import { formatLocalTime, formatSize, t, type Language, type MessageKey } from "@sendguard/shared";
import { wrap } from "nodemailer/lib/base64";
import { encodeWords, foldLines } from "nodemailer/lib/mime-funcs";
import { localMinute } from "../local-time.js";
import { displayName } from "../pipeline/transform/separate/notice.js";
import type { CopyRecord, MessageRecord } from "../store/types.js";

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
  kind: "hold" | "bounce" | "reject" | "approval" | "denied" | "password" | "passwordSelf" | "downloaded",
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
  message.batches.flatMap((g) => g.recipients.map((r) => r.address));

export function holdNotice(
  message: MessageRecord,
  lang: Language,
  timeZone: string,
  holdUrl: string,
): NoticeContent {
  // Only what is still held: internal copies may already be on their way.
  const held = message.batches.filter((g) => g.status === "held");
  const batches = held.length ? held : message.batches;
  const recipients = batches.flatMap((g) => g.recipients.map((r) => r.address));
  const releaseAt = Math.min(...batches.map((g) => g.nextAt));
  return notice(lang, "hold", message.subject, {
    intro: t(lang, "hold.intro"),
    facts: [
      t(lang, "hold.recipients", { recipients: recipientsLine(recipients) }),
      t(lang, "hold.releaseAt", { time: localMinute(releaseAt, timeZone) }),
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
}

/** Addresses and message ids go into headers in angle brackets: nothing in them may end either. */
function bracketed(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (!value || /[\u0000-\u001f\u007f<>]/.test(value)) {
    throw new Error(`cannot write ${JSON.stringify(value)} into a notice header`);
  }
  return `<${value}>`;
}

/**
 * A header field, with a non-ASCII value as RFC 2047 B words, folded at 76 characters. Line breaks
 * and other controls (a decoded subject can carry them) become spaces: no header can be injected.
 */
function field(name: string, value: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f]+/g, " ");
  return `${foldLines(`${name}: ${encodeWords(clean, "B", 52, true)}`, 76)}\r\n`;
}

/**
 * One text/plain part, written directly: a notice goes out for nearly every message, and building
 * it with MailComposer (a MIME tree and its streams) cost more CPU than the rest of the notice.
 */
export function composeNotice(
  content: NoticeContent,
  addressing: NoticeAddressing,
): { raw: Buffer; messageId: string } {
  const messageId = `${randomUUID()}@${addressing.from.slice(addressing.from.lastIndexOf("@") + 1)}`;
  const head =
    `From: Sendguard ${bracketed(addressing.from)}\r\n` +
    `To: ${bracketed(addressing.to)}\r\n` +
    field("Subject", content.subject) +
    `In-Reply-To: ${bracketed(addressing.inReplyTo)}\r\n` +
    `References: ${bracketed(addressing.inReplyTo)}\r\n` +
    `Message-ID: <${messageId}>\r\n` +
    `Date: ${new Date().toUTCString().replace("GMT", "+0000")}\r\n` +
    "Auto-Submitted: auto-generated\r\n" +
    "X-Auto-Response-Suppress: All\r\n" +
    "MIME-Version: 1.0\r\n" +
    "Content-Type: text/plain; charset=utf-8\r\n" +
    "Content-Transfer-Encoding: base64\r\n\r\n";
  const body = wrap(Buffer.from(content.text.replace(/\r?\n/g, "\r\n"), "utf8").toString("base64"), 76);
  return { raw: Buffer.from(`${head}${body}\r\n`, "utf8"), messageId };
}

/**
 * The passwords of copies' encrypted ZIPs or downloads, in a mail of their own sent after the
 * copies: to each recipient (one copy), or to the sender alone ("自分宛"), who passes them on
 * another way — one notice for all the copies a delivery reached, each password with the
 * recipients it is for (a web download's links, made together, share one).
 */
export function passwordNotice(
  message: MessageRecord,
  copies: CopyRecord[],
  lang: Language,
  toSender: boolean,
): NoticeContent | null {
  const groups = new Map<string, { what: string; password: string; recipients: string[] }>();
  for (const copy of copies) {
    if (!copy.password) continue;
    const what = copy.detail.zip
      ? t(lang, "password.zip", { name: copy.detail.zip.name })
      : t(lang, "password.download");
    const key = JSON.stringify([what, copy.password]);
    const group = groups.get(key) ?? { what, password: copy.password, recipients: [] };
    group.recipients.push(...copy.recipients);
    groups.set(key, group);
  }
  if (!groups.size) return null;
  // The sender needs every name to pass the password on; a recipient only sees their own copy's.
  const listed = (recipients: string[]) => (toSender ? recipients.join(", ") : recipientsLine(recipients));
  return notice(lang, toSender ? "passwordSelf" : "password", message.subject, {
    intro: toSender ? t(lang, "passwordSelf.intro") : t(lang, "password.intro", { sender: message.sender }),
    facts: [...groups.values()].flatMap((group, index) => [
      ...(index ? [""] : []),
      t(lang, "hold.recipients", { recipients: listed(group.recipients) }),
      group.what,
      "",
      t(lang, "password.value", { password: group.password }),
    ]),
    footer: "password.footer",
  });
}

/** The one-time code a recipient asked for on the download page (no message behind it to name). */
export function downloadCodeNotice(
  code: string,
  expiresAt: number,
  lang: Language,
  timeZone: string,
): NoticeContent {
  return {
    subject: `${t(lang, "downloadCode.tag")} ${code}`,
    text: [
      t(lang, "downloadCode.intro"),
      "",
      t(lang, "downloadCode.code", { code }),
      t(lang, "downloadCode.expires", { time: formatLocalTime(new Date(expiresAt), timeZone) }),
      "",
      "--",
      t(lang, "downloadCode.footer"),
      "",
    ].join("\n"),
  };
}

/** What the "downloaded" notice says: taken when the link's first download was counted. */
export interface DownloadedData {
  /** The recipient the link belongs to. */
  recipient: string;
  /** Epoch milliseconds. */
  at: number;
  ip: string;
  /** The file downloaded, or every file when `all` (the ZIP of all). */
  files: { name: string; size: number }[];
  all: boolean;
}

/** Files listed by name in the notice; the rest are counted. */
const MAX_DOWNLOADED_LISTED = 50;

/** "[ダウンロード通知]": to the sender, once per recipient's link, at its first download. */
export function downloadedNotice(
  message: MessageRecord,
  data: DownloadedData,
  lang: Language,
  timeZone: string,
): NoticeContent {
  const listed = data.files.slice(0, MAX_DOWNLOADED_LISTED);
  const more = data.files.length - listed.length;
  return notice(lang, "downloaded", message.subject, {
    intro: t(lang, "downloaded.intro"),
    facts: [
      t(lang, "downloaded.by", { recipient: data.recipient }),
      t(lang, "downloaded.at", { time: formatLocalTime(new Date(data.at), timeZone) }),
      t(lang, "downloaded.ip", { ip: data.ip || "-" }),
      t(lang, data.all ? "downloaded.all" : "downloaded.file"),
      ...listed.map((f) => `  ${displayName(f.name)} (${formatSize(f.size, lang)})`),
      ...(more > 0 ? [`  ${t(lang, "separate.more", { count: more })}`] : []),
    ],
    footer: "downloaded.footer",
  });
}
