// PDF text with pdf.js (pdfjs-dist legacy build, pure JS, run in this thread through its "fake
// worker"). Loaded on the first PDF only. The Adobe CMaps shipped with pdfjs-dist are used, so text
// set in non-embedded Japanese fonts (UniJIS-UCS2-H, 90ms-RKSJ-H, …) comes out as Unicode.
//
// pdf.js keeps every stream it decodes whole in memory: a 400 KB PDF whose content stream inflates
// to 400 MB costs it the 400 MB (and more). So before pdf.js sees a document, its Flate streams
// (images aside: text extraction never decodes them) are inflated here to nowhere and counted;
// past maxAttachmentBytes, or past the message's maxExpandedBytes, pdf.js is not run.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { createInflate } from "node:zlib";
import type { AnalysisContext, TextBuilder } from "./context.js";

type PdfJs = typeof import("pdfjs-dist/legacy/build/pdf.mjs");

let loading: Promise<PdfJs> | null = null;

function pdfjs(): Promise<PdfJs> {
  loading ??= import("pdfjs-dist/legacy/build/pdf.mjs");
  return loading;
}

let cMapUrl: string | null = null;

/** The Adobe CMaps shipped with pdfjs-dist. Standard font programs are not loaded: text needs none. */
function cMaps(): string {
  cMapUrl ??= join(dirname(createRequire(import.meta.url).resolve("pdfjs-dist/package.json")), "cmaps") + "/";
  return cMapUrl;
}

const STREAM = Buffer.from("stream");
const END_STREAM = Buffer.from("endstream");
const OBJ = Buffer.from(" obj");
const FLATE = /\/(FlateDecode|Fl)\b/;
const IMAGE = /\/Subtype\s*\/Image\b/;

/** Inflates one zlib stream to nowhere, counting; stops (false) once `room` would be passed. */
function countInflated(data: Buffer, room: number, take: (n: number) => void): Promise<boolean> {
  return new Promise((resolve, reject) => {
    let total = 0;
    const inflater = createInflate({ chunkSize: 256 * 1024 });
    inflater.on("data", (chunk: Buffer) => {
      total += chunk.length;
      try {
        take(chunk.length);
      } catch (err) {
        inflater.destroy();
        reject(err as Error);
        return;
      }
      if (total > room) {
        inflater.destroy();
        resolve(false);
      }
    });
    inflater.on("end", () => resolve(true));
    // a damaged stream is pdf.js's to handle: what inflated until then is counted
    inflater.on("error", () => resolve(true));
    inflater.end(data);
  });
}

/**
 * Inflates the Flate-encoded streams of a PDF that are not images, counting against `limit` and
 * the message's expanded-bytes budget (ExpandedLimit propagates). Returns the bytes counted, or
 * null once they pass `limit`.
 */
export async function pdfStreamBytes(
  data: Buffer,
  limit: number,
  ctx: AnalysisContext,
): Promise<number | null> {
  let total = 0;
  let pos = 0;
  for (;;) {
    ctx.check();
    const at = data.indexOf(STREAM, pos);
    if (at === -1) return total;
    pos = at + STREAM.length;
    // the keyword "stream" itself: not the end of "endstream", followed by an end of line
    if (at >= 3 && data.subarray(at - 3, at).toString("latin1") === "end") continue;
    let start = pos;
    if (data[start] === 0x0d) start++;
    if (data[start] !== 0x0a) continue;
    start++;
    const end = data.indexOf(END_STREAM, start);
    if (end === -1) return total;
    pos = end + END_STREAM.length;
    // the stream's dictionary: from the "N G obj" before it (at most 64 KiB back)
    const objAt = data.lastIndexOf(OBJ, at);
    const dict = data
      .subarray(objAt !== -1 && at - objAt < 65536 ? objAt : Math.max(0, at - 1024), at)
      .toString("latin1");
    if (!FLATE.test(dict) || IMAGE.test(dict)) continue;
    const complete = await countInflated(data.subarray(start, end), limit - total, (n) => {
      ctx.expand(n);
      total += n;
    });
    if (!complete || total > limit) return null;
  }
}

export interface PdfOutcome {
  /** The document needs a password to open. */
  encrypted: boolean;
  problem: string | null;
  /** A limit kept the text from being extracted. */
  cut: boolean;
}

/** Extracts the text of every page into `out` until the text budget is spent. */
export async function extractPdf(
  data: Uint8Array,
  ctx: AnalysisContext,
  out: TextBuilder,
): Promise<PdfOutcome> {
  const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if ((await pdfStreamBytes(view, ctx.limits.maxAttachmentBytes, ctx)) === null) {
    return {
      encrypted: false,
      problem: `streams larger than ${ctx.limits.maxAttachmentBytes} bytes once inflated: text not extracted`,
      cut: true,
    };
  }
  const lib = await pdfjs();
  ctx.check();
  const task = lib.getDocument({
    // a plain Uint8Array view: pdf.js refuses Node Buffers
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    cMapUrl: cMaps(),
    cMapPacked: true,
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    stopAtErrors: false,
    verbosity: lib.VerbosityLevel.ERRORS,
  });
  const onAbort = () => void task.destroy();
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  try {
    const doc = await task.promise;
    for (let n = 1; n <= doc.numPages; n++) {
      ctx.check();
      const page = await doc.getPage(n);
      const content = await page.getTextContent();
      const parts: string[] = [];
      for (const item of content.items) {
        if ("str" in item) parts.push(item.str, item.hasEOL ? "\n" : "");
      }
      page.cleanup();
      if (!out.add(`${parts.join("")}\n`)) break;
    }
    return { encrypted: false, problem: null, cut: false };
  } catch (err) {
    ctx.check();
    if (err instanceof Error && err.name === "PasswordException")
      return { encrypted: true, problem: null, cut: false };
    const message = err instanceof Error ? err.message : String(err);
    return { encrypted: false, problem: `corrupt pdf: ${message.slice(0, 200)}`, cut: false };
  } finally {
    ctx.signal.removeEventListener("abort", onAbort);
    await task.destroy().catch(() => undefined);
  }
}
