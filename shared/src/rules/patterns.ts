// Compiled matchers, cached by their source text: a policy is merged per message, its patterns are not.
const globs = new Map<string, RegExp>();
const regexes = new Map<string, RegExp>();

/** "*@corp.example", "new-*@corp.example": * is any run of characters; case-insensitive, whole string. */
export function globMatches(pattern: string, value: string): boolean {
  let re = globs.get(pattern);
  if (!re) {
    const body = pattern
      .split("*")
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*");
    re = new RegExp(`^${body}$`, "i");
    globs.set(pattern, re);
  }
  return re.test(value);
}

/** Policy regexes are matched case-insensitively with Unicode semantics. */
export function regexMatches(source: string, text: string): boolean {
  let re = regexes.get(source);
  if (!re) {
    re = new RegExp(source, "iu");
    regexes.set(source, re);
  }
  return re.test(text);
}

/** NFKC plus lower case, so 全角 "ＡＢＣ" and "abc" compare equal. */
export function normalizeText(text: string): string {
  return text.normalize("NFKC").toLowerCase();
}

/** Keyword search in an already normalised text (see normalizeText). */
export function containsNormalized(haystack: string, words: readonly string[]): boolean {
  return words.some((w) => haystack.includes(normalizeText(w)));
}
