// Entry names come from the sender's attachments and are written into an archive the recipient
// extracts: a name must not climb out of the extraction folder, hide its real extension behind a
// right-to-left override, or fail on Windows (reserved characters and device names, length).

/** Longest entry name, in characters (code points), unless told otherwise. */
export const DEFAULT_MAX_NAME_LENGTH = 120;

/**
 * Longest name in UTF-8 bytes, whatever the length in characters: ext4, XFS and APFS refuse a file
 * name over 255 bytes, which 120 CJK characters (3 bytes each) already are.
 */
const MAX_NAME_BYTES = 255;

/** The name an entry gets when nothing usable is left of the one given. */
const FALLBACK_NAME = "attachment";

/** An extension longer than this is part of the name, not something to keep when cutting. */
const MAX_EXTENSION_LENGTH = 16;

// C0 and C1 controls (NUL included) and DEL; the Unicode bidi controls (LRM, RLM, ALM, the
// embeddings and overrides U+202A–U+202E, the isolates U+2066–U+2069), and BOM / zero-width no-break.
// eslint-disable-next-line no-control-regex -- removing control characters is the point
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/gu;
// Characters Windows refuses in file names; `/`, `\` and `:` never get here (see baseName).
const WINDOWS_RESERVED = /[<>"|?*]/g;
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])$/i;

/** What follows the last separator: "../../etc/passwd" → "passwd", "C:\\x\\a.txt" → "a.txt". */
function baseName(name: string): string {
  const parts = name.split(/[/\\:]/);
  return parts[parts.length - 1] ?? "";
}

function splitExtension(name: string): [stem: string, extension: string] {
  const dot = name.lastIndexOf(".");
  if (dot <= 0 || name.length - dot > MAX_EXTENSION_LENGTH + 1) return [name, ""];
  return [name.slice(0, dot), name.slice(dot)];
}

const length = (text: string) => Array.from(text).length;
const bytes = (text: string) => Buffer.byteLength(text, "utf8");

/** The longest start of `text` within `max` code points and `maxBytes` bytes: never half a character. */
function head(text: string, max: number, maxBytes: number): string {
  let out = "";
  for (const char of Array.from(text).slice(0, Math.max(0, max))) {
    if (bytes(out + char) > maxBytes) break;
    out += char;
  }
  return out;
}

/** `stem` cut so that `stem + tail` fits `max` code points and MAX_NAME_BYTES. */
const fit = (stem: string, tail: string, max: number) =>
  head(stem, max - length(tail), MAX_NAME_BYTES - bytes(tail)) + tail;

/** Cuts to `max` code points and MAX_NAME_BYTES, keeping the extension. */
function cap(name: string, max: number): string {
  if (length(name) <= max && bytes(name) <= MAX_NAME_BYTES) return name;
  const [stem, extension] = splitExtension(name);
  return fit(stem, length(extension) < max ? extension : "", max);
}

/** One name made harmless; the result is never empty and at most `maxLength` code points. */
export function safeEntryName(name: string, maxLength = DEFAULT_MAX_NAME_LENGTH): string {
  let safe = baseName(name.normalize("NFC").replace(INVISIBLE, ""))
    .replace(WINDOWS_RESERVED, "_")
    // Windows drops trailing dots and spaces, so "a.exe." would extract as "a.exe".
    .replace(/[. ]+$/, "")
    .trim();
  if (WINDOWS_DEVICE.test(splitExtension(safe)[0])) safe = `_${safe}`;
  return cap(safe || FALLBACK_NAME, maxLength);
}

/**
 * The names made harmless and unique: a later duplicate becomes "name (2).ext", "name (3).ext"…
 * Unique regardless of case, since Windows and macOS file systems ignore it.
 */
export function uniqueEntryNames(names: readonly string[], maxLength = DEFAULT_MAX_NAME_LENGTH): string[] {
  const taken = new Set<string>();
  return names.map((given) => {
    const safe = safeEntryName(given, maxLength);
    let name = safe;
    for (let n = 2; taken.has(name.toLowerCase()); n++) {
      const [stem, extension] = splitExtension(safe);
      const suffix = ` (${n})`;
      name = fit(stem, suffix + extension, maxLength);
    }
    taken.add(name.toLowerCase());
    return name;
  });
}
