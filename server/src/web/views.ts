// Store records → API shapes (shared/api types).
import {
  tlsSummary,
  type BatchView,
  type CopyView,
  type Language,
  type MessageSummary,
  type MessageView,
} from "@sendguard/shared";
import type { CopyRecord, MessageRecord } from "../store/types.js";

export function releaseAt(message: MessageRecord): number {
  const open = message.batches.filter((g) => g.status === "held" || g.status === "releasing");
  const pool = open.length ? open : message.batches;
  return pool.length ? Math.min(...pool.map((g) => g.nextAt)) : message.createdAt;
}

export function messageSummary(m: MessageRecord): MessageSummary {
  return {
    id: m.id,
    messageId: m.messageId,
    subject: m.subject,
    from: m.fromHeader,
    envelopeSender: m.sender,
    status: m.status,
    releaseAt: new Date(releaseAt(m)).toISOString(),
    createdAt: new Date(m.createdAt).toISOString(),
    size: m.size,
  };
}

/** A copy as the sender reads it: its TLS checks in words in `lang`. */
export function copyView(
  copy: Pick<CopyRecord, "recipients" | "action" | "detail">,
  lang: Language,
): CopyView {
  const { tls, ...detail } = copy.detail;
  return {
    recipients: copy.recipients,
    action: copy.action,
    ...detail,
    ...(tls ? { tls: tls.map((check) => ({ ...check, summary: tlsSummary(lang, check) })) } : {}),
  };
}

export function messageView(m: MessageRecord, lang: Language): MessageView {
  const groups: BatchView[] = m.batches.map((g) => ({
    id: g.id,
    name: g.name,
    status: g.status,
    releaseAt: new Date(g.status === "held" ? g.nextAt : g.releaseAt).toISOString(),
    recipients: g.recipients.map((r) => ({
      address: r.address,
      status: r.status,
      ...(r.response ? { response: r.response } : {}),
    })),
    attachments: {
      action: g.attachmentAction,
      copies: g.copies.map((c) => copyView(c, lang)),
    },
  }));
  return {
    ...messageSummary(m),
    groups,
    bodyKept: m.bodyDeletedAt === null && m.bodyMissingAt === null,
    ...(m.bodyDeletedAt === null ? {} : { bodyDeletedAt: new Date(m.bodyDeletedAt).toISOString() }),
    bodyMissing: m.bodyMissingAt !== null,
    ...(m.bodyMissingAt === null ? {} : { bodyMissingAt: new Date(m.bodyMissingAt).toISOString() }),
  };
}
