// Recipient addresses in the one form they are stored, compared and shown in: the local part as it
// was sent, the domain as its Unicode form after IDNA processing (UTS #46: lower case, NFC, "。" as
// "."), so that taro@例え.jp, taro@例え.JP and taro@xn--r8jz45g.jp are one recipient. The relay gets
// the ASCII (A-label) form of the domain; see delivery/relay.ts.
import { addressProblem } from "@sendguard/shared";
import { domainToASCII, domainToUnicode } from "node:url";

/** RFC 1035 §2.3.4 limits, counted on the A-label form that goes over the wire. */
const MAX_LABEL_OCTETS = 63;
const MAX_DOMAIN_OCTETS = 253;

/** The domain's canonical form, or null when it is not a valid domain name. */
export function canonicalDomain(domain: string): string | null {
  const d = domain.trim().replace(/\.$/, "");
  // An address literal ([192.0.2.1], [IPv6:…]) is not a name: IDNA does not apply.
  if (d.startsWith("[") && d.endsWith("]")) return d.toLowerCase();
  const ascii = domainToASCII(d);
  if (!ascii || ascii.length > MAX_DOMAIN_OCTETS) return null;
  if (ascii.split(".").some((label) => !label || label.length > MAX_LABEL_OCTETS)) return null;
  return domainToUnicode(ascii);
}

/** local-part@domain with the domain in its canonical form; null when the domain is not valid. */
export function canonicalAddress(address: string): string | null {
  const at = address.lastIndexOf("@");
  if (at <= 0) return null;
  const domain = canonicalDomain(address.slice(at + 1));
  return domain === null ? null : `${address.slice(0, at)}@${domain}`;
}

/**
 * Which addresses are one mailbox, for removing duplicates: the canonical form with the local part
 * folded too. RFC 5321 §2.4 lets a server tell local parts apart by case but calls relying on it
 * harmful to interoperability; in practice Taro@ and taro@ are one person, who should get one copy.
 */
export function mailboxKey(address: string): string {
  return (canonicalAddress(address) ?? address).normalize("NFC").toLowerCase();
}

/** What is wrong with a recipient (RFC 5321 limits, shape, a domain that is no domain name), or null. */
export function recipientProblem(address: string): string | null {
  return (
    addressProblem(address) ??
    (canonicalAddress(address) === null ? "has a domain that is not a valid domain name" : null)
  );
}

/**
 * The canonical recipients, first spelling kept, one per mailbox. Call recipientProblem first:
 * an address without a valid domain is kept as it is.
 */
export function uniqueRecipients(addresses: Iterable<string>): string[] {
  const byKey = new Map<string, string>();
  for (const address of addresses) {
    const key = mailboxKey(address);
    if (!byKey.has(key)) byKey.set(key, canonicalAddress(address) ?? address);
  }
  return [...byKey.values()];
}
