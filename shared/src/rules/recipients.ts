// Which recipients a rule's recipient conditions name. Its own module, without the schema library,
// so the add-ins' confirm dialog names the same recipients the gateway's rules do.
import { domainMatches, type RecipientClass } from "../classify/address.js";
import { globMatches } from "./patterns.js";

export interface RecipientConditions {
  recipientClass?: readonly RecipientClass[];
  recipientDomain?: readonly string[];
  recipientAddress?: readonly string[];
}

/**
 * Each recipient condition present must hold for the recipient itself; a rule without recipient
 * conditions is about every recipient.
 */
export function namesRecipient(
  when: RecipientConditions,
  r: { address: string; domain: string; class: RecipientClass },
): boolean {
  return (
    (!when.recipientClass || when.recipientClass.includes(r.class)) &&
    (!when.recipientDomain || domainMatches(r.domain, when.recipientDomain)) &&
    (!when.recipientAddress || when.recipientAddress.some((p) => globMatches(p, r.address)))
  );
}
