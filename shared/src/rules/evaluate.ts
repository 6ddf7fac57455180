// Gateway rule evaluation: one message, one effective policy → one decision. Pure and synchronous.
import { classifyAddress, domainMatches, domainOf, type RecipientClass } from "../classify/address.js";
import type { AttachmentAction, EffectivePolicy } from "../policy/effective.js";
import {
  WEEKDAYS,
  type AnalysisGapReason,
  type Conditions,
  type Localized,
  type Rule,
} from "../policy/schema.js";
import { localClock } from "../time/format.js";
import { containsNormalized, globMatches, normalizeText } from "./patterns.js";
import { namesRecipient } from "./recipients.js";
import { regexMatches } from "./regex.js";
import type { PiiCounts, PiiKind } from "./pii.js";

export type RecipientField = "to" | "cc" | "bcc";

export interface RuleAttachment {
  filename: string;
  extension: string;
  size: number;
  encrypted: boolean;
  text: string;
}

/** A part of the content that the rules did not see whole, and why. */
export interface AnalysisGap {
  /** "message", or an attachment's name with the archives holding it ("a.zip/b.pdf"). */
  part: string;
  reason: AnalysisGapReason;
}

export interface RuleInput {
  sender: string;
  senderGroups: readonly string[];
  recipients: readonly { address: string; field: RecipientField }[];
  subject: string;
  bodyText: string;
  attachments: readonly RuleAttachment[];
  size: number;
  now: Date;
  timeZone: string;
  /** Counts of personal data in body and attachments; called only when a rule asks. */
  pii: () => PiiCounts;
  /** What the content analysis could not see; empty when it saw everything or did not run. */
  analysisGaps: readonly AnalysisGap[];
}

export interface ClassifiedRecipient {
  address: string;
  field: RecipientField;
  class: RecipientClass;
  /** Lower-case domain, kept so that rules do not split the address again. */
  domain: string;
  /** What happens to the attachments in this recipient's copy. */
  attachmentAction: AttachmentAction;
}

export interface Decision {
  reject: { rule: string; reason: Localized } | null;
  approval: { rules: string[]; approvers: string[] } | null;
  hold: { internal: number; semiInternal: number; external: number };
  delay: { semiInternal: number; external: number };
  forceBcc: { to: "sender" | "undisclosed"; because: string } | null;
  addBcc: string[];
  /** Names of the rules whose conditions matched, in order. */
  matched: string[];
  recipients: ClassifiedRecipient[];
}

/** The preset's rules that no rule of the same name replaces, then the documents' rules. */
export function rulesInForce(policy: EffectivePolicy): Rule[] {
  if (!policy.presetRules.length) return policy.rules;
  const replaced = new Set(policy.rules.map((r) => r.name));
  return [...policy.presetRules.filter((r) => !replaced.has(r.name)), ...policy.rules];
}

/**
 * Whether any rule looks at content (body, attachments, PII): only then must the message be parsed.
 * analysisIncomplete is not such a condition: when no rule looks at content, nothing of it can be
 * hidden from the rules.
 */
export function needsContent(policy: EffectivePolicy): boolean {
  return rulesInForce(policy).some((r) => {
    const w = r.enabled ? r.when : {};
    return Boolean(
      w.bodyContains ||
      w.bodyMatches ||
      w.contentContains ||
      w.contentMatches ||
      w.piiAtLeast ||
      w.attachmentCountAtLeast ||
      w.attachmentName ||
      w.attachmentExtension ||
      w.attachmentSizeAtLeast ||
      w.attachmentEncrypted !== undefined,
    );
  });
}

/**
 * The policy's attachment action is for copies that leave the organisation; colleagues get the
 * attachments as they are unless a rule says otherwise for them.
 */
export function defaultAttachmentAction(policy: EffectivePolicy, cls: RecipientClass): AttachmentAction {
  return cls === "internal" ? "pass" : policy.attachments.action;
}

