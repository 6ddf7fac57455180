// The plan step: turns a decision into delivery batches (recipients released together) with their
// release times, the To/Cc rewrite of forced Bcc, and the approvers a message must wait for.
import { classifyAddress, type Decision, type EffectivePolicy, type RecipientClass } from "@sendguard/shared";
import { mailboxKey, uniqueRecipients } from "../address.js";
import type { HeaderRewrite, UserRecord } from "../store/types.js";

export interface PlannedBatch {
  /** The recipient classes in the batch, e.g. "internal" or "internal,external". */
  name: string;
  releaseAt: number;
  recipients: string[];
}

const ORDER: RecipientClass[] = ["internal", "semi_internal", "external"];

/** Batches of recipients by class: each class is held (and delayed) for its own time. */
export function planBatches(policy: EffectivePolicy, decision: Decision, now: number): PlannedBatch[] {
  const byClass = new Map<RecipientClass, string[]>();
  const planned = new Set<string>();
  const add = (address: string, cls: RecipientClass) => {
    const key = mailboxKey(address);
    if (planned.has(key)) return;
    planned.add(key);
    const list = byClass.get(cls) ?? [];
    list.push(address);
    byClass.set(cls, list);
  };
  for (const r of decision.recipients) add(r.address, r.class);
  // Policy Bcc addresses join in the form every recipient is stored in (address.ts).
  for (const address of uniqueRecipients(decision.addBcc)) {
    add(address, classifyAddress(address, policy.domains));
  }
  const minutes: Record<RecipientClass, number> = {
    internal: decision.hold.internal,
    semi_internal: decision.hold.semiInternal + decision.delay.semiInternal,
    external: decision.hold.external + decision.delay.external,
  };
  // Classes released at the same moment travel together: one SMTP transaction, not one per class.
  const batches: PlannedBatch[] = [];
  for (const cls of ORDER.filter((c) => byClass.has(c))) {
    const releaseAt = now + Math.round(minutes[cls] * 60_000);
    const same = batches.find((g) => g.releaseAt === releaseAt);
    if (same) {
      same.name += `,${cls}`;
      same.recipients.push(...(byClass.get(cls) ?? []));
    } else {
      batches.push({ name: cls, releaseAt, recipients: [...(byClass.get(cls) ?? [])] });
    }
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
