// Incremental Content-Transfer-Encoding decoders (base64, quoted-printable) fed line by line.

export interface TransferDecoder {
  push(chunk: Buffer): Buffer | null;
  end(): Buffer | null;
}

const BASE64_BATCH = 64 * 1024;

/** Base64: ignores every character outside the alphabet, decodes in batches of whole quads. */
class Base64Decoder implements TransferDecoder {
  private pending: string[] = [];
  private pendingLength = 0;

  push(chunk: Buffer): Buffer | null {
    const clean = chunk.toString("latin1").replace(/[^A-Za-z0-9+/]/g, "");
    if (!clean) return null;
    this.pending.push(clean);
    this.pendingLength += clean.length;
    if (this.pendingLength < BASE64_BATCH) return null;
    const all = this.pending.join("");
    const whole = all.length - (all.length % 4);
    const rest = all.slice(whole);
    this.pending = rest ? [rest] : [];
    this.pendingLength = rest.length;
    return Buffer.from(all.slice(0, whole), "base64");
  }

  end(): Buffer | null {
    if (!this.pendingLength) return null;
    const all = this.pending.join("");
    this.pending = [];
    this.pendingLength = 0;
    return Buffer.from(all, "base64");
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Quoted-printable (RFC 2045 §6.7): =XX escapes and soft line breaks, even across chunks. */
class QuotedPrintableDecoder implements TransferDecoder {
  private carry: Buffer | null = null;

  push(chunk: Buffer): Buffer | null {
    const input = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = null;
    const out = Buffer.allocUnsafe(input.length);
    let n = 0;
    let i = 0;
    while (i < input.length) {
      const c = input[i] as number;
      if (c !== 0x3d) {
        out[n++] = c;
        i++;
        continue;
      }
      // "=" needs up to two more bytes to be understood; keep it for the next chunk
      if (i + 2 >= input.length && !(i + 1 < input.length && input[i + 1] === 0x0a)) {
        this.carry = Buffer.from(input.subarray(i));
        break;
      }
      const a = input[i + 1] as number;
      const b = input[i + 2] as number;
      if (a === 0x0d && b === 0x0a)
        i += 3; // soft line break
      else if (a === 0x0a)
        i += 2; // soft line break with a bare LF
      else {
        const hi = hexValue(a);
        const lo = hexValue(b);
        if (hi >= 0 && lo >= 0) {
          out[n++] = hi * 16 + lo;
          i += 3;
        } else {
          out[n++] = c; // not an escape: keep the "=" as it is
          i++;
        }
      }
    }
    return n ? out.subarray(0, n) : null;
  }

  end(): Buffer | null {
    const rest = this.carry;
    this.carry = null;
    // a lone "=" or "=X" at the very end: a soft break before the end, or garbage kept as is
    if (!rest || rest.length === 1) return null;
    return rest[1] === 0x0d || rest[1] === 0x0a ? null : rest;
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
