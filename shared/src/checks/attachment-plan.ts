// What the gateway will do with the attachments, per recipient group, for the confirm dialog:
// "社内: そのまま / 社外 (example.com): Web ダウンロードに変換 / 社外 (partner.jp): 暗号化 ZIP". Worked out
// from the client policy as the gateway's rules work it out (recipients.ts): the policy's action
// for recipients outside, then each attachment rule about the recipient, a later one winning. A
// rule with other conditions (content, size, time) is decided on the message: its line says "if".
import type { ClientPolicy, Language } from "../api/types.js";
import type { RecipientClass } from "../classify/address.js";
import { t } from "../i18n/index.js";
import type { AttachmentAction } from "../policy/effective.js";
import { namesRecipient } from "../rules/recipients.js";

/** Recipients in dialog order, grouped by class and domain (ConfirmModel.groups). */
export interface PlannedGroup {
  class: RecipientClass;
  domains: { domain: string; recipients: { address: string }[] }[];
}

export interface AttachmentPlanLine {
  class: RecipientClass;
  /** The domains this line is about; empty for colleagues (one line for all of them). */
  domains: string[];
  action: AttachmentAction;
  /** Rules whose other conditions decide at the gateway, with what they would do. */
  unless: { rule: string; action: AttachmentAction }[];
  /** A domain whose mail server has TLS keeps the files (attachments.unlessTls). */
  tlsExempt: boolean;
  /** "社外 (example.com): Web ダウンロードに変換", in the requested language. */
  text: string;
}

interface Outcome {
  action: AttachmentAction;
  unless: { rule: string; action: AttachmentAction }[];
}

function outcomeFor(policy: ClientPolicy, r: { address: string; domain: string; class: RecipientClass }) {
  const outcome: Outcome = {
    action: r.class === "internal" ? "pass" : (policy.attachmentAction ?? "pass"),
    unless: [],
  };
  for (const rule of policy.attachmentRules ?? []) {
    if (!namesRecipient(rule, r)) continue;
    // A rule that surely applies settles what earlier ones left open.
    if (!rule.conditional) Object.assign(outcome, { action: rule.action, unless: [] });
    else if (rule.action !== outcome.action) outcome.unless.push({ rule: rule.name, action: rule.action });
  }
  return outcome;
}

function lineText(line: Omit<AttachmentPlanLine, "text">, lang: Language): string {
  const who =
    t(lang, `confirm.ui.class.${line.class}`) + (line.domains.length ? ` (${line.domains.join(", ")})` : "");
  let what = t(lang, `confirm.plan.${line.action}`);
  if (line.tlsExempt) what += t(lang, "confirm.plan.unlessTls");
  for (const u of line.unless)
    what += t(lang, "confirm.plan.unlessRule", { rule: u.rule, action: t(lang, `confirm.plan.${u.action}`) });
  return `${who}: ${what}`;
}

/** One line per class and outcome, domains with the same outcome together, in dialog order. */
export function attachmentPlan(
  policy: ClientPolicy,
  groups: readonly PlannedGroup[],
  lang: Language,
): AttachmentPlanLine[] {
  const lines = new Map<string, Omit<AttachmentPlanLine, "text">>();
  for (const group of groups) {
    for (const { domain, recipients } of group.domains) {
      for (const { address } of recipients) {
        const outcome = outcomeFor(policy, { address, domain, class: group.class });
        const tlsExempt = !!policy.attachmentUnlessTls && outcome.action !== "pass";
        const key = JSON.stringify([group.class, outcome, tlsExempt]);
        const line = lines.get(key) ?? { class: group.class, domains: [], tlsExempt, ...outcome };
        lines.set(key, line);
        if (group.class !== "internal" && !line.domains.includes(domain)) line.domains.push(domain);
      }
    }
  }
  return [...lines.values()].map((line) => ({ ...line, text: lineText(line, lang) }));
}
