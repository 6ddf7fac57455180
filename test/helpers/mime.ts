// Hand-written MIME for end-to-end tests whose point is the bytes: what the gateway must leave as
// it came is compared with exactly what was sent, so nothing here re-encodes or folds.
import { base64Lines } from "../../server/test/fixtures/mime.js";

export interface Part {
  headers: string[];
  /** The body as it goes on the wire (already transfer-encoded). */
  body: Buffer | string;
}

const CRLF = "\r\n";

/** A multipart entity (a whole message when `headers` is a message header): parts between boundaries. */
export function multipart(headers: string[], parts: Part[], boundary: string): Buffer {
  const pieces: Buffer[] = [Buffer.from(headers.join(CRLF) + CRLF + CRLF)];
  for (const part of parts)
    pieces.push(
      Buffer.from(`--${boundary}${CRLF}${part.headers.join(CRLF)}${CRLF}${CRLF}`),
      asBuffer(part.body),
      Buffer.from(CRLF),
    );
  pieces.push(Buffer.from(`--${boundary}--${CRLF}`));
  return Buffer.concat(pieces);
}

/** A nested multipart as one part of its parent. */
export function nested(type: string, parts: Part[], boundary: string): Part {
  const whole = multipart([`Content-Type: ${type}; boundary="${boundary}"`], parts, boundary);
  const start = whole.indexOf(CRLF + CRLF) + 4;
  return {
    headers: [`Content-Type: ${type}; boundary="${boundary}"`],
    body: whole.subarray(start, whole.length - 2),
  };
}

/** An attachment in base64, its name in RFC 2231 UTF-8 (Japanese names as mailers write them). */
export function attachment(name: string, contentType: string, data: Buffer): Part {
  const encoded = encodeURIComponent(name);
  return {
    headers: [
      `Content-Type: ${contentType}`,
      "Content-Transfer-Encoding: base64",
      `Content-Disposition: attachment; filename*=UTF-8''${encoded}`,
    ],
    body: base64Lines(data),
  };
}

/** A message's header lines: From, To, Subject (ASCII), Message-ID, Date, MIME-Version. */
export function messageHeader(from: string, to: string[], messageId: string, subject = "test"): string[] {
  return [
    `From: ${from}`,
    `To: ${to.join(", ")}`,
    `Subject: ${subject}`,
    `Message-ID: <${messageId}>`,
    "Date: Fri, 04 Dec 2026 10:00:00 +0900",
    "MIME-Version: 1.0",
  ];
}

function asBuffer(body: Buffer | string): Buffer {
  return typeof body === "string" ? Buffer.from(body) : body;
}
