// What a planned message leaves in the store: its rows, notices and audit entry when accepted; the
// audit entry and the sender's notice when refused.
import type { Localized } from "@sendguard/shared";
import type { AuditEntry, NewMessage, NewNotice } from "../store/types.js";
import type { PlannedMessage } from "./message.js";

/** Why a planned message is refused, in both languages; null when it goes ahead. */
export interface Refusal {
  rule: string;
  reason: { ja: string; en: string };
}

function bothLanguages(text: Localized): { ja: string; en: string } {
  return typeof text === "string" ? { ja: text, en: text } : text;
}

/** A reject rule, or an approval nobody can give, refuses the message. */
export function refusalOf(message: PlannedMessage): Refusal | null {
  const { decision, approvers } = message;
  if (decision.reject) return { rule: decision.reject.rule, reason: bothLanguages(decision.reject.reason) };
  if (decision.approval && !approvers.length) {
    return {
      rule: decision.approval.rules[0] ?? "approval",
      reason: {
        ja: "承認者が設定されていないため送信できません。",
        en: "Approval is required but no approver is configured.",
      },
    };
  }
  return null;
}

/** The audit entry of a refusal and the notice its sender gets (none without an envelope sender). */
export function refusalRecord(
  message: PlannedMessage,
  refusal: Refusal,
): { audit: AuditEntry; notices: NewNotice[] } {
  const { id, request, headers, recipients, language, decision } = message;
  return {
    audit: {
      actor: message.actor,
      action: "rejected",
      messageId: id,
      detail: {
        rule: refusal.rule,
        reason: refusal.reason,
        matched: decision.matched,
        subject: headers.subject,
        recipients,
        ip: request.remoteAddress,
      },
    },
    notices: request.mailFrom
      ? [
          {
            kind: "reject",
            messageId: id,
            recipient: request.mailFrom,
            language,
            data: {
              subject: headers.subject,
              rule: refusal.rule,
              reason: refusal.reason[language],
              recipients,
              messageId: message.messageId,
            },
          },
        ]
      : [],
  };
}

/** The rows of an accepted message: held, or waiting for approval, and what its sender is told. */
export function messageRecord(message: PlannedMessage): NewMessage {
  const { id, request, body, policy, decision, groups, approvers, language, receivedAt } = message;
  const held = groups.some((g) => g.releaseAt > receivedAt);
  const notices: NewNotice[] = approvers.length
    ? approvers.map((approver) => ({
        kind: "approval_request",
        messageId: id,
        recipient: approver,
        language,
      }))
    : held
      ? [{ kind: "hold", messageId: id, recipient: request.mailFrom, language }]
      : [];
  return {
    id,
    messageId: message.messageId,
    userId: request.user?.id ?? null,
    sender: request.mailFrom,
    fromHeader: message.identity.from,
    subject: message.headers.subject,
    size: body.size,
    body: body.inline,
    headerBytes: message.headerBytes,
    addedHeaders: message.addedHeaders,
    language,
    source: request.source,
    createdAt: receivedAt,
    headerRewrite: message.headerRewrite,
    approvalDeadline: approvers.length ? receivedAt + policy.approval.timeoutMinutes * 60_000 : null,
    approvalTimeoutAction: approvers.length ? policy.approval.timeoutAction : null,
    matchedRules: decision.matched,
    approvers,
    batches: groups,
    notices,
    audit: [
      {
        actor: message.actor,
        action: approvers.length ? "awaiting_approval" : "accepted",
        messageId: id,
        detail: {
          source: request.source,
          ip: request.remoteAddress,
          from: message.identity.from,
          size: body.size,
          recipients: message.recipients.length,
          groups: groups.map((g) => ({
            name: g.name,
            releaseAt: g.releaseAt,
            recipients: g.recipients.length,
            attachmentAction: g.attachmentAction,
          })),
          // what left the company, when a rule had the content analysed (the audit outlives the body)
          ...(message.facts && {
            attachments: message.facts.attachments.map((a) => ({
              filename: a.filename,
              size: a.size,
              encrypted: a.encrypted,
            })),
          }),
          rules: decision.matched,
          forceBcc: decision.forceBcc,
          approvers,
        },
      },
    ],
  };
}
