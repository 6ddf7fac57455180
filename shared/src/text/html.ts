// Shared by the gateway's content analysis and the add-ins' confirm checks, so both read the same text.
// HTML to plain text in one linear pass: tags dropped, script/style/title content skipped, block
// elements and <br> become line breaks, table cells tabs, white space collapsed as a browser does
// (kept inside <pre>), character references decoded. No DOM: a 25 MB HTML part stays fast.
import { decodeHTML } from "entities";

const BLOCK = new Set([
  "address",
  "article",
  "aside",
  "blockquote",
  "br",
  "dd",
  "div",
  "dl",
  "dt",
  "fieldset",
  "figure",
  "footer",
  "form",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "header",
  "hr",
  "li",
  "main",
  "nav",
  "ol",
  "p",
  "pre",
  "section",
  "table",
  "tbody",
  "thead",
  "tfoot",
  "tr",
  "ul",
]);
const CELL = new Set(["td", "th"]);
/** Elements whose content is never shown. */
const SKIP = new Set(["script", "style", "title", "template"]);

/** Index of the ">" closing the tag that starts at `lt`, minding quoted attribute values; -1 if none. */
function tagEnd(html: string, lt: number): number {
  let quote = 0;
  for (let i = lt + 1; i < html.length; i++) {
    const c = html.charCodeAt(i);
    if (quote) {
      if (c === quote) quote = 0;
    } else if (c === 0x22 || c === 0x27) {
      // a quote only opens a value after "=" (spaces allowed between)
      let j = i - 1;
      while (j > lt && html.charCodeAt(j) <= 0x20) j--;
      if (html.charCodeAt(j) === 0x3d) quote = c;
    } else if (c === 0x3e) {
      return i;
    }
  }
  return -1;
}

function tagName(html: string, from: number): string {
  let end = from;
  while (end < html.length) {
    const c = html.charCodeAt(end);
    // letters, digits, "-", ":" (o:p from Word)
    if ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a) end++;
    else if ((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x3a) end++;
    else break;
  }
  return html.slice(from, end).toLowerCase();
}

export function htmlToText(html: string): string {
  const out: string[] = [];
  let pre = 0;
  let pos = 0;
  let lineStart = true;
  const push = (t: string) => {
    out.push(t);
    lineStart = t.endsWith("\n");
  };
  const text = (raw: string) => {
    if (!raw) return;
    let t = pre ? raw : raw.replace(/[ \t\r\n\f]+/g, " ");
    if (lineStart && !pre) t = t.trimStart();
    if (!t) return;
    if (t.includes("&")) t = decodeHTML(t);
    push(t.replace(/\u00a0/g, " "));
  };
  while (pos < html.length) {
    const lt = html.indexOf("<", pos);
    if (lt === -1) {
      text(html.slice(pos));
      break;
    }
    text(html.slice(pos, lt));
    const next = html.charCodeAt(lt + 1);
    if (html.startsWith("<!--", lt)) {
      const end = html.indexOf("-->", lt + 4);
      pos = end === -1 ? html.length : end + 3;
      continue;
    }
    if (next === 0x21 || next === 0x3f) {
      // <!DOCTYPE …>, <![CDATA[…]]>, <?xml …?>
      const end = html.indexOf(">", lt + 2);
      pos = end === -1 ? html.length : end + 1;
      continue;
    }
    const closing = next === 0x2f;
    const name = tagName(html, lt + (closing ? 2 : 1));
    if (!name) {
      // a "<" that starts no tag is text
      push("<");
      pos = lt + 1;
      continue;
    }
    const end = tagEnd(html, lt);
    if (end === -1) break;
    pos = end + 1;
    if (!closing && SKIP.has(name)) {
      if (html.charCodeAt(end - 1) === 0x2f) continue;
      // skip to the matching end tag, case-insensitively
      const re = new RegExp(`</${name}\\s*>`, "gi");
      re.lastIndex = pos;
      const m = re.exec(html);
      pos = m ? m.index + m[0].length : html.length;
      continue;
    }
    if (name === "pre") pre = closing ? Math.max(0, pre - 1) : pre + 1;
    // a block starts on a new line (one, however many blocks meet); <br> always breaks
    if (name === "br") push("\n");
    else if (BLOCK.has(name)) {
      if (!lineStart) push("\n");
    } else if (CELL.has(name) && !closing) push("\t");
  }
  return tidy(out.join(""));
}

/** Trims spaces around line breaks and keeps at most one empty line in a row. */
export function tidy(text: string): string {
  return text
    .replace(/\r\n?/g, "\n")
    .replace(/[ \t]*\n[ \t]*/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}
