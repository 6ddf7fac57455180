// State shared by one analysis: the limits, the deadline, the budgets every extractor draws from
// (kept text, inflated bytes, archive entries), and the bounded byte collector used for every part.
import type { AnalyzeLimits, AttachmentFacts, MessageFacts } from "../analyze.js";

/** Thrown at the next check once the deadline has passed or the analysis was abandoned. */
export class AnalysisTimeout extends Error {
  constructor() {
    super("timeout");
    this.name = "AnalysisTimeout";
  }
}

/** Thrown inside an extractor to stop reading more input once the text budget is spent. */
export class TextFull extends Error {
  constructor() {
    super("text limit reached");
    this.name = "TextFull";
  }
}

/** Thrown while inflating once the message's expanded-bytes budget is spent. */
export class ExpandedLimit extends Error {
  constructor() {
    super("expanded bytes over limit");
    this.name = "ExpandedLimit";
  }
}

export const PROBLEM_TIMEOUT = "timeout";
export const PROBLEM_ZIP_BOMB = "zip bomb: expanded bytes over limit";

/**
 * Text kept for one item (the body or one attachment). Every add draws from the message's budget;
 * once it is spent the builder is marked cut and keeps nothing more.
 */
export class TextBuilder {
  private parts: string[] = [];
  cut = false;

  constructor(private readonly ctx: AnalysisContext) {}

  /** Adds what the budget allows; false once the budget is spent (the caller may stop reading). */
  add(text: string): boolean {
    if (!text) return !this.cut;
    if (this.cut) return false;
    const kept = this.ctx.takeText(text.length);
    if (kept > 0) this.parts.push(kept < text.length ? text.slice(0, kept) : text);
    if (kept < text.length) {
      this.cut = true;
      this.ctx.reportTextLimit();
      return false;
    }
    return true;
  }

  /** Takes text that was drawn from the budget already (an attached message's body). */
  adopt(text: string): void {
    if (text) this.parts.push(text);
  }

  /** The text kept, without runs of more than one empty line or trailing white space. */
  toString(): string {
    if (this.parts.length > 1) this.parts = [this.parts.join("")];
    const text = this.parts[0] ?? "";
    return /\n{3}|\s$/.test(text) ? text.replace(/\n{3,}/g, "\n\n").trimEnd() : text;
  }
}

export class AnalysisContext {
  readonly limits: AnalyzeLimits;
  readonly controller = new AbortController();
  private readonly deadline: number;
  private textLeft: number;
  private expandedLeft: number;
  private entriesLeft: number;
  /** The message-level problems (text limit, timeout) are reported once. */
  textLimitReported = false;
  /** Attachments being analysed right now, with their text so far (for a timeout snapshot). */
  readonly inProgress = new Map<AttachmentFacts, TextBuilder>();
  /** Set by the message walker: analyses an attached message (message/rfc822) found at `depth`. */
  nestedMessage: ((data: Buffer, depth: number) => Promise<MessageFacts>) | null = null;

  /**
   * @param problems the message's problem list, where what concerns the whole analysis is noted
   * once (text limit, zip bomb).
   */
  constructor(
    limits: AnalyzeLimits,
    readonly problems: string[],
  ) {
    this.limits = limits;
    this.deadline = performance.now() + limits.timeoutMs;
    this.textLeft = limits.maxTextChars;
    this.expandedLeft = limits.maxExpandedBytes;
    this.entriesLeft = limits.maxArchiveEntries;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get timedOut(): boolean {
    return this.controller.signal.aborted || performance.now() > this.deadline;
  }

  /** Throws AnalysisTimeout once the deadline has passed; call it in every loop. */
  check(): void {
    if (this.timedOut) {
      if (!this.controller.signal.aborted) this.controller.abort();
      throw new AnalysisTimeout();
    }
  }

  abort(): void {
    this.controller.abort();
  }

  reportTextLimit(): void {
    if (this.textLimitReported) return;
    this.textLimitReported = true;
    addProblem(this.problems, `text limit reached: kept ${this.limits.maxTextChars} characters`);
  }

  /** Characters of `wanted` that may still be kept. */
  takeText(wanted: number): number {
    const kept = Math.min(wanted, this.textLeft);
    this.textLeft -= kept;
    return kept;
  }

  get textRemaining(): number {
    return this.textLeft;
  }

  /** Counts inflated bytes; throws ExpandedLimit once the total passes maxExpandedBytes. */
  expand(bytes: number): void {
    this.expandedLeft -= bytes;
    if (this.expandedLeft < 0) throw new ExpandedLimit();
  }

  get expandedSpent(): boolean {
    return this.expandedLeft < 0;
  }

  /** Takes one archive entry from the message's allowance; false when none is left. */
  takeEntry(): boolean {
    if (this.entriesLeft <= 0) return false;
    this.entriesLeft--;
    return true;
  }

  builder(facts?: AttachmentFacts): TextBuilder {
    const b = new TextBuilder(this);
    if (facts) this.inProgress.set(facts, b);
    return b;
  }

  done(facts: AttachmentFacts): void {
    this.inProgress.delete(facts);
  }
}

const HEAD_TAIL_BYTES = 64 * 1024;
const BLOCK_BYTES = 256 * 1024;

/** What a Collector saw: all of it when it fit, else only its first and last 64 KiB. */
export interface Collected {
  /** Every byte; null when there were more than the limit (with keepPrefix: the first `limit`). */
  data: Buffer | null;
  head: Buffer;
  tail: Buffer;
  size: number;
}

/**
 * Keeps the bytes of one part or entry up to `limit` (copied into 256 KiB blocks, so a part that
 * arrives as thousands of small lines is not thousands of small buffers). Past the limit only the
 * first and last 64 KiB are kept, enough to recognise the format and its encryption — or, with
 * `keepPrefix` (body text), the first `limit` bytes.
 */
export class Collector {
  size = 0;
  private blocks: Buffer[] = [];
  private current: Buffer | null = null;
  private used = 0;
  private head: Buffer | null = null;
  private tailChunks: Buffer[] = [];
  private tailBytes = 0;

