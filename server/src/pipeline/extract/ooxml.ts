// Text of Office Open XML documents, each part streamed from the zip through the XML scanner:
//   .docx  word/document.xml, headers, footers, footnotes, endnotes, comments (runs, tabs, breaks)
//   .xlsx  worksheets row by row, cells tab-separated: shared strings resolved, inline strings,
//          numbers as stored (phone and card numbers are often numeric cells), comments
//   .pptx  slides in order, then speaker notes
import type { Entry, FileEntry } from "@zip.js/zip.js";
import { TextFull, type AnalysisContext, type TextBuilder } from "./context.js";
import { XmlScanner, type XmlHandler } from "./xml.js";
import { inflate } from "./zip.js";

export type OoxmlKind = "docx" | "xlsx" | "pptx";

/** The OOXML flavour of a zip by its parts, or null when it is not an OOXML package. */
export function ooxmlByParts(entries: Entry[]): OoxmlKind | null {
  const names = new Set(entries.map((e) => e.filename.toLowerCase()));
  if (!names.has("[content_types].xml")) return null;
  if (names.has("word/document.xml")) return "docx";
  if (names.has("xl/workbook.xml")) return "xlsx";
  if (names.has("ppt/presentation.xml")) return "pptx";
  return null;
}

/** Number in a part name ("slide12.xml" → 12) so parts come in document order, not 1, 10, 11, 2. */
function partNumber(name: string): number {
  const m = /(\d+)\.xml$/i.exec(name);
  return m ? Number(m[1]) : 0;
}

function parts(entries: Map<string, FileEntry>, pattern: RegExp): FileEntry[] {
  return [...entries.entries()]
    .filter(([name]) => pattern.test(name))
    .sort(([a], [b]) => partNumber(a) - partNumber(b) || (a < b ? -1 : 1))
    .map(([, e]) => e);
}

/** Streams one part through a scanner driving `handler`. */
async function scanPart(
  zip: Uint8Array,
  entry: FileEntry,
  handler: XmlHandler,
  ctx: AnalysisContext,
): Promise<void> {
  const decoder = new TextDecoder("utf-8");
  const scanner = new XmlScanner(handler);
  await inflate(zip, entry, ctx, (chunk) => scanner.write(decoder.decode(chunk, { stream: true })));
  scanner.write(decoder.decode());
  scanner.end();
}

/** Adds to the builder, stopping the part being read once the text budget is spent. */
function adder(out: TextBuilder): (text: string) => void {
  return (text) => {
    if (!out.add(text)) throw new TextFull();
  };
}

/** Word: w:t / w:delText inside runs, w:tab and w:br/w:cr in runs, a line per paragraph. */
function wordHandler(add: (t: string) => void): XmlHandler {
  let inText = 0;
  let inRun = 0;
  let fallback = 0;
  return {
    open(name) {
      if (name === "Fallback") fallback++;
      else if (name === "r") inRun++;
      else if (name === "t" || name === "delText") inText++;
      else if (inRun && !fallback && name === "tab") add("\t");
      else if (inRun && !fallback && (name === "br" || name === "cr")) add("\n");
    },
    close(name) {
      if (name === "Fallback") fallback = Math.max(0, fallback - 1);
      else if (name === "r") inRun = Math.max(0, inRun - 1);
      else if (name === "t" || name === "delText") inText = Math.max(0, inText - 1);
      else if (name === "p" && !fallback) add("\n");
    },
    text(t) {
      if (inText && !fallback) add(t);
    },
  };
}

/** DrawingML (slides, notes, xlsx comments): a:t text, a line per paragraph. */
function drawingHandler(add: (t: string) => void, lineAfter: string[]): XmlHandler {
  let inText = 0;
  return {
    open(name) {
      if (name === "t") inText++;
      else if (name === "br") add("\n");
    },
    close(name) {
      if (name === "t") inText = Math.max(0, inText - 1);
      else if (lineAfter.includes(name)) add("\n");
    },
    text(t) {
      if (inText) add(t);
    },
  };
}

/**
 * Reads xl/sharedStrings.xml: one string per <si>, phonetic readings (<rPh>) left out. Reading
 * stops once the strings hold more characters than the text budget: no cell could show the rest.
 */
