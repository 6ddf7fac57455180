// Who a message says it is from (the From and Sender headers, RFC 5322 §3.6.2) against who handed
// it in. The relay DKIM-signs with the From domain's key, so a From the submitter may not use
// would pass DMARC at the recipient as if that person had sent it. SMTP, HTTP raw and HTTP JSON
// submissions all pass through here (Intake.parse), so there is one rule and one place for it.
import { domainToASCII } from "node:url";
import { domainMatches } from "@sendguard/shared";
import libmime from "libmime";
import addressparser from "nodemailer/lib/addressparser";
import { IntakeError } from "./errors.js";
import { decodeCharset, oneLine, type HeaderField } from "./headers.js";

/** Who handed the message in. */
export type Submitter =
  /** Signed in (SMTP AUTH, API token, session): may use their own address and their aliases. */
  | { kind: "user"; email: string; aliases: readonly string[] }
  /**
   * A trusted network (an MTA relaying for many people, e.g. an Exchange Online connector): may
   * use addresses of an internal domain, the one of its envelope sender.
   */
  | { kind: "trusted_network"; envelopeSender: string; internalDomains: readonly string[] };

export type IdentityField = "From" | "Sender";

export type IdentityProblem =
  | { kind: "not_own"; field: IdentityField; address: string; user: string; allowed: string[] }
  | { kind: "not_internal"; field: IdentityField; address: string }
  | { kind: "other_domain"; field: IdentityField; address: string; envelopeDomain: string }
  | { kind: "several_fields"; field: IdentityField; count: number }
  | { kind: "several_addresses"; field: IdentityField; count: number }
  | { kind: "no_address"; field: IdentityField }
  | { kind: "malformed"; field: IdentityField; why: string };

export interface SenderIdentity {
  /** The From address as written (one mailbox, checked). */
  from: string;
  /** The Sender address, when the message has one. */
  sender: string | null;
}

/** Domain in one form for comparing: lower case, no final dot, IDN labels as punycode (A-labels). */
export function canonicalDomain(domain: string): string {
  const d = domain.trim().toLowerCase().replace(/\.$/, "");
  return domainToASCII(d) || d;
}

/**
 * An address in one form for comparing mailboxes: the local part case-folded (as every mailbox of
 * ours is case-insensitive) and NFC-normalised (RFC 6532), the domain as canonicalDomain.
 */
export function canonicalMailbox(address: string): string {
  const at = address.lastIndexOf("@");
  const local = (at < 0 ? address : address.slice(0, at)).normalize("NFC").toLowerCase();
  return at < 0 ? local : `${local}@${canonicalDomain(address.slice(at + 1))}`;
}

function domainPart(address: string): string {
  const at = address.lastIndexOf("@");
  return at < 0 ? "" : canonicalDomain(address.slice(at + 1));
}

/**
 * The value with quoted strings and comments blanked out, so what is left is address syntax only;
 * null when a quote or comment is not closed.
 */
function withoutQuotesAndComments(value: string): string | null {
  let out = "";
  let quoted = false;
  let depth = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === "\\" && (quoted || depth > 0)) {
      i++;
      continue;
    }
    if (quoted) {
      if (c === '"') quoted = false;
    } else if (depth > 0) {
      if (c === "(") depth++;
      else if (c === ")") depth--;
    } else if (c === '"') {
      quoted = true;
      out += " ";
    } else if (c === "(") {
      depth = 1;
      out += " ";
    } else {
      out += c;
    }
  }
  return quoted || depth > 0 ? null : out;
}

const ADDRESS_IN_TEXT = /[^\s<>"(),;:@]+@[^\s<>"(),;:@]+/g;

interface Mailbox {
  address: string;
  /** Addresses written in the display name: mail programs show the name, so they count too. */
  inName: string[];
}

/**
 * Reads a From or Sender value as exactly one mailbox ("Name <address>" or "address").
 * Mail programs parse malformed values differently (one shows the name, another the second
 * address), so anything but one plain mailbox is refused rather than interpreted.
 */
function oneMailbox(field: IdentityField, raw: string): Mailbox | IdentityProblem {
  // Parse before decoding encoded words (RFC 2047 §5: never in an address), as headers.ts does.
  const value = decodeCharset(raw);
  const entries = addressparser(value);
  if (entries.some((e) => "group" in e && e.group !== undefined)) {
    return { kind: "malformed", field, why: "group syntax (name: …;) is not allowed here" };
  }
  if (entries.length > 1) return { kind: "several_addresses", field, count: entries.length };
  const entry = entries[0];
  const address = entry && "address" in entry ? (entry.address ?? "") : "";
  const bare = withoutQuotesAndComments(value);
  if (bare === null) return { kind: "malformed", field, why: "an unclosed quote or comment" };
  if (!address || !bare.includes("@")) return { kind: "no_address", field };
  if (bare.split("@").length !== 2 || /=\?|\?=/.test(address)) {
    return { kind: "malformed", field, why: 'expected one mailbox: "Name <address>" or "address"' };
  }
  const open = bare.split("<").length - 1;
  const close = bare.split(">").length - 1;
  if (open > 1 || open !== close || (open === 1 && !/<[^<>]*>\s*$/.test(bare))) {
    return { kind: "malformed", field, why: "angle brackets must enclose the one address, at the end" };
  }
  const name = libmime.decodeWords(entry?.name ?? "");
  return { address, inName: name.match(ADDRESS_IN_TEXT) ?? [] };
}

