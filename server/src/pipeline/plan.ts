// The plan step: turns a decision into delivery batches (recipients released together) with their
// release times, the To/Cc rewrite of forced Bcc, and the approvers a message must wait for.
import {
  classifyAddress,
  defaultAttachmentAction,
  type AttachmentAction,
  type Decision,
  type EffectivePolicy,
  type RecipientClass,
} from "@sendguard/shared";
import { mailboxKey, uniqueRecipients } from "../address.js";
import { newId } from "../secrets.js";
import type { HeaderRewrite, Store, UserRecord } from "../store/types.js";
import type { DecidedMessage, PlannedGroup, PlannedMessage } from "./message.js";

export type PlannedBatch = Omit<PlannedGroup, "id">;

const ORDER: RecipientClass[] = ["internal", "semi_internal", "external"];

/**
 * Batches of recipients by class and attachment action: each class is held (and delayed) for its
 * own time, and each attachment action makes a copy of its own.
 */
export function planBatches(policy: EffectivePolicy, decision: Decision, now: number): PlannedBatch[] {
  const planned = new Map<string, { address: string; cls: RecipientClass; action: AttachmentAction }>();
  const add = (address: string, cls: RecipientClass, action: AttachmentAction) => {
    const key = mailboxKey(address);
    if (!planned.has(key)) planned.set(key, { address, cls, action });
  };
  for (const r of decision.recipients) add(r.address, r.class, r.attachmentAction);
  // Policy Bcc addresses join in the form every recipient is stored in (address.ts).
  for (const address of uniqueRecipients(decision.addBcc)) {
    const cls = classifyAddress(address, policy.domains);
    add(address, cls, defaultAttachmentAction(policy, cls));
  }
  const minutes: Record<RecipientClass, number> = {
    internal: decision.hold.internal,
    semi_internal: decision.hold.semiInternal + decision.delay.semiInternal,
    external: decision.hold.external + decision.delay.external,
  };
  // Classes released at the same moment with the same copy travel together: one SMTP
  // transaction, not one per class.
  const batches: PlannedBatch[] = [];
  const ordered = [...planned.values()].sort((a, b) => ORDER.indexOf(a.cls) - ORDER.indexOf(b.cls));
  for (const { address, cls, action } of ordered) {
    const releaseAt = now + Math.round(minutes[cls] * 60_000);
    const same = batches.find((b) => b.releaseAt === releaseAt && b.attachmentAction === action);
    if (!same) {
      batches.push({ name: cls, releaseAt, attachmentAction: action, recipients: [address] });
      continue;
    }
    if (!same.name.split(",").includes(cls)) same.name += `,${cls}`;
    same.recipients.push(address);
  }
  return batches;
}

/** What the delivered copy's To/Cc become under forced Bcc: only non-external Cc stay visible. */
export function headerRewrite(decision: Decision): HeaderRewrite {
  if (!decision.forceBcc) return {};
  const keepCc = decision.recipients
    .filter((r) => r.field === "cc" && r.class !== "external")
    .map((r) => r.address);
  return { forceBcc: decision.forceBcc.to, keepCc };
}

/**
 * Who may approve: approvers named by the matching rules, the policy's approvers, the approvers of
 * the sender's groups and their manager; the sender only if self-approval is allowed.
 */
export function approversFor(
  policy: EffectivePolicy,
  decision: Decision,
  user: UserRecord | null,
  sender: string,
): string[] {
  if (!decision.approval) return [];
  const set = new Set<string>();
  const add = (a: string) => set.add(a.toLowerCase());
  decision.approval.approvers.forEach(add);
  policy.approval.approvers.forEach(add);
  for (const group of user?.groups ?? []) (policy.approval.groupApprovers[group] ?? []).forEach(add);
  if (policy.approval.useManager && user?.manager) add(user.manager);
  if (!policy.approval.allowSelfApproval) {
    for (const own of [sender, user?.email ?? "", ...(user?.aliases ?? [])]) set.delete(own.toLowerCase());
  }
  return [...set];
}

/**
 * The plan step of the pipeline. A message for approval whose policy names no approver goes to
 * the admins (other than the sender); `approvers` stays empty only when there are none.
 */
export async function planMessage(
  message: DecidedMessage,
  store: Pick<Store, "listUsers">,
): Promise<PlannedMessage> {
  const { policy, decision, request, actor } = message;
  let approvers = approversFor(policy, decision, request.user, request.mailFrom);
  if (decision.approval && !approvers.length) {
    approvers = (await store.listUsers())
      .filter((u) => u.role === "admin" && u.email !== actor)
      .map((u) => u.email);
  }
  return {
    ...message,
    groups: planBatches(policy, decision, message.receivedAt).map((g) => ({ ...g, id: newId() })),
    approvers,
    headerRewrite: headerRewrite(decision),
  };
}
