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
  private lineHead: Buffer[] = [];
  private lineHeadLength = 0;
  private atLineStart = true;

  constructor(private readonly options: InspectOptions) {}

  get multipartBoundaryFound(): boolean {
    return this.boundaryLine === null || this.boundaryFound;
  }

  push(chunk: Buffer): Buffer | null {
    if (this.problem) return null;
    const out = this.options.lineEndings === "normalize" ? this.normalize(chunk) : this.check(chunk);
    if (!out) return null;
    this.bytes += out.length;
    if (this.bytes > this.options.maxBytes) {
      this.problem = { code: "too_large", detail: `larger than ${this.options.maxBytes} bytes` };
      return null;
    }
    this.captureHeader(out);
    this.scanLines(out);
    return out;
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
      this.bytes += 1;
      this.captureHeader(tail);
    }
    if (!this.header && !this.problem) {
      // A message may consist of a header alone (RFC 5322 §3.5).
      this.header = Buffer.concat(this.headerParts);
      this.headerParts = [];
    }
    return tail;
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

  private captureHeader(chunk: Buffer): void {
    if (this.header) return;
    const seen = this.headerSeen;
    this.headerParts.push(chunk);
    this.headerSeen += chunk.length;
    // Look for CRLFCRLF across the boundary of the previous chunk.
    const window = Buffer.concat(this.headerParts);
    const from = Math.max(0, seen - 3);
    let end = window.indexOf(HEADER_END, from);
    if (end === -1 && window.subarray(0, 2).equals(Buffer.from("\r\n"))) end = -2; // empty header
    if (end !== -1) {
      const length = end === -2 ? 2 : end + 4;
      this.header = window.subarray(0, length);
      this.headerParts = [];
      const boundary = multipartBoundary(this.header);
      this.boundaryLine = boundary === null ? null : Buffer.from(`--${boundary}`, "latin1");
      return;
    }
    this.headerParts = [window];
    if (this.headerSeen > this.options.maxHeaderBytes) {
      this.problem = {
        code: "header_too_large",
        detail: `header block larger than ${this.options.maxHeaderBytes} bytes`,
      };
    }
  }

  /** Looks at the first bytes of every line for "--boundary". */
  private scanLines(chunk: Buffer): void {
    if (!this.boundaryLine || this.boundaryFound) return;
    const want = this.boundaryLine.length;
    let pos = 0;
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