async function sharedStrings(
  zip: Uint8Array,
  entry: FileEntry,
  ctx: AnalysisContext,
  budget: number,
): Promise<{ strings: string[]; cut: boolean }> {
  const strings: string[] = [];
  let current: string[] = [];
  let inText = 0;
  let phonetic = 0;
  let kept = 0;
  try {
    await scanPart(
      zip,
      entry,
      {
        open(name) {
          if (name === "si") current = [];
          else if (name === "t") inText++;
          else if (name === "rPh") phonetic++;
        },
        close(name) {
          if (name === "t") inText = Math.max(0, inText - 1);
          else if (name === "rPh") phonetic = Math.max(0, phonetic - 1);
          else if (name === "si") {
            const s = current.join("");
            kept += s.length;
            strings.push(s);
            current = [];
            if (kept > budget) throw new TextFull();
          }
        },
        text(t) {
          if (inText && !phonetic) current.push(t);
        },
      },
      ctx,
    );
  } catch (err) {
    if (!(err instanceof TextFull)) throw err;
    return { strings, cut: true };
  }
  return { strings, cut: false };
}

/** The t="…" attribute of a <c> tag, without a regular expression per cell. */
function cellType(attributes: string): string {
  const at = attributes.indexOf(' t="');
  if (at === -1) return "n";
  const end = attributes.indexOf('"', at + 4);
  return end === -1 ? "n" : attributes.slice(at + 4, end);
}

/** A worksheet row by row: cells joined by tabs, shared strings resolved, numbers as stored. */
function sheetHandler(add: (t: string) => void, shared: string[]): XmlHandler {
  let row: string[] = [];
  let type = "n";
  let value = "";
  let inline = "";
  let inValue = 0;
  let inInline = 0;
  let inText = 0;
  let phonetic = 0;
  return {
    open(name, attributes) {
      switch (name) {
        case "row":
          row = [];
          break;
        case "c":
          type = cellType(attributes);
          value = "";
          inline = "";
          break;
        case "v":
          inValue++;
          break;
        case "is":
          inInline++;
          break;
        case "t":
          inText++;
          break;
        case "rPh":
          phonetic++;
          break;
      }
    },
    close(name) {
      switch (name) {
        case "v":
          inValue = Math.max(0, inValue - 1);
          break;
        case "is":
          inInline = Math.max(0, inInline - 1);
          break;
        case "t":
          inText = Math.max(0, inText - 1);
          break;
        case "rPh":
          phonetic = Math.max(0, phonetic - 1);
          break;
        case "c": {
          let cell: string;
          if (type === "s") cell = shared[Number(value.trim())] ?? "";
          else if (type === "inlineStr") cell = inline;
          else if (type === "b") cell = value === "1" ? "TRUE" : value === "0" ? "FALSE" : "";
          else if (type === "e") cell = "";
          else cell = value.trim();
          if (cell) row.push(cell);
          break;
        }
        case "row":
          if (row.length) add(`${row.join("\t")}\n`);
          row = [];
          break;
      }
    },
    text(t) {
      if (inValue) value += t;
      else if (inInline && inText && !phonetic) inline += t;
    },
  };
}

/**
 * Extracts the text of an OOXML package into `out`; returns whether the text budget cut it.
 * ExpandedLimit and AnalysisTimeout propagate.
 */
export async function extractOoxml(
  kind: OoxmlKind,
  zip: Uint8Array,
  list: Entry[],
  ctx: AnalysisContext,
  out: TextBuilder,
): Promise<boolean> {
  const entries = new Map<string, FileEntry>();
  for (const e of list) if (!e.directory) entries.set(e.filename.toLowerCase(), e);
  const add = adder(out);
  const run = async (entry: FileEntry, handler: XmlHandler) => {
    await scanPart(zip, entry, handler, ctx);
    add("\n");
  };
  let cut = false;
  try {
    if (kind === "docx") {
      const word = [
        ...parts(entries, /^word\/document\.xml$/),
        ...parts(entries, /^word\/header\d*\.xml$/),
        ...parts(entries, /^word\/footer\d*\.xml$/),
        ...parts(entries, /^word\/(footnotes|endnotes|comments)\.xml$/),
      ];
      for (const e of word) await run(e, wordHandler(add));
    } else if (kind === "pptx") {
      const slides = [
        ...parts(entries, /^ppt\/slides\/slide\d+\.xml$/),
        ...parts(entries, /^ppt\/notesslides\/notesslide\d+\.xml$/),
      ];
      for (const e of slides) await run(e, drawingHandler(add, ["p"]));
    } else {
      const sst = entries.get("xl/sharedstrings.xml");
      const shared = sst
        ? await sharedStrings(zip, sst, ctx, ctx.textRemaining)
        : { strings: [], cut: false };
      cut = shared.cut;
      for (const e of parts(entries, /^xl\/worksheets\/sheet\d+\.xml$/))
        await run(e, sheetHandler(add, shared.strings));
      for (const e of parts(entries, /^xl\/comments\d*\.xml$/))
        await run(e, drawingHandler(add, ["comment"]));
    }
  } catch (err) {
    if (!(err instanceof TextFull)) throw err;
    return true;
  }
  return cut || out.cut;
}
