// Workarounds for @zone-eu/mailsplit 5.4.30, which loses or repeats the bytes of a part whose
// header block is ended by a delimiter line instead of a blank line ("Content-Type: text/plain"
// directly followed by "--b"):
// - before a sibling delimiter ("--b") the part is never handed out: its header lines are lost;
// - before a closing delimiter ("--b--") it is handed out, and when both lie in the same input
//   chunk its header lines come again at the start of the delimiter's data chunk.
// Found by feeding such messages through Splitter → Joiner at many chunk sizes (separate.test.ts).
import { Splitter, type MimeNode, type SplitterOptions } from "@zone-eu/mailsplit";

/** The splitter's own state used here (not in its type declarations). */
interface SplitterState {
  node: MimeNode | null;
  newNode(parent?: MimeNode | false): void;
}

/** A Splitter that hands out a header-only part before the sibling delimiter that ends it. */
export function completeSplitter(options: SplitterOptions): Splitter {
  const splitter = new Splitter(options);
  const state = splitter as unknown as SplitterState;
  const newNode = state.newNode.bind(splitter);
  state.newNode = (parent) => {
    const current = state.node;
    if (current && current._headerlen && !current.headers) {
      current.parseHeaders();
      splitter.push(current);
    }
    newNode(parent);
  };
  return splitter;
}

/** Whether a header block lacks its closing blank line (the case the splitter repeats). */
export function unterminatedHead(head: Buffer): boolean {
  const end = head.length;
  return !(
    head[end - 1] === 0x0a &&
    (head[end - 2] === 0x0a || (head[end - 2] === 0x0d && head[end - 3] === 0x0a))
  );
}

/**
 * How many leading bytes of `data`, the chunk after an unterminated header block `head`, repeat
 * the end of that block: everything before the delimiter line, if it is a copy of head's end.
 */
export function repeatedHeadBytes(head: Buffer, data: Buffer): number {
  if (data[0] === 0x2d || data[0] === 0x0d || data[0] === 0x0a) return 0;
  const delimiter = data.indexOf("\n--");
  if (delimiter < 0) return 0;
  const k = delimiter + 1;
  return k <= head.length && head.subarray(head.length - k).equals(data.subarray(0, k)) ? k : 0;
}
