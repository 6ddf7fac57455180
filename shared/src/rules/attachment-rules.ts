// The rules that choose attachment actions, as the add-ins' confirm dialog needs them (GET /policy):
// for one sender, their recipient conditions, and whether anything else decides.
import type { ClientAttachmentRule } from "../api/types.js";
import type { EffectivePolicy } from "../policy/effective.js";
import type { Conditions } from "../policy/schema.js";
import { rulesInForce } from "./evaluate.js";
import { globMatches } from "./patterns.js";

const ABOUT_RECIPIENTS = new Set(["recipientClass", "recipientDomain", "recipientAddress"]);
const ABOUT_SENDER = new Set(["sender", "senderGroup"]);

function senderMatches(when: Conditions, sender: string, groups: readonly string[]): boolean {
  if (when.sender && !when.sender.some((p) => globMatches(p, sender.toLowerCase()))) return false;
  return !when.senderGroup || when.senderGroup.some((g) => groups.includes(g));
}

/** Enabled rules with an attachment action that can apply to this sender, in the order applied. */
export function clientAttachmentRules(
  policy: EffectivePolicy,
  sender: string,
  senderGroups: readonly string[],
): ClientAttachmentRule[] {
  return rulesInForce(policy).flatMap((rule): ClientAttachmentRule[] => {
    const action = rule.then.attachments?.action;
    if (!rule.enabled || !action || !senderMatches(rule.when, sender, senderGroups)) return [];
    const { recipientClass, recipientDomain, recipientAddress } = rule.when;
    const others = Object.entries(rule.when).filter(
      ([key, value]) => value !== undefined && !ABOUT_RECIPIENTS.has(key) && !ABOUT_SENDER.has(key),
    );
    return [
      {
        name: rule.name,
        ...(recipientClass ? { recipientClass } : {}),
        ...(recipientDomain ? { recipientDomain } : {}),
        ...(recipientAddress ? { recipientAddress } : {}),
        action,
        conditional: others.length > 0,
      },
    ];
  });
}
