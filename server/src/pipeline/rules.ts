// The rules step: builds the facts the policy's rules look at (parsing the body and attachments
// only when a rule needs them) and evaluates the sender's effective policy.
import {
  type Language,
  countPii,
  evaluate,
  needsContent,
  type Decision,
  type EffectivePolicy,
  type RecipientField,
  type RuleAttachment,
} from "@sendguard/shared";
import { mailboxKey } from "../address.js";
import type { Config } from "../config/schema.js";
import type { PolicyService } from "../policy/service.js";
import { spoolName, type Spool } from "../store/spool.js";
import type { AttachmentFacts, MessageFacts } from "./analyze.js";
import type { Analyzer } from "./analyzer.js";
import { analysisGaps } from "./extract/gaps.js";
import type { HeaderSummary } from "./headers.js";
import type { DecidedMessage, ParsedMessage } from "./message.js";
import { protectedDecision } from "./protection.js";

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

export interface RulesDeps {
  config: Config;
  policies: Pick<PolicyService, "effectiveFor">;
  /** Content analysis, on this thread or in the analysis threads. */
  analyzer: Pick<Analyzer, "analyze">;
  spool: Pick<Spool, "path">;
}

/** The rules step of the pipeline: the sender's effective policy applied to the parsed message. */
export async function decideMessage(message: ParsedMessage, deps: RulesDeps): Promise<DecidedMessage> {
  const { config, policies, analyzer, spool } = deps;
  const { id, request, body } = message;
  const user = request.user;
  const language: Language = user?.language ?? config.organization.language;
  const { policy } = await policies.effectiveFor(user, request.mailFrom);
  const analyze = () =>
    analyzer.analyze(
      id,
      body.inline ? { bytes: body.inline } : { file: spool.path(spoolName(id)) },
      body.size,
    );
  const rules = await applyRules({
    policy,
    sender: request.mailFrom,
    senderGroups: user?.groups ?? [],
    headers: message.headers,
    envelope: message.recipients,
    size: body.size,
    now: new Date(message.receivedAt),
    timeZone: config.organization.timezone,
    analyze,
  });
  let { decision, facts } = rules;
  const protection = message.headers.protection;
  if (protection && decision.recipients.some((r) => r.attachmentAction !== "pass")) {
    // whether there is anything to convert decides what a signature allows
    facts ??= await analyze();
    decision = protectedDecision(decision, policy, protection, facts.attachments);
  }
  return { ...message, policy, language, actor: user?.email ?? request.mailFrom, facts, decision };
}
