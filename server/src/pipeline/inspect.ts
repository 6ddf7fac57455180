// Streams a message through once, before it is stored: refuses (SMTP) or repairs (HTTP) bare CR and
// bare LF, enforces the size limit, captures the header block, and checks that a multipart body
// contains its boundary. Nothing is held in memory but the header block.
import type { ChunkFilter } from "../store/spool.js";
import { multipartBoundary } from "./headers.js";

export type LineEndings = "reject" | "normalize";

export interface InspectOptions {
  maxBytes: number;
  maxHeaderBytes: number;
  /** SMTP refuses bare CR/LF (smuggling); HTTP uploads of .eml files with LF endings are repaired. */
  lineEndings: LineEndings;
}

export type InspectProblem =
  | { code: "bare_line_ending"; detail: string }
  | { code: "too_large"; detail: string }
  | { code: "header_too_large"; detail: string };

const CR = 0x0d;
const LF = 0x0a;
const CR_BYTE = Buffer.from([CR]);
const LF_BYTE = Buffer.from([LF]);
const HEADER_END = Buffer.from("\r\n\r\n");

export class MessageInspector implements ChunkFilter {
  problem: InspectProblem | null = null;
  /** The header block including its terminating empty line, once complete. */
  header: Buffer | null = null;
  private headerParts: Buffer[] = [];
  private headerSeen = 0;
  private bytes = 0;
  private pendingCR = false;
  private lastByte = LF;
  private boundaryLine: Buffer | null = null;
  private boundaryFound = false;
  private boundaryMissing = false;
  private lineHead: Buffer[] = [];
  private lineHeadLength = 0;
  private atLineStart = true;

  constructor(private readonly options: InspectOptions) {}

  /** Why the multipart structure is broken, or null when it is not multipart or looks sound. */
  get multipartProblem(): string | null {
    if (this.boundaryMissing) return "multipart Content-Type without a boundary parameter";
    if (this.boundaryLine && !this.boundaryFound)
      return "multipart message whose boundary line never appears in the body";
    return null;
  }

  push(chunk: Buffer): Buffer | null {
    if (this.problem || !chunk.length) return null;
    const out = this.options.lineEndings === "normalize" ? this.normalize(chunk) : this.check(chunk);
    if (!out || !this.count(out.length)) return null;
    const bodyStart = this.captureHeader(out);
    if (bodyStart < out.length) this.scanLines(out, bodyStart);
    return out;
  }

  private count(length: number): boolean {
    this.bytes += length;
    if (this.bytes <= this.options.maxBytes) return true;
    this.problem = { code: "too_large", detail: `larger than ${this.options.maxBytes} bytes` };
    return false;
  }

  end(): Buffer | null {
    if (this.problem) return null;
    let tail: Buffer | null = null;
    if (this.pendingCR) {
      if (this.options.lineEndings === "reject") {
        this.problem = { code: "bare_line_ending", detail: "bare CR at the end of the data" };
        return null;
      }
      tail = LF_BYTE;
      this.pendingCR = false;
      if (!this.count(tail.length)) return null;
      this.captureHeader(tail);
    }
    if (!this.header && !this.problem) {
      // A message may consist of a header alone (RFC 5322 §3.5).
      this.completeHeader(Buffer.concat(this.headerParts));
    }
    return this.problem ? null : tail;
  }

  private check(chunk: Buffer): Buffer | null {
    let i = 0;
    if (this.pendingCR) {
      if (chunk[0] !== LF) return this.fail("bare CR (a CR not followed by LF)");
      this.pendingCR = false;
    }
    while ((i = chunk.indexOf(LF, i)) !== -1) {
      const before = i === 0 ? this.lastByte : chunk[i - 1];
      if (before !== CR) return this.fail("bare LF (a line ending without CR)");
      i++;
    }
    i = 0;
    while ((i = chunk.indexOf(CR, i)) !== -1) {
      if (i === chunk.length - 1) this.pendingCR = true;
      else if (chunk[i + 1] !== LF) return this.fail("bare CR (a CR not followed by LF)");
      i++;
    }
    this.lastByte = chunk[chunk.length - 1] ?? this.lastByte;
    return chunk;
  }

