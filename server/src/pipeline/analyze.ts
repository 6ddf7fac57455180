// Looks inside a stored message for the policy rules: the body text and, for every attachment, its
// facts (name, type, size, encryption) and text, archives recursed. Bounded in every direction:
// the message is streamed (@zone-eu/mailsplit) and only one part — at most maxAttachmentBytes —
// is held at a time besides the kept text; inflated bytes, archive entries, nesting, kept text and
// time are all capped, and a capped look says so (truncated, problems) instead of failing.
import { Splitter } from "@zone-eu/mailsplit";
import { Readable } from "node:stream";
import { decodeText, normalizeNewlines } from "./extract/charset.js";
import {
  AnalysisContext,
  AnalysisTimeout,
  Collector,
  PROBLEM_TIMEOUT,
  addProblem,
  errorText,
  newFacts,
  type Collected,
  type TextBuilder,
} from "./extract/context.js";
import { analyzeFile, metaCharset } from "./extract/file.js";
import { openTnef } from "./extract/tnef.js";
import { isTnefPart } from "./transform/separate/classify.js";
import { htmlToText } from "@sendguard/shared";
import { transferDecoder, type TransferDecoder } from "./extract/transfer.js";

export interface AnalyzeLimits {
  /** Text kept per message in total (body + attachments), default 2_000_000. */
  maxTextChars: number;
  /** Bytes of one attachment looked into (larger: facts only, truncated=true), default 25 MiB. */
  maxAttachmentBytes: number;
  /** Zip in zip …, default 2. */
  maxArchiveDepth: number;
  /** Archive entries listed per message, default 1000. */
  maxArchiveEntries: number;
  /** Total uncompressed bytes read from archives/OOXML, default 100 MiB (zip bombs). */
  maxExpandedBytes: number;
  /** Whole analysis, default 10_000; on timeout what was found is returned with problems += "timeout". */
  timeoutMs: number;
}

export const DEFAULT_ANALYZE_LIMITS: AnalyzeLimits = Object.freeze({
  maxTextChars: 2_000_000,
  maxAttachmentBytes: 25 * 1024 * 1024,
  maxArchiveDepth: 2,
  maxArchiveEntries: 1000,
  maxExpandedBytes: 100 * 1024 * 1024,
  timeoutMs: 10_000,
});

export interface AttachmentFacts {
  /** Decoded (RFC 2231 / RFC 2047, Japanese names), "" if none. */
  filename: string;
  /** Lower-case type/subtype. */
  contentType: string;
  /** Decoded bytes. */
  size: number;
  /** Lower-case without dot, from the filename ("" if none). */
  extension: string;
  /**
   * Password-protected: encrypted ZIP entries (ZipCrypto or AES; set on the archive holding them
   * and on each such entry), encrypted PDF (/Encrypt), encrypted OOXML (OLE file with
   * EncryptedPackage), legacy .doc/.xls/.ppt with a password to open, 7z/RAR with encrypted headers.
   */
  encrypted: boolean;
  /** Extracted text ("" when none or not extractable). */
  text: string;
  /** Limits cut the text or the look inside. */
  truncated: boolean;
  /** A format that holds text which is not read here (legacy .doc/.xls/.ppt, 7z, RAR). */
  formatNotRead: boolean;
  /** E.g. "zip bomb: expanded bytes over limit", "nesting deeper than 2", "corrupt zip". */
  problems: string[];
  /** Entries of archives (zip), and the attachments of an attached message, with the same facts. */
  children: AttachmentFacts[];
}

export interface MessageFacts {
  /** text/plain parts plus text/html converted to text, decoded to Unicode from any charset. */
  bodyText: string;
  /** Every part with a filename or Content-Disposition: attachment (inline images too), in order. */
  attachments: AttachmentFacts[];
  problems: string[];
}

/** The MIME node fields read here (mailsplit's MimeNode). */
interface Node {
  parentNode: Node | false;
  multipart: string | false;
  contentType: string | false;
  charset: string | false;
  disposition: string | false;
  filename: string | false;
  encoding: string | false;
  flowed: boolean;
  delSp: boolean;
}

