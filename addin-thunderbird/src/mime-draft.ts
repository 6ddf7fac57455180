// A saved draft → the message to hand to the gateway (api mode). Thunderbird's draft carries
// headers that only make sense inside Thunderbird (X-Mozilla-*, X-Identity-Key, X-Account-Key,
// Fcc): they are dropped. Everything else, including Bcc (the gateway takes the envelope from it
// and never relays it) and the body, is kept byte for byte.

const DRAFT_ONLY = /^(x-mozilla-[!-9;-~]*|x-identity-key|x-account-key|fcc)$/i;

/** Where the header block ends: the index of the empty line's first byte and its length. */
function headerEnd(bytes: Uint8Array): { at: number; length: number } | null {
  for (let i = 0; i < bytes.length - 1; i++) {
    if (bytes[i] !== 0x0a) continue;
    if (bytes[i + 1] === 0x0a) return { at: i + 1, length: 1 };
    if (bytes[i + 1] === 0x0d && bytes[i + 2] === 0x0a) return { at: i + 1, length: 2 };
  }
  return null;
}

export function submissionFromDraft(bytes: Uint8Array): Uint8Array {
  const end = headerEnd(bytes);
  if (!end) throw new Error("the saved draft has no header/body separator");
  // Header bytes are 7-bit or raw 8-bit: one char per byte, and back unchanged.
  const header = Array.from(bytes.subarray(0, end.at), (b) => String.fromCharCode(b)).join("");
  const lines = header.split(/(?<=\n)/);
  // An mbox separator ("From - Thu Nov 26 …") is not a header field.
  if (lines[0]?.startsWith("From ")) lines.shift();
  const kept: string[] = [];
  let dropping = false;
  for (const line of lines) {
    const continuation = line.startsWith(" ") || line.startsWith("\t");
    if (!continuation) dropping = DRAFT_ONLY.test(line.slice(0, Math.max(0, line.indexOf(":"))).trim());
    if (!dropping) kept.push(line);
  }
  const head = Uint8Array.from(kept.join(""), (c) => c.charCodeAt(0));
  const out = new Uint8Array(head.length + bytes.length - end.at);
  out.set(head, 0);
  out.set(bytes.subarray(end.at), head.length);
  return out;
}