export function classifyRecipients(policy: EffectivePolicy, input: RuleInput): ClassifiedRecipient[] {
  const lists = policy.domains;
  const byDomain = new Map<string, RecipientClass>();
  return input.recipients.map((r) => {
    const domain = domainOf(r.address);
    let cls = byDomain.get(domain);
    if (!cls) {
      cls = classifyAddress(r.address, lists);
      byDomain.set(domain, cls);
    }
    const attachmentAction = defaultAttachmentAction(policy, cls);
    return { address: r.address, field: r.field, class: cls, domain, attachmentAction };
  });
}

/** The recipients a rule's recipient conditions name (recipients.ts). */
function recipientsNamedBy(when: Conditions, recipients: ClassifiedRecipient[]): ClassifiedRecipient[] {
  return recipients.filter((r) => namesRecipient(when, r));
}

function inWindow(window: NonNullable<Conditions["timeWindow"]>, now: Date, timeZone: string): boolean {
  const { weekday, minutes } = localClock(now, timeZone);
  const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));
  const from = toMinutes(window.from);
  const to = toMinutes(window.to);
  const dayListed = (d: number) =>
    !window.days || window.days.includes(WEEKDAYS[(d + 7) % 7] as (typeof WEEKDAYS)[number]);
  if (from <= to) return minutes >= from && minutes < to && dayListed(weekday);
  // Spans midnight: the evening part belongs to today, the morning part to the day before.
  if (minutes >= from) return dayListed(weekday);
  if (minutes < to) return dayListed(weekday - 1);
  return false;
}

/** Everything a rule may look at, each derived once per message however many rules ask. */
class Facts {
  private contentText: string | null = null;
  private piiCounts: PiiCounts | null = null;
  private readonly normalized = new Map<"subject" | "body" | "content", string>();
  private readonly domainHits = new Map<string, boolean>();

  constructor(
    readonly input: RuleInput,
    readonly recipients: ClassifiedRecipient[],
  ) {}

  get content(): string {
    this.contentText ??= [this.input.bodyText, ...this.input.attachments.map((a) => a.text)].join("\n");
    return this.contentText;
  }

  get pii(): PiiCounts {
    this.piiCounts ??= this.input.pii();
    return this.piiCounts;
  }

  /** NFKC + lower case text for keyword conditions. */
  text(which: "subject" | "body" | "content"): string {
    let text = this.normalized.get(which);
    if (text === undefined) {
      const raw =
        which === "subject" ? this.input.subject : which === "body" ? this.input.bodyText : this.content;
      text = normalizeText(raw);
      this.normalized.set(which, text);
    }
    return text;
  }

  /** Whether any recipient's domain matches the patterns (distinct domains are checked once). */
  anyDomain(patterns: readonly string[]): boolean {
    const key = patterns.join("\n");
    let hit = this.domainHits.get(key);
    if (hit === undefined) {
      const domains = new Set(this.recipients.map((r) => r.domain));
      hit = [...domains].some((d) => domainMatches(d, patterns));
      this.domainHits.set(key, hit);
    }
    return hit;
  }

  get externalToCc(): number {
    return this.recipients.filter((r) => r.class === "external" && r.field !== "bcc").length;
  }
}