type SplitterChunk = ({ type: "node" } & Node) | { type: "data" | "body"; value: Buffer; node: Node };

const PART_SEPARATOR = "\n\n";

/** A leaf part being received: its bytes decoded from the transfer encoding into a collector. */
interface Leaf {
  node: Node;
  decoder: TransferDecoder;
  collector: Collector;
  /** Set for attachments; body parts have none. */
  facts: AttachmentFacts | null;
}

class MessageWalk {
  private readonly body: TextBuilder;
  /** Squashed text already kept per multipart/alternative, so equal alternatives count once. */
  private readonly alternatives = new Map<Node, string[]>();
  private bodyParts = 0;

  constructor(
    private readonly ctx: AnalysisContext,
    private readonly facts: MessageFacts,
    private readonly depth: number,
  ) {
    this.body = ctx.builder();
  }

  get bodyText(): string {
    return this.body.toString();
  }

  /** Walks the message; AnalysisTimeout propagates, every other failure becomes a problem. */
  async run(source: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<void> {
    const splitter = new Splitter({ ignoreEmbedded: true });
    const input = Readable.from(source, { objectMode: false });
    input.on("error", (err) => splitter.destroy(err));
    input.pipe(splitter);
    let leaf: Leaf | null = null;
    try {
      for await (const chunk of splitter as AsyncIterable<SplitterChunk>) {
        this.ctx.check();
        if (chunk.type === "node") {
          if (leaf) await this.finish(leaf);
          leaf = chunk.multipart ? null : this.start(chunk);
        } else if (chunk.type === "body" && leaf) {
          const decoded = leaf.decoder.push(chunk.value);
          if (decoded) leaf.collector.push(decoded);
        }
      }
      if (leaf) await this.finish(leaf);
      leaf = null;
    } catch (err) {
      if (err instanceof AnalysisTimeout) throw err;
      addProblem(this.facts.problems, `unreadable message: ${errorText(err)}`);
      // what arrived of the part being received is still looked at
      if (leaf) await this.finish(leaf);
    } finally {
      input.unpipe(splitter);
      input.destroy();
      splitter.destroy();
      this.facts.bodyText = this.body.toString();
    }
  }

  private start(node: Node): Leaf {
    const type = node.contentType || "text/plain";
    const isBody =
      (type === "text/plain" || type === "text/html") && !node.filename && node.disposition !== "attachment";
    let facts: AttachmentFacts | null = null;
    if (!isBody) {
      facts = newFacts(node.filename || "", type);
      this.facts.attachments.push(facts);
      this.ctx.builder(facts); // registered now, so a timeout snapshot marks it unfinished
    }
    return {
      node,
      decoder: transferDecoder(node.encoding),
      // body parts: their beginning is kept; attachments: facts only past the limit
      collector: new Collector(this.ctx.limits.maxAttachmentBytes, isBody),
      facts,
    };
  }

  private async finish(leaf: Leaf): Promise<void> {
    const rest = leaf.decoder.end();
    if (rest) leaf.collector.push(rest);
    const content = leaf.collector.finish();
    if (leaf.facts) {
      if (await this.openedTnef(leaf.facts, content)) return;
      await analyzeFile(leaf.facts, content, this.depth, this.ctx, leaf.node.charset);
      return;
    }
    const data = content.data ?? Buffer.alloc(0);
    if (content.size > data.length) {
      addProblem(
        this.facts.problems,
        `body part larger than ${this.ctx.limits.maxAttachmentBytes} bytes: only its beginning was read`,
      );
    }
    let text: string;
    let cut = false;
    if (leaf.node.contentType === "text/html") {
      text = htmlToText(decodeText(data, leaf.node.charset || metaCharset(data), Infinity).text);
    } else {
      const decoded = decodeText(data, leaf.node.charset, this.ctx.textRemaining + 1);
      text = normalizeNewlines(decoded.text);
      cut = decoded.cut;
      if (leaf.node.flowed) text = text.replace(/ \n/g, leaf.node.delSp ? "" : " ");
    }
    this.addBody(leaf.node, text);
    if (cut) this.ctx.reportTextLimit();
  }

  /**
   * A winmail.dat's files take its place among the attachments (it stays beside them when it holds
   * more than files); true when nothing is left to analyse of it. Unreadable, it is noted so.
   */
  private async openedTnef(facts: AttachmentFacts, content: Collected): Promise<boolean> {
    if (!content.data || !isTnefPart(facts.contentType, facts.filename)) return false;
    const opened = await openTnef(content.data, this.ctx.limits.maxAttachmentBytes);
    if ("problem" in opened) {
      addProblem(facts.problems, opened.problem);
      return false;
    }
    if (!opened.files.length) return false;
    const at = this.facts.attachments.indexOf(facts);
    const inner = opened.files.map((f) => f.facts);
    if (opened.keep) this.facts.attachments.splice(at + 1, 0, ...inner);
    else {
      this.facts.attachments.splice(at, 1, ...inner);
      this.ctx.done(facts);
    }
    for (const file of opened.files) await analyzeFile(file.facts, file.content, this.depth, this.ctx);
    return !opened.keep;
  }

  /** Appends a body part, unless it repeats an alternative of the same multipart/alternative. */
  private addBody(node: Node, text: string): void {
    if (!text.trim()) return;
    let alt = node.parentNode;
    while (alt && alt.multipart !== "alternative") alt = alt.parentNode;
    if (alt) {
      const squashed = text.replace(/\s+/g, "");
      const seen = this.alternatives.get(alt) ?? [];
      if (seen.some((s) => s.includes(squashed))) return;
      seen.push(squashed);
      this.alternatives.set(alt, seen);
    }
    if (this.bodyParts++ > 0) this.body.add(PART_SEPARATOR);
    this.body.add(text);
  }
}

/** Deep copy of what was found so far, in-progress items marked truncated with their text so far. */
function snapshot(facts: MessageFacts, walk: MessageWalk, ctx: AnalysisContext): MessageFacts {
  for (const [item, text] of ctx.inProgress) {
    item.text = text.toString();
    item.truncated = true;
  }
  facts.bodyText = walk.bodyText;
  addProblem(facts.problems, PROBLEM_TIMEOUT);
  return structuredClone(facts);
}

async function* chunks(source: NodeJS.ReadableStream | AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  for await (const chunk of source as AsyncIterable<Buffer | string>) {
    yield typeof chunk === "string" ? Buffer.from(chunk, "latin1") : chunk;
  }
}

export async function analyzeMessage(
  source: NodeJS.ReadableStream | AsyncIterable<Buffer>,
  limits?: Partial<AnalyzeLimits>,
): Promise<MessageFacts> {
  const full: AnalyzeLimits = { ...DEFAULT_ANALYZE_LIMITS };
  for (const [key, value] of Object.entries(limits ?? {}) as [keyof AnalyzeLimits, number | undefined][]) {
    if (typeof value === "number" && !Number.isNaN(value)) full[key] = value;
  }
  const facts: MessageFacts = { bodyText: "", attachments: [], problems: [] };
  const ctx = new AnalysisContext(full, facts.problems);
  ctx.nestedMessage = async (data, depth) => {
    const inner: MessageFacts = { bodyText: "", attachments: [], problems: [] };
    await new MessageWalk(ctx, inner, depth).run([data]);
    return inner;
  };
  const walk = new MessageWalk(ctx, facts, 0);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), full.timeoutMs);
  });
  const work = walk.run(chunks(source)).then(
    () => "done" as const,
    (err: unknown) => {
      if (err instanceof AnalysisTimeout) return "timeout" as const;
      throw err;
    },
  );
  try {
    const outcome = await Promise.race([work, deadline]);
    if (outcome === "done") return facts;
    ctx.abort();
    work.catch(() => undefined); // the abandoned work stops at its next check
    return snapshot(facts, walk, ctx);
  } finally {
    clearTimeout(timer);
  }
}
