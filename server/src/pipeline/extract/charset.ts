// Bytes to text for any charset a Japanese mailbox meets: declared labels normalised to what
// TextDecoder knows (Node's full ICU: ISO-2022-JP, Shift_JIS/CP932, EUC-JP, …), and detection for
// undeclared text: BOM, ISO-2022-JP escapes, valid UTF-8, else EUC-JP if it decodes cleanly and
// Shift_JIS failing that (Excel's CSV export on Japanese Windows).

const ALIASES: Record<string, string> = {
  cp932: "shift_jis",
  "ms-932": "shift_jis",
  "windows-932": "shift_jis",
  sjis: "shift_jis",
  "x-sjis": "shift_jis",
  "shift-jis": "shift_jis",
  "shift_jis-2004": "shift_jis",
  shift_jisx0213: "shift_jis",
  "x-ms-cp932": "shift_jis",
  "iso-2022-jp-1": "iso-2022-jp",
  "iso-2022-jp-2": "iso-2022-jp",
  "iso-2022-jp-3": "iso-2022-jp",
  "iso-2022-jp-2004": "iso-2022-jp",
  cp50220: "iso-2022-jp",
  cp50221: "iso-2022-jp",
  cp50222: "iso-2022-jp",
  jis: "iso-2022-jp",
  "x-euc-jp": "euc-jp",
  eucjp: "euc-jp",
  "euc-jis-2004": "euc-jp",
  cp51932: "euc-jp",
  "eucjp-ms": "euc-jp",
  utf8: "utf-8",
  "us-ascii": "utf-8",
  ascii: "utf-8",
  "ansi_x3.4-1968": "utf-8",
};

/** A TextDecoder label for `charset`, or null when unknown (the caller then detects). */
export function decoderLabel(charset: string | false | null | undefined): string | null {
  if (!charset) return null;
  const label = charset
    .trim()
    .toLowerCase()
    .replace(/^["']|["']$/g, "");
  const mapped = ALIASES[label] ?? label;
  try {
    new TextDecoder(mapped);
    return mapped;
  } catch {
    return null;
  }
}

function validUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

function decodesCleanly(label: string, bytes: Uint8Array): boolean {
  try {
    new TextDecoder(label, { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

const SAMPLE_BYTES = 1024 * 1024;

/** Guesses the charset of undeclared text from (a sample of) its bytes. */
export function detectCharset(bytes: Uint8Array): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return "utf-8";
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return "utf-16le";
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return "utf-16be";
  let sample = bytes.subarray(0, SAMPLE_BYTES);
  // do not judge by a multi-byte character cut at the end of the sample
  if (sample.length < bytes.length) {
    let end = sample.length;
    while (end > sample.length - 4 && end > 0 && (sample[end - 1] as number) >= 0x80) end--;
    sample = sample.subarray(0, end);
  }
  let high = false;
  for (let i = 0; i < sample.length; i++) {
    if ((sample[i] as number) >= 0x80) {
      high = true;
      break;
    }
  }
  if (!high) return sample.includes(0x1b) ? "iso-2022-jp" : "utf-8";
  if (validUtf8(sample)) return "utf-8";
  if (decodesCleanly("euc-jp", sample) && !decodesCleanly("shift_jis", sample)) return "euc-jp";
  return "shift_jis";
}

/**
 * Decodes `bytes` as `charset` when that is a known label other than US-ASCII/UTF-8 (those are
 * often declared for text that is not), detecting otherwise. Only a prefix is decoded that holds
 * more than `maxChars` characters (the caller's text budget), so a 25 MB text does not become a
 * 25 M-character string; `cut` says whether bytes were left undecoded.
 */
export function decodeText(
  bytes: Uint8Array,
  charset: string | false | null | undefined,
  maxChars: number,
): { text: string; cut: boolean } {
  let label = decoderLabel(charset);
  if (!label || label === "utf-8") label = detectCharset(bytes);
  // no character takes more than 4 bytes (a CRLF, 2 bytes, still counts 1 once normalised)
  const limit = Math.min(Number.MAX_SAFE_INTEGER, Math.max(0, maxChars) * 4 + 4);
  const cut = bytes.length > limit;
  return { text: new TextDecoder(label).decode(cut ? bytes.subarray(0, limit) : bytes), cut };
}

/** CRLF and CR to LF: the line endings every extractor hands to the rules. */
export function normalizeNewlines(text: string): string {
  return text.replace(/\r\n?/g, "\n");
}
