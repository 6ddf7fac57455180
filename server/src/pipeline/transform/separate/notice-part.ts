// The notice put at the top of a text/plain body and right after <body…> of a text/html body. The
// body is transfer-decoded, the notice inserted in the part's own charset, and the result encoded
// with the same Content-Transfer-Encoding, so the rest of the body is the same text in the same
// bytes. Where the charset cannot carry the notice: text/plain is converted to UTF-8 (the
// Content-Type says so); HTML gets the notice with numeric character references instead, which
// any ASCII-based charset carries — converting HTML would leave its <meta charset> contradicting
// the header, and readers disagree about which one wins.
import type { MimeNode } from "@zone-eu/mailsplit";
import { chain, decoderCodec, transferEncoder, type BodyCodec } from "./codec.js";
import { asciiHtml, encodeIn, isSevenBit, toUtf8 } from "./charset.js";
import { htmlInserter, type CidReferences } from "./html.js";

const SEVEN_BIT = new Set(["", "7bit"]);

function prefix(bytes: Buffer): BodyCodec {
  let pending: Buffer | null = bytes;
  const take = (chunk: Buffer): Buffer => {
    if (!pending) return chunk;
    const out = Buffer.concat([pending, chunk]);
    pending = null;
    return out;
  };
  return { push: take, end: () => take(Buffer.alloc(0)) };
}

function isIso2022(node: MimeNode): boolean {
  return /^iso-?2022-?jp/i.test(node.charset || "");
}

/**
 * The encoding the part is written in once the notice (`inserted`) is in it: a 7bit part that now
 * holds 8-bit bytes becomes quoted-printable, announced in its header.
 */
function encodingAfter(node: MimeNode, inserted: Buffer): string {
  const encoding = node.encoding || "";
  if (!SEVEN_BIT.has(encoding) || isSevenBit(inserted)) return encoding;
  if (node.headers) node.headers.update("Content-Transfer-Encoding", "quoted-printable");
  return "quoted-printable";
}

/** Line breaks of `text` as the message's own. */
function withEol(text: string, eol: string): string {
  return text.replace(/\r?\n/g, eol);
}

/**
 * The codec that puts `text` at the top of text/plain part `node` (whose headers it may change:
 * charset, transfer encoding), or null when the part's charset can be neither written nor read.
 */
export function textNotice(node: MimeNode, text: string, eol: string): BodyCodec | null {
  let block = withEol(text, eol).replace(new RegExp(`(${eol})*$`), "") + eol + eol;
  // format=flowed (RFC 3676 §4.4): a reader drops one leading space, so such lines are stuffed
  if (node.flowed) block = block.replace(/^( |>|From )/gm, " $1");
  const own = encodeIn(block, node.charset);
  if (own) {
    const encoding = encodingAfter(node, own);
    return chain(decoderCodec(node.encoding), prefix(own), transferEncoder(encoding, eol));
  }
  const toUnicode = toUtf8(node.charset);
  if (!toUnicode) return null;
  const utf8 = Buffer.from(block, "utf8");
  const encoding = encodingAfter(node, utf8);
  node.setCharset("utf-8");
  return chain(decoderCodec(node.encoding), toUnicode, prefix(utf8), transferEncoder(encoding, eol));
}

/**
 * The codec that puts `html` after <body…> of text/html part `node` and collects its cid:
 * references on the way, or null when the charset is unknown here.
 */
export function htmlNotice(
  node: MimeNode,
  html: string,
  references: CidReferences,
  options: { eol: string; searchBytes: number },
): BodyCodec | null {
  const text = withEol(html, options.eol);
  const bytes = encodeIn(text, node.charset) ?? encodeIn(asciiHtml(text), node.charset);
  if (!bytes) return null;
  const iso2022 = isIso2022(node);
  const decoding = node.encoding;
  const encoding = encodingAfter(node, bytes);
  return chain(
    decoderCodec(decoding),
    references.scanner(iso2022),
    htmlInserter(bytes, iso2022, options.searchBytes),
    transferEncoder(encoding, options.eol),
  );
}

/** A codec that passes an HTML part's bytes unchanged and collects its cid: references. */
export function htmlScan(
  node: MimeNode,
  references: CidReferences,
): { push(chunk: Buffer): void; end(): void } {
  const scan = chain(decoderCodec(node.encoding), references.scanner(isIso2022(node)));
  return {
    push: (chunk) => void scan.push(chunk),
    end: () => void scan.end(),
  };
}
