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

/** Length in UTF-8 octets: RFC 6531 addresses may be non-ASCII, and the limits count octets. */
export function utf8Length(text: string): number {
  let n = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return n;
}

/**
 * RFC 5321 §4.5.3.1 limits plus a basic shape check; returns a reason or null when acceptable.
 * The path "<address>" may have 256 octets, so the address itself at most 254.
 */
export function addressProblem(address: string): string | null {
  if (utf8Length(address) > 254) return "longer than 254 octets";
  const at = address.lastIndexOf("@");
  if (at <= 0 || at === address.length - 1) return "needs the form local-part@domain";
  if (utf8Length(address.slice(0, at)) > 64) return "local part longer than 64 octets";
  if (utf8Length(address.slice(at + 1)) > 255) return "domain longer than 255 octets";
  if (/[\s<>\r\n\0]/.test(address)) return "contains spaces, angle brackets or control characters";
  return null;
}
