// Address parsing and internal / semi-internal / external classification.

export type RecipientClass = "internal" | "semi_internal" | "external";

export interface DomainLists {
  internal: readonly string[];
  semiInternal: readonly string[];
}

/** Domain part of an address, lower-cased; "" when there is none. */
export function domainOf(address: string): string {
  const at = address.lastIndexOf("@");
  return at < 0
    ? ""
    : address
        .slice(at + 1)
        .trim()
        .toLowerCase()
        .replace(/\.$/, "");
}

/**
 * A pattern is a domain ("example.co.jp"), a wildcard for every subdomain ("*.example.co.jp",
 * which does not match the bare domain), or an exclusion ("!partner.example.co.jp") that wins
 * over any inclusion.
 */
export function domainMatches(domain: string, patterns: readonly string[]): boolean {
  const d = domain.toLowerCase();
  let included = false;
  for (const raw of patterns) {
    const p = raw.trim().toLowerCase();
    const negate = p.startsWith("!");
    const body = negate ? p.slice(1) : p;
    const hit = body.startsWith("*.") ? d.endsWith(body.slice(1)) : d === body;
    if (hit && negate) return false;
    if (hit) included = true;
  }
  return included;
}

export function classifyAddress(address: string, lists: DomainLists): RecipientClass {
  const domain = domainOf(address);
  if (domainMatches(domain, lists.internal)) return "internal";
  if (domainMatches(domain, lists.semiInternal)) return "semi_internal";
  return "external";
}

/** RFC 5321 §4.5.3.1 limits plus a basic shape check; returns a reason or null when acceptable. */
export function addressProblem(address: string): string | null {
  if (address.length > 256) return "longer than 256 octets";
  const at = address.lastIndexOf("@");
  if (at <= 0 || at === address.length - 1) return "needs the form local-part@domain";
  if (at > 64) return "local part longer than 64 octets";
  if (address.length - at - 1 > 255) return "domain longer than 255 octets";
  if (/[\s<>\r\n\0]/.test(address)) return "contains spaces, angle brackets or control characters";
  return null;
}
