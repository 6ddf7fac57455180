// Writing the notice in a body part's own charset, or knowing that it cannot be. ISO-2022-JP (the
// usual charset of Japanese mail) is encoding-japanese's, which iconv-lite does not have; the
// rest is iconv-lite's. A charset "can represent" the notice when encoding and decoding it again
// gives the same text, so a character the charset lacks is never silently replaced by "?".
import Encoding from "encoding-japanese";
import iconv from "iconv-lite";
import type { BodyCodec } from "./codec.js";

const ISO_2022_JP = new Set(["iso-2022-jp", "csiso2022jp", "iso2022jp"]);
const ASCII = new Set(["", "us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us"]);

function normal(charset: string | false | undefined): string {
  return (charset || "").trim().toLowerCase();
}

/** Whether the bytes are all 7-bit (ISO-2022-JP and ASCII are; Shift_JIS and UTF-8 usually not). */
export function isSevenBit(bytes: Buffer): boolean {
  return bytes.every((b) => b < 0x80);
}

/**
 * `text` in `charset` (a Content-Type charset; none means US-ASCII, RFC 2045 §5.2), or null when
 * the charset cannot represent it or is unknown.
 */
export function encodeIn(text: string, charset: string | false | undefined): Buffer | null {
  const name = normal(charset);
  if (ASCII.has(name)) return /^[\x20-\x7e\r\n\t]*$/.test(text) ? Buffer.from(text, "latin1") : null;
  if (ISO_2022_JP.has(name)) {
    const codes = Encoding.convert(Encoding.stringToCode(text), { to: "JIS", from: "UNICODE" });
    const back = Encoding.codeToString(Encoding.convert(codes, { to: "UNICODE", from: "JIS" }));
    return back === text ? Buffer.from(codes) : null;
  }
  if (!iconv.encodingExists(name)) return null;
  const bytes = iconv.encode(text, name);
  return iconv.decode(bytes, name) === text ? bytes : null;
}

/** A run of ISO-2022-JP longer than this without a line break is decoded without waiting for one. */
const JIS_MAX_CARRY = 64 * 1024;

/**
 * ISO-2022-JP to UTF-8, chunk by chunk. It is stateful (ESC sequences switch the character set),
 * so input is cut after a line break (where mail returns to ASCII, RFC 1468) or, in a line too
 * long, on a two-byte boundary; the sequence in effect at the cut is put before the next piece.
 */
/** Length of the ESC sequence at `at`: ESC $ ( D is four bytes, the others three. */
function escapeLength(bytes: Buffer, at: number): number {
  return bytes[at + 1] === 0x24 && bytes[at + 2] === 0x28 ? 4 : 3;
}

function iso2022JpToUtf8(): BodyCodec {
  let carry = Buffer.alloc(0);
  let mode = Buffer.alloc(0);
  const decode = (piece: Buffer): Buffer => {
    if (!piece.length) return piece;
    const input = mode.length ? Buffer.concat([mode, piece]) : piece;
    const escape = input.lastIndexOf(0x1b);
    if (escape >= 0)
      mode = Buffer.from(input.subarray(escape, escape + (input[escape + 2] === 0x28 ? 4 : 3)));
    const text = Encoding.codeToString(Encoding.convert(input, { to: "UNICODE", from: "JIS" }));
    return Buffer.from(text, "utf8");
  };
  return {
    push(chunk) {
      const input = carry.length ? Buffer.concat([carry, chunk]) : chunk;
      let cut = input.lastIndexOf(0x0a) + 1;
      if (!cut && input.length > JIS_MAX_CARRY) {
        // two-byte pairs count from the last ESC sequence, or from the start (mode carries over)
        const escape = input.lastIndexOf(0x1b);
        const pairsFrom = escape < 0 ? 0 : escape + escapeLength(input, escape);
        cut = input.length - ((input.length - pairsFrom) % 2);
      }
      carry = Buffer.from(input.subarray(cut));
      return decode(input.subarray(0, cut));
    },
    end() {
      const rest = carry;
      carry = Buffer.alloc(0);
      return decode(rest);
    },
  };
}

/** A codec turning body bytes in `charset` into UTF-8, or null when this charset cannot be read here. */
export function toUtf8(charset: string | false | undefined): BodyCodec | null {
  const name = normal(charset) || "us-ascii";
  if (ISO_2022_JP.has(name)) return iso2022JpToUtf8();
  if (!iconv.encodingExists(name)) return null;
  const decoder = iconv.getDecoder(name);
  return {
    push: (chunk) => Buffer.from(decoder.write(chunk), "utf8"),
    end: () => Buffer.from(decoder.end() ?? "", "utf8"),
  };
}

/** Every character outside US-ASCII as an HTML numeric reference: fits any ASCII-based charset. */
export function asciiHtml(html: string): string {
  return Array.from(html, (ch) => {
    const code = ch.codePointAt(0) as number;
    return code < 0x80 ? ch : `&#${code};`;
  }).join("");
}
