// What the rewriter needs to know of an HTML body without parsing it: which Content-IDs it
// references (cid: URLs, RFC 2392) and where its <body> tag ends. Both work on the transfer-decoded
// bytes read as latin1, which keeps ASCII markup intact in any ASCII-based charset; in ISO-2022-JP
// a match inside a two-byte run (after ESC $ B) is not markup and is skipped.
import type { BodyCodec } from "./codec.js";

/** The longest cid: reference looked at; a Content-ID is a message-id, far shorter in practice. */
const MAX_CID_LENGTH = 998;
/** References remembered per message: beyond it more images go to the download (the safe side). */
const MAX_REFERENCES = 10_000;

const CID = /cid:([^\s"'<>()\\]+)/gi;

/** Normal form of a Content-ID for comparison: no angle brackets, URL escapes decoded, lower case. */
export function contentIdKey(value: string): string {
  let id = value.trim().replace(/^<|>$/g, "");
  try {
    id = decodeURIComponent(id);
  } catch {
    // a stray "%" is kept as it is
  }
  return id.toLowerCase();
}

/** Whether position `at` of latin1 text `s` is in ASCII mode of ISO-2022-JP (always, for others). */
function asciiAt(s: string, at: number, iso2022: boolean): boolean {
  if (!iso2022) return true;
  const escape = s.lastIndexOf("\x1b", at);
  if (escape < 0) return true;
  return s[escape + 1] === "(";
}

/** Collects cid: references from the decoded bytes of HTML parts, across chunk borders. */
export class CidReferences {
  private readonly ids = new Set<string>();

  has(contentId: string): boolean {
    return this.ids.has(contentIdKey(contentId));
  }

  /** A scanner for one HTML part; feed it decoded bytes (it returns them unchanged). */
  scanner(iso2022: boolean): BodyCodec {
    let carry = "";
    const scan = (text: string, final: boolean): void => {
      const s = carry + text;
      let scannedTo = 0;
      for (const m of s.matchAll(CID)) {
        const end = (m.index ?? 0) + m[0].length;
        // a reference running into the end of the chunk may go on in the next one
        if (!final && end === s.length) break;
        scannedTo = end;
        if (this.ids.size < MAX_REFERENCES && asciiAt(s, m.index ?? 0, iso2022))
          this.ids.add(contentIdKey(m[1] as string));
      }
      carry = final ? "" : s.slice(Math.max(scannedTo, s.length - MAX_CID_LENGTH - 4));
    };
    return {
      push(chunk) {
        scan(chunk.toString("latin1"), false);
        return chunk;
      },
      end() {
        scan("", true);
        return Buffer.alloc(0);
      },
    };
  }
}

const BODY_TAG = /<body(?=[\s>/])/gi;

/**
 * Where the first <body …> tag of `s` ends (just after its ">"; quoted attribute values may hold
 * ">"), looking from `from`; else where to look from once more text has come.
 */
export function findBodyTag(
  s: string,
  from: number,
  iso2022: boolean,
): { end: number } | { resumeAt: number } {
  const tag = new RegExp(BODY_TAG.source, "gi");
  tag.lastIndex = from;
  for (let m = tag.exec(s); m; m = tag.exec(s)) {
    if (!asciiAt(s, m.index, iso2022)) continue;
    let quote = "";
    for (let i = m.index + m[0].length; i < s.length; i++) {
      const ch = s[i];
      if (quote) {
        if (ch === quote) quote = "";
      } else if (ch === '"' || ch === "'") quote = ch;
      else if (ch === ">") return { end: i + 1 };
    }
    return { resumeAt: m.index };
  }
  // "<body" and the character after it may still be cut off at the end
  return { resumeAt: Math.max(from, s.length - 5) };
}

/**
 * Inserts `notice` right after <body…> of a decoded HTML body, or at its top when no <body> shows
 * within the first `searchBytes` (or at all). Until then the decoded bytes are held; after it they
 * pass through.
 */
export function htmlInserter(notice: Buffer, iso2022: boolean, searchBytes: number): BodyCodec {
  let held: Buffer[] = [];
  // latin1 keeps one character per byte, so an index into it is a byte offset
  let text = "";
  let from = 0;
  let done = false;
  const insert = (at: number): Buffer => {
    const all = Buffer.concat(held);
    done = true;
    held = [];
    text = "";
    return Buffer.concat([all.subarray(0, at), notice, all.subarray(at)]);
  };
  return {
    push(chunk) {
      if (done) return chunk;
      held.push(chunk);
      text += chunk.toString("latin1");
      const found = findBodyTag(text, from, iso2022);
      if ("end" in found) return insert(found.end);
      from = found.resumeAt;
      return text.length > searchBytes ? insert(0) : Buffer.alloc(0);
    },
    end() {
      return done ? Buffer.alloc(0) : insert(0);
    },
  };
}
