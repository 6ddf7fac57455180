// Parses and checks the header block of a message (RFC 5322 §2.2, §3.6).
import libmime from "libmime";
import addressparser from "nodemailer/lib/addressparser";
import { protectionOf } from "./protection.js";

export interface HeaderField {
  name: string;
  /** Unfolded raw value (encoded words not decoded). */
  value: string;
}

export interface HeaderSummary {
  messageId: string | null;
  subject: string;
  from: string[];
  to: string[];
  cc: string[];
  bcc: string[];
  hasDate: boolean;
  /** Signed or encrypted (S/MIME, PGP/MIME) by the top-level Content-Type, else null. */
  protection: { reason: string; opaque: boolean } | null;
}

export class HeaderError extends Error {}

const FIELD_NAME = /^[!-9;-~]+$/; // printable US-ASCII except colon (RFC 5322 §2.2)
const MAX_HEADER_LINE = 998;

/** Splits a header block into fields; throws HeaderError naming the first malformed line. */
export function parseHeaderBlock(block: Buffer): HeaderField[] {
  const text = block.toString("latin1").replace(/\r\n\r\n$|\r\n$/, "");
  if (!text) return [];
  const fields: HeaderField[] = [];
  const lines = text.split("\r\n");
  lines.forEach((line, index) => {
    const where = `header line ${index + 1}`;
    if (line.length > MAX_HEADER_LINE)
      throw new HeaderError(`${where} is longer than ${MAX_HEADER_LINE} characters`);
    if (line.startsWith(" ") || line.startsWith("\t")) {
      const last = fields[fields.length - 1];
      if (!last) throw new HeaderError(`${where} is a continuation line with no field before it`);
      last.value += line;
      return;
    }
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon) : "";
    if (!FIELD_NAME.test(name)) {
      throw new HeaderError(`${where} is not "Name: value" (${JSON.stringify(line.slice(0, 40))})`);
    }
    fields.push({ name, value: line.slice(colon + 1).trim() });
  });
  return fields;
}

export function fieldValue(fields: HeaderField[], name: string): string | undefined {
  const lower = name.toLowerCase();
  return fields.find((f) => f.name.toLowerCase() === lower)?.value;
}

function addresses(fields: HeaderField[], name: string): string[] {
  const lower = name.toLowerCase();
  const out: string[] = [];
  for (const f of fields) {
    if (f.name.toLowerCase() !== lower) continue;
    // Parse before decoding encoded words: a display name that decodes to "x@evil.example," must
    // stay a name (RFC 2047 §5 forbids encoded words in addresses), not become a hidden recipient.
    for (const a of addressparser(decodeCharset(f.value), { flatten: true })) {
      // An encoded word with raw "@" or "," is malformed, and its pieces are never an address.
      if (a.address && !/=\?|\?=/.test(a.address)) out.push(a.address);
    }
  }
  return out;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const iso2022jp = new TextDecoder("iso-2022-jp");

/**
 * Decodes the raw bytes of a header value (kept as latin1 so they survive) into text: Japanese
 * mailers send raw ISO-2022-JP (ESC $ B …), and RFC 6532 allows raw UTF-8. Encoded words stay.
 */
export function decodeCharset(raw: string): string {
  const bytes = Buffer.from(raw, "latin1");
  if (bytes.includes(0x1b)) return iso2022jp.decode(bytes);
  if (bytes.some((b) => b > 0x7f)) {
    try {
      return utf8.decode(bytes);
    } catch {
      // neither: keep the bytes as latin1 rather than refuse the message
    }
  }
  return raw;
}

/** Header text for people: raw charset and RFC 2047 encoded words decoded. */
export function decodeHeaderText(raw: string): string {
  return libmime.decodeWords(decodeCharset(raw));
}

/** Replaces control characters so a decoded value can never start a new header or line. */
export function oneLine(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
}

export function summarize(fields: HeaderField[]): HeaderSummary {
  const messageId = fieldValue(fields, "Message-ID");
  const subject = fieldValue(fields, "Subject");
  return {
    messageId: messageId ? (/<([^<>\s]+)>/.exec(messageId)?.[1] ?? null) : null,
    subject: subject ? oneLine(decodeHeaderText(subject)) : "",
    from: addresses(fields, "From"),
    to: addresses(fields, "To"),
    cc: addresses(fields, "Cc"),
    bcc: addresses(fields, "Bcc"),
    hasDate: fieldValue(fields, "Date") !== undefined,
    protection: protectionOfHeader(fieldValue(fields, "Content-Type")),
  };
}

function protectionOfHeader(contentType: string | undefined): HeaderSummary["protection"] {
  if (!contentType) return null;
  const parsed = libmime.parseHeaderValue(decodeCharset(contentType));
  const protocol = typeof parsed.params.protocol === "string" ? parsed.params.protocol : "";
  return protectionOf(parsed.value, protocol);
}

/** The boundary of a multipart top-level Content-Type, or null (not multipart, or unparsable). */
export function multipartBoundary(block: Buffer): string | null {
  let fields: HeaderField[];
  try {
    fields = parseHeaderBlock(block);
  } catch {
    return null;
  }
  const contentType = fieldValue(fields, "Content-Type");
  if (!contentType) return null;
  const parsed = libmime.parseHeaderValue(contentType);
  if (!/^multipart\//i.test(parsed.value)) return null;
  return typeof parsed.params.boundary === "string" ? parsed.params.boundary : "";
}
