// A message's status is derived from its groups and their recipients.
import type { GroupStatus, MessageStatus } from "@sendguard/shared";

export interface GroupTally {
  status: GroupStatus;
  sent: number;
  failed: number;
}

export function aggregateStatus(groups: readonly GroupTally[]): MessageStatus {
  const has = (s: GroupStatus) => groups.some((g) => g.status === s);
  if (has("pending_approval")) return "pending_approval";
  if (has("releasing")) return "releasing";
  if (has("held")) return "held";
  if (groups.length && groups.every((g) => g.status === "approval_denied")) return "approval_denied";
  const sent = groups.reduce((n, g) => n + g.sent, 0);
  const failed = groups.reduce((n, g) => n + g.failed, 0);
  if (sent === 0 && failed === 0) return "discarded";
  if (failed === 0) return "sent";
  return sent === 0 ? "failed" : "partially_sent";
}

/** Statuses no group can leave: nothing is left to deliver or decide. Retention counts from here. */
export const FINAL_STATUSES: readonly MessageStatus[] = [
  "sent",
  "failed",
  "partially_sent",
  "discarded",
  "rejected",
  "approval_denied",
];
