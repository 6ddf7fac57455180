// One file's facts and text, whatever it is and wherever it was found (a MIME part, a zip entry):
// the format is recognised by its bytes first, its name second; archives recurse within the limits.
import type { FileEntry } from "@zip.js/zip.js";
import libmime from "libmime";
import type { AttachmentFacts } from "../analyze.js";
import { decodeText, normalizeNewlines } from "./charset.js";
import {
  AnalysisTimeout,
  Collector,
  ExpandedLimit,
  PROBLEM_ZIP_BOMB,
  addProblem,
  errorText,
  newFacts,
  type AnalysisContext,
  type Collected,
  type TextBuilder,
} from "./context.js";
import { htmlToText } from "@sendguard/shared";
import { extractOoxml, ooxmlByParts } from "./ooxml.js";
import { extractPdf } from "./pdf.js";
import {
  cfbEncrypted,
  kindOf,
  pdfEncrypted,
  rarEncrypted,
  sevenZipEncrypted,
  zipHeadEncrypted,
  type Kind,
} from "./sniff.js";
import { inflate, listEntries, openZip, unsafePath } from "./zip.js";

/** OOXML packages have many parts (a deck: slides, layouts, media); listed up to this many. */
const MAX_OOXML_PARTS = 20_000;

export function mimeTypeOf(extension: string): string {
  return extension ? String(libmime.detectMimeType(extension)).toLowerCase() : "application/octet-stream";
}

/** Encryption as far as the first and last 64 KiB tell (an attachment over maxAttachmentBytes). */
function encryptedFromEnds(kind: Kind, content: Collected): boolean {
  switch (kind) {
    case "zip":
    case "docx":
    case "xlsx":
    case "pptx":
      return zipHeadEncrypted(content.head);
    case "pdf":
      return pdfEncrypted(content.head, content.tail);
    case "cfb":
      return cfbEncrypted(null, content.head, content.tail);
    case "7z":
      return sevenZipEncrypted(null, content.head, content.tail, content.size);
    case "rar":
      return rarEncrypted(content.head);
    default:
      return false;
  }
}

/**
 * Fills `facts` from the collected bytes of one file found `depth` containers deep (0: a part of
 * the message itself). `charset` is the one its MIME part declared, if any.
 */
export async function analyzeFile(
  facts: AttachmentFacts,
  content: Collected,
  depth: number,
  ctx: AnalysisContext,
  charset?: string | false,
): Promise<void> {
  const text = ctx.builder(facts);
  let cut = false;
  let finished = false;
  try {
    facts.size = content.size;
    const kind = kindOf(content.head, facts.extension, facts.contentType);
    const data = content.data;
    if (!data) {
      cut = true;
      facts.encrypted = encryptedFromEnds(kind, content);
      addProblem(
        facts.problems,
        `larger than ${ctx.limits.maxAttachmentBytes} bytes: only the format and encryption were checked`,
      );
    } else {
      cut = await analyzeKind(kind, facts, data, content, depth, ctx, text, charset);
    }
    finished = true;
  } catch (err) {
    if (err instanceof AnalysisTimeout) throw err;
    if (err instanceof ExpandedLimit) {
      cut = true;
      addProblem(facts.problems, PROBLEM_ZIP_BOMB);
      addProblem(ctx.problems, PROBLEM_ZIP_BOMB);
    } else {
      addProblem(facts.problems, `unreadable: ${errorText(err)}`);
    }
    finished = true;
  } finally {
    facts.text = text.toString();
    facts.truncated = !finished || cut || text.cut;
    ctx.done(facts);
  }
}

/** Looks inside by kind; returns whether a limit cut the look. */
async function analyzeKind(
  kind: Kind,
  facts: AttachmentFacts,
  data: Buffer,
  content: Collected,
  depth: number,
  ctx: AnalysisContext,
  text: TextBuilder,
  charset?: string | false,
): Promise<boolean> {
  switch (kind) {
    case "zip":
    case "docx":
    case "xlsx":
    case "pptx":
      return analyzeZip(facts, data, depth, ctx, text);
    case "pdf": {
      facts.encrypted = pdfEncrypted(content.head, content.tail);
      if (ctx.textRemaining <= 0) return true; // no text could be kept: pdf.js is not worth it
      const outcome = await extractPdf(data, ctx, text);
      if (outcome.encrypted) facts.encrypted = true;
      if (outcome.problem) addProblem(facts.problems, outcome.problem);
      return outcome.cut;
    }
    case "cfb":
      facts.encrypted = cfbEncrypted(data, content.head, content.tail);
      facts.formatNotRead = !facts.encrypted;
      return false;
    case "7z":
      facts.encrypted = sevenZipEncrypted(data, content.head, content.tail, content.size);
      facts.formatNotRead = !facts.encrypted;
      return false;
    case "rar":
      facts.encrypted = rarEncrypted(data);
      facts.formatNotRead = !facts.encrypted;
      return false;
    case "text": {
      const decoded = decodeText(data, charset, ctx.textRemaining + 1);
      text.add(normalizeNewlines(decoded.text));
      if (decoded.cut) ctx.reportTextLimit();
      return decoded.cut;
    }
    case "html":
      text.add(htmlToText(decodeText(data, charset || metaCharset(data), Infinity).text));
      return false;
    case "message": {
      if (depth + 1 > ctx.limits.maxArchiveDepth) {
        addProblem(facts.problems, `nesting deeper than ${ctx.limits.maxArchiveDepth}`);
        return true;
      }
      const nested = ctx.nestedMessage;
      if (!nested) return false;
      const inner = await nested(data, depth + 1);
      // the inner walk drew its text from the same budget already
      text.adopt(inner.bodyText);
      facts.children.push(...inner.attachments);
      for (const p of inner.problems) addProblem(facts.problems, p);
      return inner.attachments.some((a) => a.truncated);
    }
    default:
      return false;
  }
}