  private fail(detail: string): null {
    this.problem = {
      code: "bare_line_ending",
      detail: `${detail}; every line must end with CRLF`,
    };
    return null;
  }

  /** Rewrites bare CR and bare LF to CRLF. */
  private normalize(chunk: Buffer): Buffer {
    const parts: Buffer[] = [];
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (this.pendingCR && b !== LF) {
        parts.push(chunk.subarray(start, i), LF_BYTE);
        start = i;
      }
      if (b === LF && !this.pendingCR && (i > 0 ? chunk[i - 1] : this.lastByte) !== CR) {
        parts.push(chunk.subarray(start, i), CR_BYTE);
        start = i;
      }
      // A CR at the end of a chunk is written now; the next byte decides whether an LF is added.
      this.pendingCR = b === CR;
    }
    this.lastByte = chunk[chunk.length - 1] ?? this.lastByte;
    if (!parts.length) return chunk;
    parts.push(chunk.subarray(start));
    return Buffer.concat(parts);
  }

  /**
   * Collects the header block; returns where the body starts in `chunk` (0 once the header is
   * complete, chunk.length while it is not).
   */
  private captureHeader(chunk: Buffer): number {
    if (this.header) return 0;
    const seen = this.headerSeen;
    this.headerParts.push(chunk);
    this.headerSeen += chunk.length;
    const window = Buffer.concat(this.headerParts);
    this.headerParts = [window];
    let length = -1;
    if (window[0] === CR && window.length >= 2) {
      // A message that starts with CRLF has an empty header: decided the same for any chunking.
      if (window[1] === LF) length = 2;
    } else {
      const end = window.indexOf(HEADER_END, Math.max(0, seen - 3));
      if (end !== -1) length = end + HEADER_END.length;
    }
    if (length === -1) {
      if (this.headerSeen > this.options.maxHeaderBytes) this.headerTooLarge();
      return chunk.length;
    }
    if (!this.completeHeader(window.subarray(0, length))) return chunk.length;
    return length - seen;
  }

  private completeHeader(header: Buffer): boolean {
    this.headerParts = [];
    if (header.length > this.options.maxHeaderBytes) {
      this.headerTooLarge();
      return false;
    }
    this.header = header;
    const boundary = multipartBoundary(header);
    this.boundaryMissing = boundary === "";
    this.boundaryLine = boundary ? Buffer.from(`--${boundary}`, "latin1") : null;
    this.resetLineHead(true);
    return true;
  }

  private headerTooLarge(): void {
    this.problem = {
      code: "header_too_large",
      detail: `header block larger than ${this.options.maxHeaderBytes} bytes`,
    };
  }

  /** Looks at the first bytes of every line for "--boundary". */
  private scanLines(chunk: Buffer, from: number): void {
    if (!this.boundaryLine || this.boundaryFound) return;
    const want = this.boundaryLine.length;
    let pos = from;
    while (pos < chunk.length) {
      const lf = chunk.indexOf(LF, pos);
      if (this.atLineStart) {
        const lineEnd = lf === -1 ? chunk.length : lf;
        const take = chunk.subarray(pos, Math.min(lineEnd, pos + want - this.lineHeadLength));
        this.lineHead.push(take);
        this.lineHeadLength += take.length;
        if (this.lineHeadLength >= want) {
          if (Buffer.concat(this.lineHead).equals(this.boundaryLine)) {
            this.boundaryFound = true;
            return;
          }
          this.resetLineHead(false);
        } else if (lf === -1) {
          return; // the line's head continues in the next chunk
        }
      }
      if (lf === -1) return;
      pos = lf + 1;
      this.resetLineHead(true);
    }
  }

  private resetLineHead(atStart: boolean): void {
    this.lineHead = [];
    this.lineHeadLength = 0;
    this.atLineStart = atStart;
  }
}