/** Why `address` may not stand in `field` for this submitter, or null when it may. */
function refusal(field: IdentityField, address: string, submitter: Submitter): IdentityProblem | null {
  if (submitter.kind === "user") {
    const own = [submitter.email, ...submitter.aliases];
    if (own.some((a) => canonicalMailbox(a) === canonicalMailbox(address))) return null;
    return { kind: "not_own", field, address, user: submitter.email, allowed: own };
  }
  const domain = domainPart(address);
  const internal = submitter.internalDomains.map((p) => (p.startsWith("!") ? "!" : "") + canonicalPattern(p));
  if (!domainMatches(domain, internal)) return { kind: "not_internal", field, address };
  const envelopeDomain = domainPart(submitter.envelopeSender);
  if (domain !== envelopeDomain) return { kind: "other_domain", field, address, envelopeDomain };
  return null;
}

/** A domain pattern ("*.example", "!guest.example") with its domain in canonical form. */
function canonicalPattern(pattern: string): string {
  const body = pattern.replace(/^!/, "");
  return body.startsWith("*.") ? `*.${canonicalDomain(body.slice(2))}` : canonicalDomain(body);
}

/** Checks From and Sender against the submitter: the identity, or the first problem found. */
export function checkIdentity(
  fields: HeaderField[],
  submitter: Submitter,
): { identity: SenderIdentity } | { problem: IdentityProblem } {
  const found: Partial<Record<IdentityField, string>> = {};
  for (const field of ["From", "Sender"] as const) {
    const values = fields.filter((f) => f.name.toLowerCase() === field.toLowerCase());
    if (values.length > 1) return { problem: { kind: "several_fields", field, count: values.length } };
    const value = values[0]?.value;
    if (value === undefined) {
      if (field === "From") return { problem: { kind: "no_address", field } };
      continue;
    }
    const mailbox = oneMailbox(field, value);
    if ("kind" in mailbox) return { problem: mailbox };
    for (const address of [mailbox.address, ...mailbox.inName]) {
      const problem = refusal(field, address, submitter);
      if (problem) return { problem };
    }
    found[field] = mailbox.address;
  }
  return { identity: { from: found.From ?? "", sender: found.Sender ?? null } };
}

/** An address for a reply line: one line, bounded, so a header value cannot shape the reply. */
function shown(address: string): string {
  const line = oneLine(address);
  return line.length > 100 ? `${line.slice(0, 100)}…` : line;
}

/** What was wrong, in English (SMTP replies and logs; the HTTP API localises by code). */
export function describeProblem(problem: IdentityProblem): string {
  const field = problem.field;
  switch (problem.kind) {
    case "not_own":
      return `${field} <${shown(problem.address)}> is not an address of ${problem.user}; send from your own address or an alias (${problem.allowed.join(", ")})`;
    case "not_internal":
      return `${field} <${shown(problem.address)}> is not in an internal domain; only internal senders may relay`;
    case "other_domain":
      return `${field} <${shown(problem.address)}> is not in the domain of the envelope sender (${problem.envelopeDomain}); MAIL FROM and ${field} must be in the same domain`;
    case "several_fields":
      return `the message has ${problem.count} ${field} headers; send it with one`;
    case "several_addresses":
      return `${field} holds ${problem.count} addresses; send from one address, your own`;
    case "no_address":
      return `the message has no ${field} header with an address`;
    case "malformed":
      return `the ${field} header is not one mailbox: ${problem.why}`;
  }
}

/** Intake refused the message because of who it says it is from. */
export class SenderRefusal extends IntakeError {
  constructor(readonly problem: IdentityProblem) {
    super(
      problem.kind === "several_fields" || problem.kind === "several_addresses"
        ? "multiple_senders"
        : "sender_not_allowed",
      describeProblem(problem),
    );
  }
}

/** The identity, or throws: a missing or unreadable From/Sender is a bad message, a foreign one a refusal. */
export function requireIdentity(fields: HeaderField[], submitter: Submitter): SenderIdentity {
  const result = checkIdentity(fields, submitter);
  if ("identity" in result) return result.identity;
  const { problem } = result;
  if (problem.kind === "no_address" || problem.kind === "malformed") {
    throw new IntakeError("bad_message", describeProblem(problem));
  }
  throw new SenderRefusal(problem);
}