/** <meta charset> or http-equiv Content-Type in the first 4 KiB of an HTML file. */
export function metaCharset(data: Uint8Array): string | false {
  const head = Buffer.from(data.buffer, data.byteOffset, Math.min(data.length, 4096)).toString("latin1");
  const m = /<meta[^>]*?charset\s*=\s*["']?\s*([\w.:-]+)/i.exec(head);
  return m?.[1] ?? false;
}

async function analyzeZip(
  facts: AttachmentFacts,
  data: Buffer,
  depth: number,
  ctx: AnalysisContext,
  text: TextBuilder,
): Promise<boolean> {
  const reader = openZip(data);
  try {
    let listed;
    try {
      listed = await listEntries(reader, Math.max(MAX_OOXML_PARTS, ctx.limits.maxArchiveEntries + 1), ctx);
    } catch (err) {
      if (err instanceof AnalysisTimeout) throw err;
      addProblem(facts.problems, `corrupt zip: ${errorText(err)}`);
      return false;
    }
    // by its parts, not its name: a zip renamed .docx is still an archive to look into
    const office = ooxmlByParts(listed.entries);
    if (office) {
      if (listed.entries.some((e) => e.encrypted)) {
        facts.encrypted = true;
        return false;
      }
      if (ctx.textRemaining <= 0) return true; // no text could be kept: not worth inflating
      return (await extractOoxml(office, data, listed.entries, ctx, text)) || listed.more;
    }
    if (depth + 1 > ctx.limits.maxArchiveDepth) {
      addProblem(facts.problems, `nesting deeper than ${ctx.limits.maxArchiveDepth}`);
      return true;
    }
    return await archiveChildren(facts, data, listed.entries, listed.more, depth + 1, ctx);
  } finally {
    await reader.close().catch(() => undefined);
  }
}

/** Facts of every entry of an archive opened at `depth`; returns whether a limit cut the look. */
async function archiveChildren(
  facts: AttachmentFacts,
  zip: Buffer,
  entries: Awaited<ReturnType<typeof listEntries>>["entries"],
  more: boolean,
  depth: number,
  ctx: AnalysisContext,
): Promise<boolean> {
  let cut = more;
  let tooMany = more;
  for (const entry of entries) {
    ctx.check();
    if (entry.directory) continue;
    if (!ctx.takeEntry()) {
      cut = tooMany = true;
      break;
    }
    const child = newFacts(entry.filename, "");
    child.contentType = mimeTypeOf(child.extension);
    child.size = entry.uncompressedSize;
    child.encrypted = entry.encrypted;
    facts.children.push(child);
    if (unsafePath(entry.filename)) addProblem(facts.problems, `unsafe entry path: ${entry.filename}`);
    if (entry.encrypted) {
      facts.encrypted = true;
      child.truncated = false;
      continue;
    }
    if (ctx.expandedSpent) {
      cut = true; // nothing more may be inflated: facts from the central directory only
      continue;
    }
    cut = (await readChild(facts, child, zip, entry, depth, ctx)) || cut;
  }
  if (tooMany) addProblem(facts.problems, `too many archive entries (over ${ctx.limits.maxArchiveEntries})`);
  return cut;
}

async function readChild(
  parent: AttachmentFacts,
  child: AttachmentFacts,
  zip: Buffer,
  entry: FileEntry,
  depth: number,
  ctx: AnalysisContext,
): Promise<boolean> {
  const collector = new Collector(ctx.limits.maxAttachmentBytes);
  try {
    await inflate(zip, entry, ctx, (chunk) => collector.push(chunk));
  } catch (err) {
    if (err instanceof AnalysisTimeout) throw err;
    if (err instanceof ExpandedLimit) {
      child.size = Math.max(child.size, collector.size);
      addProblem(parent.problems, PROBLEM_ZIP_BOMB);
      addProblem(ctx.problems, PROBLEM_ZIP_BOMB);
      return true; // child.truncated stays true
    }
    addProblem(child.problems, `corrupt zip entry: ${errorText(err)}`);
    child.truncated = false;
    return false;
  }
  await analyzeFile(child, collector.finish(), depth, ctx);
  return false;
}
