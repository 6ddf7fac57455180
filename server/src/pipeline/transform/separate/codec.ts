// Synchronous transfer codecs fed chunk by chunk, so a body can be decoded, changed and encoded
// again in step with the splitter without a chain of streams in between. Decoding is
// extract/transfer.ts's (libbase64 / libqp cut at safe places); encoding below cuts the input the
// same way for libbase64's and libqp's one-shot encoders, whose stream classes are async (and
// libqp's decoder keeps the whole part).
import { encode as encodeBase64, wrap as wrapBase64 } from "libbase64";
import { encode as encodeQuotedPrintable, wrap as wrapQuotedPrintable } from "libqp";
import { transferDecoder, type TransferDecoder } from "../../extract/transfer.js";

export type { TransferDecoder };
export { transferDecoder };

/** A body filter: bytes in, bytes out, in order; end() gives what was held back. */
export interface BodyCodec {
  push(chunk: Buffer): Buffer;
  end(): Buffer;
}

const LINE = 76;
/** 57 input bytes are exactly one 76-character base64 line. */
const BASE64_LINE_BYTES = (LINE / 4) * 3;
/** A quoted-printable line longer than this (broken input) is encoded without waiting for its end. */
const QP_MAX_CARRY = 64 * 1024;

class Base64Encoder implements BodyCodec {
  private carry = Buffer.alloc(0);
  private started = false;

  constructor(private readonly eol: string) {}

  push(chunk: Buffer): Buffer {
    const input = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    const whole = input.length - (input.length % BASE64_LINE_BYTES);
    this.carry = Buffer.from(input.subarray(whole));
    return this.lines(input.subarray(0, whole));
  }

  end(): Buffer {
    const rest = this.lines(this.carry);
    this.carry = Buffer.alloc(0);
    return rest;
  }

  private lines(bytes: Buffer): Buffer {
    if (!bytes.length) return Buffer.alloc(0);
    const text = wrapBase64(encodeBase64(bytes), LINE).replace(/\r?\n/g, this.eol);
    const lead = this.started ? this.eol : "";
    this.started = true;
    return Buffer.from(lead + text, "latin1");
  }
}

/** Whole lines are encoded at once: the trailing-whitespace rule and soft breaks see a line whole. */
class QuotedPrintableEncoder implements BodyCodec {
  private carry = Buffer.alloc(0);

  constructor(private readonly eol: string) {}

  push(chunk: Buffer): Buffer {
    const input = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    let cut = input.lastIndexOf(0x0a) + 1;
    if (!cut && input.length > QP_MAX_CARRY) {
      // a line without end: cut before trailing whitespace or CR so neither is misread at the cut
      cut = input.length;
      while (cut > 1 && [0x20, 0x09, 0x0d].includes(input[cut - 1] as number)) cut--;
    }
    this.carry = Buffer.from(input.subarray(cut));
    return this.encode(input.subarray(0, cut));
  }

  end(): Buffer {
    const rest = this.encode(this.carry);
    this.carry = Buffer.alloc(0);
    return rest;
  }

  private encode(bytes: Buffer): Buffer {
    if (!bytes.length) return Buffer.alloc(0);
    // libqp leaves a bare CR as it is; on the wire it would be a line-break smuggling candidate
    const text = wrapQuotedPrintable(encodeQuotedPrintable(bytes), LINE)
      .replace(/\r(?!\n)/g, "=0D")
      .replace(/\r?\n/g, this.eol);
    return Buffer.from(text, "latin1");
  }
}

class Identity implements BodyCodec {
  push(chunk: Buffer): Buffer {
    return chunk;
  }
  end(): Buffer {
    return Buffer.alloc(0);
  }
}

/** The encoder for a Content-Transfer-Encoding; 7bit, 8bit, binary and unknown ones copy. */
export function transferEncoder(encoding: string | false | undefined, eol: string): BodyCodec {
  switch ((encoding || "").toLowerCase()) {
    case "base64":
      return new Base64Encoder(eol);
    case "quoted-printable":
      return new QuotedPrintableEncoder(eol);
    default:
      return new Identity();
  }
}

/** transferDecoder as a BodyCodec (its null means "nothing yet"). */
export function decoderCodec(encoding: string | false | undefined): BodyCodec {
  const decoder: TransferDecoder = transferDecoder(encoding);
  return {
    push: (chunk) => decoder.push(chunk) ?? Buffer.alloc(0),
    end: () => decoder.end() ?? Buffer.alloc(0),
  };
}

/** Runs codecs one after the other. */
export function chain(...codecs: BodyCodec[]): BodyCodec {
  return {
    push(chunk) {
      return codecs.reduce((bytes, codec) => codec.push(bytes), chunk);
    },
    end() {
      let bytes = Buffer.alloc(0);
      for (const codec of codecs) bytes = Buffer.concat([codec.push(bytes), codec.end()]);
      return bytes;
    },
  };
}
