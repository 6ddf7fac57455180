// The password notices a delivery attempt queues (policy password.notify). They go a few minutes
// after the copies (password.delayMinutes), never in them:
//   recipients → each recipient a copy reached gets that copy's password ("[パスワード通知]");
//   sender     → the sender gets one notice ("[パスワード通知(自分宛)]") for all the batch's copies
//                reached so far and not yet noticed, each password with its recipients: a web
//                download's N links are one notice, not N.
import type { AttachmentSettings } from "@sendguard/shared";
import type {
  BatchRecord,
  CopyRecord,
  MessageRecord,
  NewCopy,
  NewNotice,
  RecipientResult,
} from "../store/types.js";

export interface PasswordNotices {
  notices: NewNotice[];
  /** Copies whose password is noticed to the sender now: never again. */
  noticed: string[];
}

export const noNotices = (): PasswordNotices => ({ notices: [], noticed: [] });

type Copy = NewCopy | CopyRecord | null;

const base = (message: MessageRecord, settings: AttachmentSettings["password"]) => ({
  kind: "password" as const,
  messageId: message.id,
  language: message.language,
  dueAt: Date.now() + settings.delayMinutes * 60_000,
});

const sentTo = (results: RecipientResult[]) =>
  new Set(results.filter((r) => r.outcome === "sent").map((r) => r.address));

/** In "recipients" mode, one notice per recipient `copy` reached in `results`. */
export function recipientPasswordNotices(
  message: MessageRecord,
  settings: AttachmentSettings["password"],
  copy: Copy,
  results: RecipientResult[],
): PasswordNotices {
  if (settings.notify !== "recipients" || !copy?.password) return noNotices();
  const sent = sentTo(results);
  const notices = copy.recipients
    .filter((a) => sent.has(a))
    .map((recipient) => ({ ...base(message, settings), recipient, data: { copyId: copy.id } }));
  return { notices, noticed: [] };
}

/**
 * In "sender" mode, the one notice for the batch's copies with a password that have reached a
 * recipient — in this attempt's `results`, or in an earlier attempt cut short by a crash before
 * its notice was queued — and were not noticed yet.
 */
export function senderPasswordNotice(
  message: MessageRecord,
  batch: BatchRecord,
  settings: AttachmentSettings["password"],
  copies: Copy[],
  results: RecipientResult[],
): PasswordNotices {
  if (settings.notify !== "sender") return noNotices();
  const sent = sentTo(results);
  for (const r of batch.recipients) if (r.status === "sent") sent.add(r.address);
  const due = copies.filter(
    (c): c is NewCopy | CopyRecord =>
      Boolean(c?.password) &&
      !(c && "passwordNoticedAt" in c && c.passwordNoticedAt) &&
      (c?.recipients.some((a) => sent.has(a)) ?? false),
  );
  if (!due.length) return noNotices();
  const copyIds = due.map((c) => c.id);
  const notice = { ...base(message, settings), recipient: message.sender, data: { copyIds, toSender: true } };
  return { notices: [notice], noticed: copyIds };
}
