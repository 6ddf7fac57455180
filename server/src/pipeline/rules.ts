// The rules step: builds the facts the policy's rules look at (parsing the body and attachments
// only when a rule needs them) and evaluates the sender's effective policy.
import {
  countPii,
  evaluate,
  needsContent,
  type Decision,
  type EffectivePolicy,
  type RecipientField,
  type RuleAttachment,
} from "@sendguard/shared";
import { mailboxKey } from "../address.js";
import type { AttachmentFacts, MessageFacts } from "./analyze.js";
import { analysisGaps } from "./extract/gaps.js";
import type { HeaderSummary } from "./headers.js";

export interface RulesInput {
  policy: EffectivePolicy;
  sender: string;
  senderGroups: string[];
  headers: HeaderSummary;
  envelope: string[];
  size: number;
  now: Date;
  timeZone: string;
  /** Analyses the stored message's content (analyzer.ts): called only when a rule needs it. */
  analyze: () => Promise<MessageFacts>;
}

/** Envelope recipients in To or Cc keep that field; the rest were Bcc (SMTP carries no Bcc header). */
export function recipientFields(
  headers: HeaderSummary,
  envelope: string[],
): { address: string; field: RecipientField }[] {
  // A header may spell the domain as an A-label (taro@xn--r8jz45g.jp) where the envelope has 例え.jp.
  const to = new Set(headers.to.map(mailboxKey));
  const cc = new Set(headers.cc.map(mailboxKey));
  return envelope.map((address) => {
    const key = mailboxKey(address);
    return { address, field: to.has(key) ? "to" : cc.has(key) ? "cc" : "bcc" };
  });
}

/** Archives count as one attachment whose text and protection include their entries'. */
function flatten(a: AttachmentFacts): RuleAttachment {
  const inner = a.children.map(flatten);
  return {
    filename: a.filename,
    extension: a.extension,
    size: a.size,
    encrypted: a.encrypted || inner.some((c) => c.encrypted),
    text: [a.text, ...inner.map((c) => c.text)].filter(Boolean).join("\n"),
  };
}

export async function applyRules(
  input: RulesInput,
): Promise<{ decision: Decision; facts: MessageFacts | null }> {
  const facts = needsContent(input.policy) ? await input.analyze() : null;
  const attachments = (facts?.attachments ?? []).map(flatten);
  const bodyText = facts?.bodyText ?? "";
  const decision = evaluate(input.policy, {
    sender: input.sender,
    senderGroups: input.senderGroups,
    recipients: recipientFields(input.headers, input.envelope),
    subject: input.headers.subject,
    bodyText,
    attachments,
    size: input.size,
    now: input.now,
    timeZone: input.timeZone,
    pii: () => countPii([bodyText, ...attachments.map((a) => a.text)].join("\n")),
    analysisGaps: facts ? analysisGaps(facts) : [],
  });
  return { decision, facts };
}
