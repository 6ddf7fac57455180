// Web-download separation of one message, streamed: attachments leave the message (each handed
// to the caller, transfer-decoded, as it comes), a placeholder stays where each one was, the
// notice goes to the top of the first text and HTML bodies, and every other part is written byte
// for byte as it came (mailsplit's Splitter hands out untouched bytes; what is not changed here
// is written from them). Usable on any thread; separate-worker.ts runs it off the event loop.
import { randomBytes } from "node:crypto";
import type { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { MimeNode } from "@zone-eu/mailsplit";
import {
  AttachmentSink,
  type AttachmentInfo,
  type OnAttachment,
  type SeparatedAttachment,
} from "./attachment-sink.js";
import type { BodyCodec } from "./codec.js";
import { attachmentName, contentIdOf, declaredSizeOf, isAttachment, signedOrEncrypted } from "./classify.js";
import { SeparationError } from "./errors.js";
import { CidReferences } from "./html.js";
import { htmlNotice, htmlScan, textNotice } from "./notice-part.js";
import { PLACEHOLDER_CONTENT_HEADERS, placeholderBody, placeholderPart } from "./placeholder.js";
import { completeSplitter, repeatedHeadBytes, unterminatedHead } from "./splitter-fix.js";

export type { AttachmentInfo, OnAttachment, SeparatedAttachment };

export interface SeparationLimits {
  /** Multiparts inside multiparts, the message itself counting 1; default 20. */
  maxDepth: number;
  /** MIME parts (multiparts included); default 1,000. */
  maxParts: number;
  /** One part's header block, bytes (a line counts ≥ 64); default 1 MiB (long Received chains). */
  maxHeaderBytes: number;
  /** Decoded HTML searched for <body…>; without one so far, the notice goes to the top. 256 KiB. */
  htmlBodySearchBytes: number;
}

export const DEFAULT_SEPARATION_LIMITS: SeparationLimits = {
  maxDepth: 20,
  maxParts: 1000,
  maxHeaderBytes: 1024 * 1024,
  htmlBodySearchBytes: 256 * 1024,
};

/** A part to add to the message (see appendParts): its header lines and its encoded body. */
export interface AppendedPart {
  /** Header lines (Content-Type, Content-Transfer-Encoding, …), ASCII, without the blank line. */
  headers: string;
  /** The body as it goes into the message, already transfer-encoded. */
  body: Readable;
}

export interface RewriteOptions {
  /** The raw RFC 5322 message. */
  input: Readable;
  /** Receives the rewritten message; ended when done. Discard it when the promise rejects. */
  output: Writable;
  onAttachment: OnAttachment;
  /** Inserted at the top of the first text/plain and right after <body…> of the first text/html. */
  notice?: { text: string; html: string };
  /** The text of the placeholder a removed attachment leaves. */
  placeholder: (info: AttachmentInfo) => string;
  /**
   * Parts to add to the outermost multipart/mixed, asked for after every attachment has been
   * stored (a message that is not multipart/mixed at the top is wrapped in one).
   */
  appendParts?: () => Promise<AppendedPart[]>;
  /**
   * The placeholders an earlier run left in `input` (its result's placeholderParts): copied as
   * they are, never given the notice. The notice added to a message separated once is then where
   * separating the original with it would have put it (without, a message with no text body got
   * the text notice in a placeholder).
   */
  placeholders?: number[];
  limits?: Partial<SeparationLimits>;
}

export interface SeparationResult {
  attachments: SeparatedAttachment[];
  noticeInserted: { text: boolean; html: boolean };
  /** The parts that are placeholders now, by their number in order of appearance (from 1, multiparts counted). */
  placeholderParts: number[];
}

/** What is done with the body of the leaf part being read. */
type Leaf =
  | { kind: "copy" }
  | { kind: "scan"; scan: { push(chunk: Buffer): void; end(): void } }
  | { kind: "notice"; codec: BodyCodec }
  | { kind: "attachment"; sink: AttachmentSink };

type Chunk = MimeNode | { type: "data" | "body"; value: Buffer; node: MimeNode };

/** The splitter's limit errors (code EMAXLEN) by what they say. */
function limitError(err: unknown): unknown {
  if (!(err instanceof Error) || (err as { code?: string }).code !== "EMAXLEN") return err;
  return /header/i.test(err.message)
    ? new SeparationError("header_too_large", `a part's header block is larger than the limit`, {
        cause: err,
      })
    : new SeparationError("too_many_parts", `the message has more parts than the limit`, { cause: err });
}

function depthOf(node: MimeNode): number {
  let depth = 1;
  for (let p = node.parentNode; p; p = p.parentNode) depth++;
  return depth;
}

const HEADER_LINE = /^[!-9;-~]+:[^\r\n]*(\r?\n[ \t][^\r\n]*)*$/;

/** The header block of an appended part, checked (no blank line, no bare line break, ASCII). */
function appendedHeaders(headers: string, eol: string): string {
  const lines = headers.replace(/(\r?\n)+$/, "").split(/\r?\n(?![ \t])/);
  // eslint-disable-next-line no-control-regex
  if (!lines.every((l) => HEADER_LINE.test(l)) || /[^\x09\x0a\x0d\x20-\x7e]/.test(headers))
    throw new SeparationError("invalid_part", "an appended part's headers are not ASCII header lines");
  return lines.join(eol).replace(/\r?\n/g, eol);
}

/** Codecs holding bytes back answer with empty buffers; a write of nothing is a wasted syscall. */
async function* nonEmpty(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  for await (const chunk of source) if (chunk.length) yield chunk;
}

class Rewrite {
  private readonly limits: SeparationLimits;
  private readonly references = new CidReferences();
  private readonly result: SeparationResult = {
    attachments: [],
    noticeInserted: { text: false, html: false },
    placeholderParts: [],
  };
  private readonly placeholders: ReadonlySet<number>;
  private eol = "\r\n";
  private root: MimeNode | null = null;
  /** Set when the message is wrapped in a new multipart/mixed to carry the appended parts. */
  private wrapBoundary: string | null = null;
  private appended = false;
  private parts = 0;
  private leaf: Leaf = { kind: "copy" };
  private empty = true;

  constructor(private readonly options: RewriteOptions) {
    this.limits = { ...DEFAULT_SEPARATION_LIMITS, ...options.limits };
    this.placeholders = new Set(options.placeholders);
  }

  async run(): Promise<SeparationResult> {
    const splitter = completeSplitter({
      ignoreEmbedded: true,
      maxHeadSize: this.limits.maxHeaderBytes,
      maxChildNodes: this.limits.maxParts + 1,
    });
    try {
      await pipeline(
        this.options.input,
        splitter,
        (source: AsyncIterable<Chunk>) => nonEmpty(this.rewrite(source)),
        this.options.output,
      );
    } catch (err) {
      if (this.leaf.kind === "attachment") this.leaf.sink.destroy(err as Error);
      throw limitError(err);
    }
    return this.result;
  }

  private async *rewrite(source: AsyncIterable<Chunk>): AsyncGenerator<Buffer> {
    let unterminated: Buffer | null = null;
    for await (const chunk of source) {
      if (chunk.type === "node") {
        const head = chunk.getHeaders();
        if (head.length) this.empty = false;
        unterminated = unterminatedHead(head) ? head : null;
        yield* this.endLeaf();
        yield* this.startNode(chunk);
      } else if (chunk.type === "data") {
        this.empty = false;
        const value = unterminated
          ? chunk.value.subarray(repeatedHeadBytes(unterminated, chunk.value))
          : chunk.value;
        unterminated = null;
        yield* this.endLeaf();
        const close = this.rootClose(value);
        if (close) {
          yield close.before;
          yield* this.appendParts(close.from, false);
          yield close.from;
        } else yield value;
      } else {
        this.empty = false;
        unterminated = null;
        yield* this.body(chunk.value);
      }
    }
    yield* this.endLeaf();
    yield* this.finish();
  }

  private async *body(value: Buffer): AsyncGenerator<Buffer> {
    switch (this.leaf.kind) {
      case "copy":
        return yield value;
      case "scan":
        this.leaf.scan.push(value);
        return yield value;
      case "notice":
        return yield this.leaf.codec.push(value);
      case "attachment":
        return this.leaf.sink.write(value);
    }
  }

  private async *endLeaf(): AsyncGenerator<Buffer> {
    const leaf = this.leaf;
    this.leaf = { kind: "copy" };
    if (leaf.kind === "scan") leaf.scan.end();
    else if (leaf.kind === "notice") yield leaf.codec.end();
    else if (leaf.kind === "attachment") this.result.attachments.push(await leaf.sink.end());
  }

  private async *startNode(node: MimeNode): AsyncGenerator<Buffer> {
    if (++this.parts > this.limits.maxParts)
      throw new SeparationError("too_many_parts", `the message has more than ${this.limits.maxParts} parts`);
    if (depthOf(node) > this.limits.maxDepth)
      throw new SeparationError("too_deep", `parts are nested deeper than ${this.limits.maxDepth} levels`);
    const refused = signedOrEncrypted(node);
    if (refused)
      throw new SeparationError("signed_or_encrypted", `the message is signed or encrypted: ${refused}`);
    if (!node.parentNode) this.startRoot(node);
    if (node.multipart) return yield this.headersOf(node);
    if (isAttachment(node, this.references)) return yield* this.startAttachment(node);
    this.leaf = this.placeholders.has(this.parts) ? { kind: "copy" } : this.bodyLeaf(node);
    yield this.headersOf(node);
  }

  private startRoot(node: MimeNode): void {
    this.root = node;
    const head = node.getHeaders();
    const lf = head.indexOf(0x0a);
    if (lf > 0 && head[lf - 1] !== 0x0d) this.eol = "\n";
    if (this.options.appendParts && node.multipart !== "mixed")
      this.wrapBoundary = `sendguard-separated-${randomBytes(12).toString("hex")}`;
  }

  /** The leaf that reads a kept part: the first text and HTML bodies get the notice. */
  private bodyLeaf(node: MimeNode): Leaf {
    const notice = this.options.notice;
    const inserted = this.result.noticeInserted;
    if (node.contentType === "text/html") {
      const codec =
        notice && !inserted.html
          ? htmlNotice(node, notice.html, this.references, {
              eol: this.eol,
              searchBytes: this.limits.htmlBodySearchBytes,
            })
          : null;
      if (!codec) return { kind: "scan", scan: htmlScan(node, this.references) };
      inserted.html = true;
      return { kind: "notice", codec };
    }
    if ((node.contentType || "text/plain") === "text/plain" && notice && !inserted.text) {
      const codec = textNotice(node, notice.text, this.eol);
      if (codec) {
        inserted.text = true;
        return { kind: "notice", codec };
      }
    }
    return { kind: "copy" };
  }

  private *startAttachment(node: MimeNode): Generator<Buffer> {
    const index = this.result.attachments.length;
    const info: AttachmentInfo = {
      index,
      filename: attachmentName(node, index),
      contentType: node.contentType || "application/octet-stream",
    };
    const contentId = contentIdOf(node);
    if (contentId) info.contentId = contentId;
    const declaredSize = declaredSizeOf(node);
    if (declaredSize !== undefined) info.declaredSize = declaredSize;
    this.leaf = {
      kind: "attachment",
      sink: new AttachmentSink(info, node.encoding, this.options.onAttachment),
    };
    const text = this.options.placeholder(info);
    this.result.placeholderParts.push(this.parts);
    if (node.parentNode) return yield placeholderPart(text, this.eol);
    // The message itself is the attachment: its own header block becomes the placeholder's.
    if (this.wrapBoundary) return yield this.rootHeaders(node, placeholderPart(text, this.eol));
    const headers = node.headers;
    if (headers) {
      for (const line of headers.getList().filter((l) => l.key.startsWith("content-")))
        headers.remove(line.key);
      if (!headers.hasHeader("mime-version")) headers.add("MIME-Version", "1.0", Infinity);
      for (const line of PLACEHOLDER_CONTENT_HEADERS) {
        const colon = line.indexOf(":");
        headers.add(line.slice(0, colon), line.slice(colon + 2), Infinity);
      }
    }
    yield Buffer.concat([node.getHeaders(), placeholderBody(text, this.eol)]);
  }

  private headersOf(node: MimeNode): Buffer {
    if (node.parentNode || !this.wrapBoundary) return node.getHeaders();
    return this.rootHeaders(node, null);
  }

  /**
   * The header block of a wrapped message: its own headers with a multipart/mixed Content-Type,
   * then the first part's delimiter and header block — the message's Content-* lines, or `inner`.
   */
  private rootHeaders(node: MimeNode, inner: Buffer | null): Buffer {
    const eol = this.eol;
    const lines = node.headers ? node.headers.getList() : [];
    const raw = (l: { line: string }) => l.line.replace(/\r\n/g, eol);
    const own = lines.filter((l) => !l.key.startsWith("content-"));
    const content = lines.filter((l) => l.key.startsWith("content-"));
    const top = [
      ...own.map(raw),
      ...(own.some((l) => l.key === "mime-version") ? [] : ["MIME-Version: 1.0"]),
      `Content-Type: multipart/mixed; boundary="${this.wrapBoundary}"`,
    ];
    const first =
      inner ?? Buffer.from((content.length ? content.map(raw).join(eol) + eol : "") + eol, "binary");
    return Buffer.concat([
      Buffer.from(top.join(eol) + eol + eol + `--${this.wrapBoundary}` + eol, "binary"),
      first,
    ]);
  }

  /**
   * Where the first closing delimiter of a top-level multipart/mixed is in a run of delimiter,
   * preamble and epilogue lines: the bytes before it and from it on (the line break in front of
   * it included), or null.
   */
  private rootClose(value: Buffer): { before: Buffer; from: Buffer } | null {
    const root = this.root;
    if (!root || this.appended || this.wrapBoundary || root.multipart !== "mixed" || !root._boundary)
      return null;
    const closing = Buffer.concat([Buffer.from("--"), root._boundary, Buffer.from("--")]);
    for (let at = value.indexOf(closing); at >= 0; at = value.indexOf(closing, at + 1)) {
      if (at > 0 && value[at - 1] !== 0x0a && value[at - 1] !== 0x0d) continue;
      let start = at;
      if (value[start - 1] === 0x0a) start--;
      if (value[start - 1] === 0x0d) start--;
      return { before: value.subarray(0, start), from: value.subarray(start) };
    }
    return null;
  }

  /**
   * The parts from appendParts, each behind a delimiter of `boundary` (the root's own, or the
   * wrapper's), written before the closing delimiter `before` (which may start with its line break).
   */
  private async *appendParts(before: Buffer, wrapped: boolean): AsyncGenerator<Buffer> {
    this.appended = true;
    const ask = this.options.appendParts;
    if (!ask) return;
    let parts: AppendedPart[];
    try {
      parts = await ask();
    } catch (err) {
      throw new SeparationError("attachment_failed", "appendParts failed", { cause: err });
    }
    const boundary = wrapped ? this.wrapBoundary : (this.root?._boundary?.toString("latin1") ?? null);
    if (!boundary) return;
    const eol = this.eol;
    const breakFirst = before[0] === 0x0d || before[0] === 0x0a;
    for (const [i, part] of parts.entries()) {
      const lead = i > 0 || breakFirst ? eol : "";
      yield Buffer.from(
        `${lead}--${boundary}${eol}${appendedHeaders(part.headers, eol)}${eol}${eol}`,
        "latin1",
      );
      for await (const chunk of part.body)
        yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    }
    if (parts.length && !breakFirst) yield Buffer.from(eol, "latin1");
  }

  /** The end of the input: the wrapper (or a root multipart/mixed never closed) is closed here. */
  private async *finish(): AsyncGenerator<Buffer> {
    const root = this.root;
    if (!root || this.empty) throw new SeparationError("malformed", "the input holds no message");
    const eol = Buffer.from(this.eol, "latin1");
    if (this.wrapBoundary) {
      yield* this.appendParts(eol, true);
      yield Buffer.from(`${this.eol}--${this.wrapBoundary}--${this.eol}`, "latin1");
    } else if (this.options.appendParts && !this.appended && root._boundary) {
      yield* this.appendParts(eol, false);
      yield Buffer.from(`${this.eol}--${root._boundary.toString("latin1")}--${this.eol}`, "latin1");
    }
  }
}

/** Separates the attachments of the message read from `input` into `output`; see RewriteOptions. */
export function rewriteAttachments(options: RewriteOptions): Promise<SeparationResult> {
  return new Rewrite(options).run();
}
