// A streaming XML tokenizer for pulling text out of OOXML parts: fed decoded chunks of any size, it
// reports start tags (local name + raw attributes), end tags and text, in one linear pass with
// indexOf. No DOM, no validation: the sharedStrings of a 10 MB workbook go through in well under a
// second, and a part of any size needs no more memory than its longest tag or text run.

export interface XmlHandler {
  /** A start tag or an empty-element tag (`empty`); `name` is the local name (prefix dropped). */
  open(name: string, attributes: string, empty: boolean): void;
  close(name: string): void;
  /** Character data, entity references decoded. */
  text(text: string): void;
}

const ENTITY = /&(?:#(\d+)|#x([0-9a-fA-F]+)|(amp|lt|gt|quot|apos));/g;
const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

export function decodeXmlEntities(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(ENTITY, (m, dec?: string, hex?: string, named?: string) => {
    if (named) return NAMED[named] ?? m;
    const code = dec ? Number(dec) : parseInt(hex ?? "", 16);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
  });
}

function localName(qname: string): string {
  const colon = qname.indexOf(":");
  return colon === -1 ? qname : qname.slice(colon + 1);
}

/** Longest text run or tag kept while waiting for its end; past it the run is passed on in pieces. */
const MAX_CARRY = 1 << 20;

export class XmlScanner {
  private carry = "";

  constructor(private readonly handler: XmlHandler) {}

  write(chunk: string): void {
    const s = this.carry ? this.carry + chunk : chunk;
    this.carry = "";
    const pos = this.scan(s);
    if (pos < s.length) {
      const rest = s.slice(pos);
      if (rest.length <= MAX_CARRY) this.carry = rest;
      else if (rest.charCodeAt(0) !== 0x3c) {
        // an overlong text run: pass it on, keeping a possible cut entity reference
        const amp = rest.lastIndexOf("&");
        const cut = amp !== -1 && rest.indexOf(";", amp) === -1 && rest.length - amp < 16 ? amp : rest.length;
        this.handler.text(decodeXmlEntities(rest.slice(0, cut)));
        this.carry = rest.slice(cut);
      }
      // an overlong tag is dropped: no OOXML tag is a megabyte long
    }
  }

  end(): void {
    if (this.carry && this.carry.charCodeAt(0) !== 0x3c) this.handler.text(decodeXmlEntities(this.carry));
    this.carry = "";
  }

  /** Handles every complete token of `s`; returns where the unfinished rest starts. */
  private scan(s: string): number {
    const h = this.handler;
    let pos = 0;
    for (;;) {
      const lt = s.indexOf("<", pos);
      if (lt === -1) {
        // text up to the end; keep it until the next "<" so entity references are never cut
        return pos;
      }
      if (lt > pos) h.text(decodeXmlEntities(s.slice(pos, lt)));
      const c = s.charCodeAt(lt + 1);
      if (c === 0x21 /* ! */) {
        if (s.startsWith("<!--", lt)) {
          const end = s.indexOf("-->", lt + 4);
          if (end === -1) return lt;
          pos = end + 3;
        } else if (s.startsWith("<![CDATA[", lt)) {
          const end = s.indexOf("]]>", lt + 9);
          if (end === -1) return lt;
          h.text(s.slice(lt + 9, end));
          pos = end + 3;
        } else {
          const end = s.indexOf(">", lt + 2);
          if (end === -1) return lt;
          pos = end + 1;
        }
        continue;
      }
      if (c === 0x3f /* ? */) {
        const end = s.indexOf("?>", lt + 2);
        if (end === -1) return lt;
        pos = end + 2;
        continue;
      }
      const gt = this.tagEnd(s, lt);
      if (gt === -1) return lt;
      pos = gt + 1;
      if (c === 0x2f /* / */) {
        h.close(localName(s.slice(lt + 2, gt).trim()));
        continue;
      }
      const empty = s.charCodeAt(gt - 1) === 0x2f;
      const inner = s.slice(lt + 1, empty ? gt - 1 : gt);
      let nameEnd = 0;
      while (nameEnd < inner.length && inner.charCodeAt(nameEnd) > 0x20) nameEnd++;
      const name = localName(inner.slice(0, nameEnd));
      h.open(name, inner.slice(nameEnd), empty);
      if (empty) h.close(name);
    }
  }

  /** The ">" ending the tag at `lt`, skipping quoted attribute values; -1 if not in `s` yet. */
  private tagEnd(s: string, lt: number): number {
    const gt = s.indexOf(">", lt);
    if (gt === -1) return -1;
    // fast path: no quote holds a ">" when quotes are balanced up to the first ">"
    const tag = s.slice(lt, gt);
    if (!tag.includes('"') && !tag.includes("'")) return gt;
    let quote = 0;
    for (let i = lt + 1; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (quote) {
        if (c === quote) quote = 0;
      } else if (c === 0x22 || c === 0x27) quote = c;
      else if (c === 0x3e) return i;
    }
    return -1;
  }
}

/** The value of attribute `name` (local name, any prefix) in a raw attribute string, or null. */
export function attribute(attributes: string, name: string): string | null {
  const re = new RegExp(`(?:^|\\s)(?:[\\w.-]+:)?${name}\\s*=\\s*("([^"]*)"|'([^']*)')`);
  const m = re.exec(attributes);
  return m ? decodeXmlEntities(m[2] ?? m[3] ?? "") : null;
}
