// Policy regular expressions (subjectMatches, bodyMatches, contentMatches) run on up to 2 M
// characters of text the sender controls. JavaScript's RegExp backtracks, so one pattern such as
// `(a+)+$` can stall the process for hours; RE2 (re2js, a pure JavaScript port) matches in time
// linear in the text, and refuses what it cannot do in linear time (backreferences, lookaround).
// The gateway and anything else that evaluates rules use this one module, so they agree.
import { RE2JS } from "re2js";

/**
 * What JavaScript's `\s` matches: ASCII white space plus \v, U+00A0, the Unicode space separators
 * (U+3000, the ideographic space, is everywhere in Japanese text) and U+FEFF. RE2's `\s` is
 * ASCII only, so `\s` is rewritten to this class and keeps the meaning policies were written for.
 */
const JS_SPACE = String.raw`\t\n\x{b}\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}`;

/** JavaScript's long property keys that RE2 spells as the bare value: \p{Script=Han} is \p{Han}. */
const PROPERTY_KEY = /^(?:Script|sc|General_Category|gc)=(.+)$/;

export type RegexCompilation = { ok: true; regex: RE2JS } | { ok: false; error: string };

class Unsupported extends Error {}

/**
 * Rewrites the JavaScript spellings RE2 lacks or reads differently (`\s`, `\S`, `\uXXXX`,
 * `\u{X}`, `\p{Script=X}`) into RE2 syntax; everything else is passed through for RE2 to judge.
 */
function toRe2(source: string): string {
  let out = "";
  let inClass = false;
  let classStart = false; // a ']' right after '[' or '[^' is a literal in RE2
  for (let i = 0; i < source.length; i++) {
    const c = source[i] as string;
    if (c === "\\") {
      const next = source[i + 1];
      if (next === undefined) return out + c; // RE2 reports the trailing backslash
      classStart = false;
      if (next === "Q") {
        // \Q…\E: literal text, backslashes included
        const end = source.indexOf("\\E", i + 2);
        const stop = end === -1 ? source.length : end + 2;
        out += source.slice(i, stop);
        i = stop - 1;
        continue;
      }
      if (next === "s") {
        out += inClass ? JS_SPACE : `[${JS_SPACE}]`;
        i++;
        continue;
      }
      if (next === "S") {
        if (inClass)
          throw new Unsupported(
            String.raw`\S inside [...] is not supported: write [^\s...] or list the characters you mean`,
          );
        out += `[^${JS_SPACE}]`;
        i++;
        continue;
      }
      if (next === "u") {
        const braced = /^\{([0-9a-fA-F]{1,6})\}/.exec(source.slice(i + 2));
        const plain = /^[0-9a-fA-F]{4}/.exec(source.slice(i + 2));
        const hex = braced?.[1] ?? plain?.[0];
        if (hex !== undefined) {
          out += `\\x{${hex}}`;
          i += 1 + (braced ? braced[0].length : 4);
          continue;
        }
      }
      if ((next === "p" || next === "P") && source[i + 2] === "{") {
        const close = source.indexOf("}", i + 3);
        const key = close === -1 ? null : PROPERTY_KEY.exec(source.slice(i + 3, close));
        if (key) {
          out += `\\${next}{${key[1]}}`;
          i = close;
          continue;
        }
      }
      out += c + next;
      i++;
      continue;
    }
    if (inClass) {
      if (c === "[" && source[i + 1] === ":") {
        // a POSIX class such as [:alpha:] is one item, its ']' does not close the class
        const end = source.indexOf(":]", i + 2);
        if (end !== -1) {
          out += source.slice(i, end + 2);
          i = end + 1;
          classStart = false;
          continue;
        }
      }
      if (c === "]" && !classStart) inClass = false;
      classStart = c === "^" && classStart && out.endsWith("[");
    } else if (c === "[") {
      inClass = true;
      classStart = true;
    }
    out += c;
  }
  return out;
}

/** RE2's reason, said in terms of what the admin wrote (RE2 quotes it with the flag it was given). */
function explain(err: unknown): string {
  const message = (err instanceof Error ? err.message : String(err))
    .replace(/^error parsing regexp: /, "")
    .replace("`(?i)", "`");
  if (/`\(\?<?[=!]/.test(message))
    return "lookahead and lookbehind ((?=…), (?!…), (?<=…), (?<!…)) are not supported";
  if (/invalid escape sequence: `\\[1-9k]/.test(message))
    return String.raw`backreferences (\1, \k<name>) are not supported`;
  return message;
}

/**
 * Compiles a policy pattern: case-insensitive, Unicode-aware, RE2 syntax with the JavaScript
 * spellings above accepted; an error says why the pattern was refused.
 */
export function compilePolicyRegex(source: string): RegexCompilation {
  try {
    return { ok: true, regex: RE2JS.compile(toRe2(source), RE2JS.CASE_INSENSITIVE) };
  } catch (err) {
    if (err instanceof Unsupported) return { ok: false, error: err.message };
    return { ok: false, error: explain(err) };
  }
}

/** Compiled patterns by their source text: a policy is merged per message, its patterns are not. */
const compiled = new Map<string, RE2JS>();

/**
 * Whether the pattern occurs anywhere in the text. Patterns reach here validated (the policy
 * schema refuses what RE2 cannot compile); one that still fails to compile throws rather than
 * match nothing, so a rule never passes a message silently.
 */
export function regexMatches(source: string, text: string): boolean {
  let regex = compiled.get(source);
  if (!regex) {
    const result = compilePolicyRegex(source);
    if (!result.ok) throw new Error(`policy regular expression ${JSON.stringify(source)}: ${result.error}`);
    regex = result.regex;
    compiled.set(source, regex);
  }
  return regex.test(text);
}