/** True when every condition present holds (an empty `when` always holds). */
function conditionsHold(when: Conditions, facts: Facts): boolean {
  const { input, recipients } = facts;
  const sender = input.sender.toLowerCase();
  if (when.sender && !when.sender.some((p) => globMatches(p, sender))) return false;
  if (when.senderGroup && !when.senderGroup.some((g) => input.senderGroups.includes(g))) return false;
  if (when.recipientClass && !recipients.some((r) => when.recipientClass?.includes(r.class))) return false;
  if (when.recipientDomain && !facts.anyDomain(when.recipientDomain)) return false;
  if (
    when.recipientAddress &&
    !recipients.some((r) => when.recipientAddress?.some((p) => globMatches(p, r.address)))
  ) {
    return false;
  }
  if (when.externalToCcAtLeast !== undefined && facts.externalToCc < when.externalToCcAtLeast) return false;
  if (when.toCcOtherThanSender !== undefined) {
    const other = recipients.some((r) => r.field !== "bcc" && r.address.toLowerCase() !== sender);
    if (other !== when.toCcOtherThanSender) return false;
  }
  if (when.timeWindow && !inWindow(when.timeWindow, input.now, input.timeZone)) return false;
  if (when.subjectContains && !containsNormalized(facts.text("subject"), when.subjectContains)) return false;
  if (when.subjectMatches && !regexMatches(when.subjectMatches, input.subject)) return false;
  if (when.bodyContains && !containsNormalized(facts.text("body"), when.bodyContains)) return false;
  if (when.bodyMatches && !regexMatches(when.bodyMatches, input.bodyText)) return false;
  if (when.contentContains && !containsNormalized(facts.text("content"), when.contentContains)) return false;
  if (when.contentMatches && !regexMatches(when.contentMatches, facts.content)) return false;
  const attachments = input.attachments;
  if (when.attachmentCountAtLeast !== undefined && attachments.length < when.attachmentCountAtLeast)
    return false;
  if (
    when.attachmentName &&
    !attachments.some((a) => when.attachmentName?.some((p) => globMatches(p, a.filename)))
  ) {
    return false;
  }
  if (when.attachmentExtension && !attachments.some((a) => when.attachmentExtension?.includes(a.extension)))
    return false;
  if (
    when.attachmentSizeAtLeast !== undefined &&
    !attachments.some((a) => a.size >= (when.attachmentSizeAtLeast ?? 0))
  ) {
    return false;
  }
  if (when.attachmentEncrypted === true && !attachments.some((a) => a.encrypted)) return false;
  if (when.attachmentEncrypted === false && (!attachments.length || attachments.some((a) => a.encrypted)))
    return false;
  if (when.messageSizeAtLeast !== undefined && input.size < when.messageSizeAtLeast) return false;
  if (when.analysisIncomplete !== undefined) {
    const reasons = when.analysisIncomplete === true ? null : when.analysisIncomplete;
    if (!input.analysisGaps.some((gap) => !reasons || reasons.includes(gap.reason))) return false;
  }
  if (when.piiAtLeast) {
    const limits = Object.entries(when.piiAtLeast) as [PiiKind, number | undefined][];
    if (!limits.some(([kind, n]) => n !== undefined && facts.pii[kind] >= n)) return false;
  }
  return true;
}

export function evaluate(policy: EffectivePolicy, input: RuleInput): Decision {
  const recipients = classifyRecipients(policy, input);
  const facts = new Facts(input, recipients);
  const decision: Decision = {
    reject: null,
    approval: null,
    hold: { ...policy.hold },
    delay: { ...policy.delay },
    forceBcc: null,
    addBcc: [],
    matched: [],
    recipients,
  };
  if (policy.forcedBcc.threshold > 0 && facts.externalToCc >= policy.forcedBcc.threshold) {
    decision.forceBcc = {
      to: policy.forcedBcc.to,
      because: `forcedBcc.threshold ${policy.forcedBcc.threshold}`,
    };
  }
  for (const rule of rulesInForce(policy)) {
    if (!rule.enabled || !conditionsHold(rule.when, facts)) continue;
    decision.matched.push(rule.name);
    const then = rule.then;
    if (then.reject) {
      decision.reject = { rule: rule.name, reason: then.reject.reason };
      return decision;
    }
    if (then.approve) {
      const approval = (decision.approval ??= { rules: [], approvers: [] });
      approval.rules.push(rule.name);
      for (const a of then.approve.approvers ?? [])
        if (!approval.approvers.includes(a)) approval.approvers.push(a);
    }
    if (then.hold) {
      const m = then.hold.minutes;
      decision.hold = {
        internal: Math.max(decision.hold.internal, m),
        semiInternal: Math.max(decision.hold.semiInternal, m),
        external: Math.max(decision.hold.external, m),
      };
    }
    if (then.delayExternal)
      decision.delay.external = Math.max(decision.delay.external, then.delayExternal.minutes);
    if (then.forceBcc) decision.forceBcc = { to: then.forceBcc.to, because: `rule ${rule.name}` };
    if (then.addBcc)
      for (const a of then.addBcc.addresses) if (!decision.addBcc.includes(a)) decision.addBcc.push(a);
    if (then.attachments) {
      const action = then.attachments.action;
      for (const r of recipientsNamedBy(rule.when, recipients)) r.attachmentAction = action;
    }
  }
  return decision;
}
