// A message's status is derived from its delivery batches and their recipients.
import type { BatchStatus, MessageStatus } from "@sendguard/shared";

export interface BatchTally {
  status: BatchStatus;
  sent: number;
  failed: number;
}

export function aggregateStatus(batches: readonly BatchTally[]): MessageStatus {
  const has = (s: BatchStatus) => batches.some((g) => g.status === s);
  if (has("pending_approval")) return "pending_approval";
  if (has("releasing")) return "releasing";
  if (has("held")) return "held";
  if (batches.length && batches.every((g) => g.status === "approval_denied")) return "approval_denied";
  const sent = batches.reduce((n, g) => n + g.sent, 0);
  const failed = batches.reduce((n, g) => n + g.failed, 0);
  if (sent === 0 && failed === 0) return "discarded";
  if (failed === 0) return "sent";
  return sent === 0 ? "failed" : "partially_sent";
}

/** Statuses no batch can leave: nothing is left to deliver or decide. Retention counts from here. */
export const FINAL_STATUSES: readonly MessageStatus[] = [
  "sent",
  "failed",
  "partially_sent",
  "discarded",
  "rejected",
  "approval_denied",
];
