// The small text/plain part a removed attachment leaves in its place, so the structure (and a
// multipart/alternative's choices) stays as it was and a reader sees what was there.
import { encode as encodeBase64, wrap as wrapBase64 } from "libbase64";

/** The Content-* header lines of the placeholder (UTF-8 text, base64: safe on any relay). */
export const PLACEHOLDER_CONTENT_HEADERS = [
  "Content-Type: text/plain; charset=UTF-8",
  "Content-Transfer-Encoding: base64",
  "Content-Disposition: inline",
];

/** The placeholder's body: `text` as base64 lines, with the message's line ending. */
export function placeholderBody(text: string, eol: string): Buffer {
  return Buffer.from(
    wrapBase64(encodeBase64(Buffer.from(text, "utf8")), 76).replace(/\r?\n/g, eol),
    "latin1",
  );
}

/** A whole placeholder part: headers, blank line, body (the line ending after it is the boundary's). */
export function placeholderPart(text: string, eol: string): Buffer {
  return Buffer.concat([
    Buffer.from(PLACEHOLDER_CONTENT_HEADERS.join(eol) + eol + eol, "latin1"),
    placeholderBody(text, eol),
  ]);
}
