// Incremental Content-Transfer-Encoding decoders fed chunk by chunk. The decoding itself is libbase64's
// and libqp's (the libraries mailsplit uses); this file only cuts the input where they can decode it
// whole, because their stream decoders either buffer the entire part (libqp) or would make the
// synchronous analysis walk asynchronous per chunk.
import { decode as decodeBase64 } from "libbase64";
import { decode as decodeQuotedPrintable } from "libqp";

export interface TransferDecoder {
  push(chunk: Buffer): Buffer | null;
  end(): Buffer | null;
}

/** Input kept before it is decoded in one call: decoding many small chunks costs more than one. */
const BATCH_BYTES = 64 * 1024;

/** Base64: whole quads (and padded segments) are decoded, the rest waits for the next chunk. */
class Base64Decoder implements TransferDecoder {
  private pending: string[] = [];
  private pendingLength = 0;

  push(chunk: Buffer): Buffer | null {
    const clean = chunk.toString("latin1").replace(/[^A-Za-z0-9+/=]/g, "");
    if (!clean) return null;
    this.pending.push(clean);
    this.pendingLength += clean.length;
    if (this.pendingLength < BATCH_BYTES) return null;
    const all = this.pending.join("");
    // a padding run ends a segment (some senders concatenate encoded pieces); quads count from there
    const afterPad = all.lastIndexOf("=") + 1;
    const whole = all.length - ((all.length - afterPad) % 4);
    const rest = all.slice(whole);
    this.pending = rest ? [rest] : [];
    this.pendingLength = rest.length;
    return decodeBase64(all.slice(0, whole));
  }

  end(): Buffer | null {
    if (!this.pendingLength) return null;
    const all = this.pending.join("");
    this.pending = [];
    this.pendingLength = 0;
    return decodeBase64(all);
  }
}

/**
 * Where quoted-printable input can be cut and decoded on its own: after the last line break, so that
 * soft breaks and the trailing-whitespace rule (RFC 2045 §6.7: whitespace at the end of a line is
 * dropped) see whole lines. A line longer than the batch (broken input) is cut before any trailing
 * whitespace or "=" so neither is misread at the cut.
 */
function quotedPrintableCut(input: Buffer): number {
  const lineEnd = input.lastIndexOf(0x0a);
  if (lineEnd >= 0) return lineEnd + 1;
  if (input.length < BATCH_BYTES) return 0;
  let cut = input.length;
  while (cut > 0 && [0x20, 0x09, 0x3d, 0x0d].includes(input[cut - 1] as number)) cut--;
  // an "=X" escape cut after its first hex digit
  if (cut >= 2 && input[cut - 2] === 0x3d) cut -= 2;
  // Nothing but whitespace and "=" in a line longer than the batch (hostile input): decode it anyway,
  // or the carry would grow with every chunk; at worst such a run loses its whitespace.
  return cut > 0 ? cut : input.length - 2;
}

class QuotedPrintableDecoder implements TransferDecoder {
  private carry: Buffer | null = null;

  push(chunk: Buffer): Buffer | null {
    const input = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    const cut = quotedPrintableCut(input);
    this.carry = cut < input.length ? Buffer.from(input.subarray(cut)) : null;
    return cut ? decodeQuotedPrintable(input.subarray(0, cut)) : null;
  }

  end(): Buffer | null {
    const rest = this.carry;
    this.carry = null;
    if (!rest) return null;
    const decoded = decodeQuotedPrintable(rest);
    return decoded.length ? decoded : null;
  }
}

class IdentityDecoder implements TransferDecoder {
  push(chunk: Buffer): Buffer {
    return chunk;
  }
  end(): null {
    return null;
  }
}

export function transferDecoder(encoding: string | false | undefined): TransferDecoder {
  switch ((encoding || "").toLowerCase()) {
    case "base64":
      return new Base64Decoder();
    case "quoted-printable":
      return new QuotedPrintableDecoder();
    default:
      return new IdentityDecoder();
  }
}
