// Address and file-name patterns with * wildcards. Matched piece by piece with indexOf, not with a
// RegExp: `^a.*a.*a.*…$` backtracks polynomially, and a file name is as long as the sender likes.

/** The literal pieces between the stars of a pattern, lower-cased; cached by the pattern. */
const globs = new Map<string, string[]>();

/** "*@corp.example", "new-*@corp.example": * is any run of characters; case-insensitive, whole string. */
export function globMatches(pattern: string, value: string): boolean {
  let pieces = globs.get(pattern);
  if (!pieces) {
    pieces = pattern.toLowerCase().split("*");
    globs.set(pattern, pieces);
  }
  const text = value.toLowerCase();
  const first = pieces[0] as string;
  if (pieces.length === 1) return text === first;
  const last = pieces[pieces.length - 1] as string;
  if (text.length < first.length + last.length || !text.startsWith(first) || !text.endsWith(last))
    return false;
  // Each middle piece at its leftmost place after the one before: if any placement fits, this one does.
  const end = text.length - last.length;
  let at = first.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const piece = pieces[i] as string;
    const found = text.indexOf(piece, at);
    if (found === -1 || found + piece.length > end) return false;
    at = found + piece.length;
  }
  return true;
}

/** NFKC plus lower case, so 全角 "ＡＢＣ" and "abc" compare equal. */
export function normalizeText(text: string): string {
  return text.normalize("NFKC").toLowerCase();
}

/** Keyword search in an already normalised text (see normalizeText). */
export function containsNormalized(haystack: string, words: readonly string[]): boolean {
  return words.some((w) => haystack.includes(normalizeText(w)));
}
