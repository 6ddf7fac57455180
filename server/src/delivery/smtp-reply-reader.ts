// Turns the bytes a remote SMTP server sends into complete replies (RFC 5321 §4.2), whatever the
// packet boundaries. What it holds is bounded: a server that sends megabytes without a line end,
// or a reply of endless continuation lines, is stopped with an error instead of growing memory.

export interface SmtpReply {
  code: number;
  /** The text of each line after the code and separator, in order (latin1, so bytes survive). */
  lines: string[];
}

export interface ReplyReaderLimits {
  /** Longest line accepted, CRLF excluded. Default 2,048 bytes (RFC 5321 allows 512). */
  maxLineBytes?: number;
  /** Most lines in one multi-line reply. Default 128 (an EHLO reply has a few dozen at most). */
  maxLines?: number;
}

/** The server broke the reply syntax or a limit; the message says how, quoting a little of it. */
export class ReplySyntaxError extends Error {}

const LINE = /^([2-5]\d\d)(?:([ -])(.*))?$/s;
const QUOTE_MAX = 80;

/** A short, printable excerpt of what the server sent, for error messages and logs. */
export function quote(text: string): string {
  // eslint-disable-next-line no-control-regex -- control bytes are exactly what must not reach a log
  const printable = text.replace(/[\x00-\x1f\x7f-\xff]/g, "?");
  return JSON.stringify(printable.length > QUOTE_MAX ? `${printable.slice(0, QUOTE_MAX)}…` : printable);
}

export class ReplyReader {
  private readonly maxLineBytes: number;
  private readonly maxLines: number;
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private current: SmtpReply | null = null;

  constructor(limits: ReplyReaderLimits = {}) {
    this.maxLineBytes = limits.maxLineBytes ?? 2048;
    this.maxLines = limits.maxLines ?? 128;
  }

  /** True when every byte received so far belonged to a complete reply. */
  get idle(): boolean {
    return this.partialBytes === 0 && this.current === null;
  }

  /** The replies completed by this chunk, oldest first; throws ReplySyntaxError on bad input. */
  push(chunk: Buffer): SmtpReply[] {
    const replies: SmtpReply[] = [];
    let start = 0;
    for (let end = chunk.indexOf(0x0a); end !== -1; end = chunk.indexOf(0x0a, start)) {
      this.hold(chunk.subarray(start, end));
      const reply = this.line(this.takeLine());
      if (reply) replies.push(reply);
      start = end + 1;
    }
    this.hold(chunk.subarray(start));
    return replies;
  }

  private hold(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.partialBytes += bytes.length;
    // One byte of slack for the CR of a CRLF split across packets.
    if (this.partialBytes > this.maxLineBytes + 1) {
      throw new ReplySyntaxError(`reply line longer than ${this.maxLineBytes} bytes`);
    }
    this.partial.push(bytes);
  }

  private takeLine(): string {
    let text = Buffer.concat(this.partial, this.partialBytes).toString("latin1");
    this.partial = [];
    this.partialBytes = 0;
    if (text.endsWith("\r")) text = text.slice(0, -1);
    if (text.length > this.maxLineBytes) {
      throw new ReplySyntaxError(`reply line longer than ${this.maxLineBytes} bytes`);
    }
    return text;
  }

  private line(text: string): SmtpReply | null {
    const match = LINE.exec(text);
    if (!match) throw new ReplySyntaxError(`not an SMTP reply line: ${quote(text)}`);
    const code = Number(match[1]);
    const more = match[2] === "-";
    if (this.current && this.current.code !== code) {
      throw new ReplySyntaxError(`reply code changed from ${this.current.code} to ${code} within one reply`);
    }
    const reply = this.current ?? { code, lines: [] };
    reply.lines.push(match[3] ?? "");
    if (reply.lines.length > this.maxLines) {
      throw new ReplySyntaxError(`reply longer than ${this.maxLines} lines`);
    }
    this.current = more ? reply : null;
    return more ? null : reply;
  }
}