  constructor(
    private readonly limit: number,
    private readonly keepPrefix = false,
  ) {}

  get overflowed(): boolean {
    return this.size > this.limit;
  }

  push(chunk: Uint8Array): void {
    if (!chunk.length) return;
    const before = this.size;
    this.size += chunk.length;
    if (this.size <= this.limit) {
      this.copy(chunk);
      return;
    }
    if (this.keepPrefix) {
      if (before < this.limit) this.copy(chunk.subarray(0, this.limit - before));
      return;
    }
    if (before <= this.limit) {
      // Crossing the limit: keep the first 64 KiB and drop the rest of what was kept.
      const all = this.joined(before);
      this.head = Buffer.from(all.subarray(0, Math.min(HEAD_TAIL_BYTES, all.length)));
      this.blocks = [];
      this.current = null;
      this.used = 0;
      if (this.head.length < HEAD_TAIL_BYTES) {
        const more = chunk.subarray(0, HEAD_TAIL_BYTES - this.head.length);
        this.head = Buffer.concat([this.head, more]);
      }
      this.pushTail(Buffer.from(all.subarray(Math.max(0, all.length - HEAD_TAIL_BYTES))));
    }
    this.pushTail(Buffer.from(chunk.subarray(Math.max(0, chunk.length - HEAD_TAIL_BYTES))));
  }

  private copy(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (!this.current || this.used === this.current.length) {
        if (this.current) this.blocks.push(this.current);
        this.current = Buffer.allocUnsafe(Math.min(BLOCK_BYTES, Math.max(this.limit, 1)));
        this.used = 0;
      }
      const n = Math.min(chunk.length - offset, this.current.length - this.used);
      this.current.set(chunk.subarray(offset, offset + n), this.used);
      this.used += n;
      offset += n;
    }
  }

  private joined(length: number): Buffer {
    const parts = [...this.blocks];
    if (this.current) parts.push(this.current.subarray(0, this.used));
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, length);
  }

  private pushTail(chunk: Buffer): void {
    this.tailChunks.push(chunk);
    this.tailBytes += chunk.length;
    while (
      this.tailChunks.length > 1 &&
      this.tailBytes - (this.tailChunks[0]?.length ?? 0) >= HEAD_TAIL_BYTES
    ) {
      this.tailBytes -= (this.tailChunks.shift() as Buffer).length;
    }
  }

  finish(): Collected {
    if (!this.overflowed || this.keepPrefix) {
      const length = Math.min(this.size, this.limit);
      const data = this.joined(length);
      const exact = data.length === length ? data : data.subarray(0, length);
      this.blocks = [];
      this.current = null;
      return {
        data: exact,
        head: exact.subarray(0, HEAD_TAIL_BYTES),
        tail: exact.subarray(Math.max(0, exact.length - HEAD_TAIL_BYTES)),
        size: this.size,
      };
    }
    const tail = Buffer.concat(this.tailChunks);
    return {
      data: null,
      head: this.head ?? Buffer.alloc(0),
      tail: tail.subarray(Math.max(0, tail.length - HEAD_TAIL_BYTES)),
      size: this.size,
    };
  }
}

/** Lower-case extension of the last path segment, without the dot; "" when none. */
export function extensionOf(filename: string): string {
  const base = filename.slice(Math.max(filename.lastIndexOf("/"), filename.lastIndexOf("\\")) + 1);
  const dot = base.lastIndexOf(".");
  return dot > 0 && dot < base.length - 1 ? base.slice(dot + 1).toLowerCase() : "";
}

export function newFacts(filename: string, contentType: string): AttachmentFacts {
  return {
    filename,
    contentType,
    size: 0,
    extension: extensionOf(filename),
    encrypted: false,
    text: "",
    // true until the analysis of the item completes, so a timeout snapshot shows it unfinished
    truncated: true,
    formatNotRead: false,
    problems: [],
    children: [],
  };
}

export function addProblem(list: string[], problem: string): void {
  if (!list.includes(problem)) list.push(problem);
}

export function errorText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.length > 200 ? `${message.slice(0, 200)}…` : message;
}
