// Personal data (PII) counting: Japanese phone numbers, Japanese postal addresses, マイナンバー
// (individual numbers), payment card numbers and e-mail addresses in message and attachment text.
//
// The gateway and the add-ins use the counts for rules like "more than 10 phone numbers in an
// external mail → approval". Counting is by occurrence: the same phone number twice counts 2.
//
// How it works: the text is normalised with Unicode NFKC (so full-width digits, letters, ＠, －,
// （ ）and the ideographic space become ASCII) and then read once, left to right, by a scanner whose
// state is a handful of numbers and two buffers of 77 bytes. No regular expression ever runs over
// the input itself (regular expressions only classify candidates of at most 77 characters),
// so the time is linear in the input, whatever the input. Because the scanner carries all of its
// state from one character to the next, `PiiCounter` feeds it chunk after chunk and gets exactly
// the result `countPii` gets for the whole text.
//
// THE RULES, each with its source
//
// Normalisation — Unicode NFKC (UAX #15, Unicode Normalization Forms). After NFKC these
// characters also count as a hyphen between digits: ー (U+30FC, which NFKC leaves alone), − (U+2212)
// and the dashes ‐‑‒–—― (U+2010–U+2015); Japanese documents use all of them in phone numbers and
// postal codes. A space between digits means U+0020 only (after NFKC this includes the ideographic
// space U+3000 and NBSP); a tab or a line break always separates.
//
// Digit runs — digits joined by single joiners: a hyphen, a space, "(", ")", or the combinations
// ")" + hyphen/space, hyphen/space + "(", and "." (which poisons the run: 3.0312345678 or
// 192.168.0312345678 are not phone numbers). A joiner is only a joiner between two digits. A run
// splits into tokens at its spaces. Each run yields either ONE item, when the whole run is one
// phone/マイナンバー/card number written with spaces ("03 1234 5678", "+81 90 1234 5678",
// "4111 1111 1111 1111"), or else one item per token that is an item on its own
// ("03-1234-5678 090-1234-5678" is two phone numbers). This is what "not part of a longer digit
// run" means here: "1234 5678 9018 3456" is neither a マイナンバー nor anything else, a 16-digit card
// number never also yields a phone number, "0312345678901" is not a phone number. Letters next to a
// number do not matter ("TEL03-1234-5678" is a phone number). Known limitation: several numbers
// written with spaces inside AND separated only by spaces ("03 1234 5678 06 1234 5678") count 0.
//
// phone — 総務省「電気通信番号計画」(令和元年総務省告示第6号) and the 総務省 list of area codes
// (市外局番の一覧):
//   * 10 digits "0ABCDEFGHJ", second digit not 0 (00 is the international prefix, 010 the
//     international call prefix), not starting 020/050/060/070/080/090 (those are 11-digit
//     services): fixed lines, 0120 / 0570 / 0180 / 0990 services. Written without separators, or
//     as area code (2–5 digits including the 0) + local exchange (1–4 digits) + subscriber number
//     (4 digits), total 10: 03-1234-5678, 045-123-4567, 0466-12-3456, 01267-2-3456; or 4-3-3 for
//     0120 / 0570 / 0180 / 0990 (0120-123-456). Separators: hyphen or space, or parentheses:
//     06(1234)5678, (03)1234-5678, (03) 1234-5678.
//   * 11 digits: 070/080/090 (mobile), 050 (IP phone) + 8 digits written 3-4-4 or without
//     separators; 0800 (free dial) + 7 digits written 4-3-4.
//   * international (ITU-T E.164, country code 81, national trunk prefix 0 dropped; the
//     "(0)" of ITU-T E.123 style business cards and a superfluous 0 are accepted): +81 followed by a
//     number that is one of the above once its 0 is put back: +81-3-1234-5678, +81 90 1234 5678,
//     +81 (0)3 1234 5678, +81312345678.
//   Not: dates (2026-11-27: 8 digits), postal codes (7 digits), parts of longer runs.
//
// postal_address — 日本郵便 postal codes (7 digits, written NNN-NNNN, since 1998) and the 47
// prefectures (地方自治法; names as in JIS X 0401) followed by a municipality (地方自治法: 市 / 町 /
// 村 and the special wards 区 of Tokyo, the wards 区 of designated cities, and the districts 郡):
//   * a postal code with the postal mark: "〒100-0001", "〒 100-0001", "〒1000001" (the mark is
//     directly before the digits or one space before them); counted once;
//   * a postal code NNN-NNNN without the mark only when a prefecture name starts within 4
//     characters (none of them a digit) after it: "100-0001 東京都…" and CSV "100-0001","東京都…";
//   * a prefecture name followed (optionally after one space) by a municipality name of 1–7
//     characters (kanji incl. 々〆ヶヵ, katakana, hiragana) ending in 市 / 区 / 町 / 村 / 郡:
//     東京都千代田区, 大阪府大阪市北区, 長野県北佐久郡, 埼玉県さいたま市, 兵庫県南あわじ市. To keep
//     prose out ("東京都内の区", "東京都の町村", "愛知県知事選の区", "東京都市町村…"), the name may
//     not start with 内 or a particle の は を が で へ と も や に (but にかほ市 is a city), may
//     contain hiragana only when it starts with hiragana or with 東西南北 (東かがわ市), and must
//     contain a character other than 市区町村郡. Prefecture names are matched without overlap,
//     left to right ("東京都府中市" is 東京都 + 府中市, not also 京都府).
//   * A prefecture name that starts within 4 characters after a counted (or just confirmed)
//     postal code belongs to that code's address: "〒100-0001 東京都千代田区千代田1-1" counts 1.
//
// my_number — 行政手続における特定の個人を識別するための番号の利用等に関する法律 (番号利用法)
// 第2条第5項: 12 digits, the last a check digit computed as in 平成26年総務省令第85号 第5条:
// Pn = n-th digit of the first 11 counted from the right, Qn = n + 1 (1 ≤ n ≤ 6), n − 5
// (7 ≤ n ≤ 11); r = Σ Pn × Qn mod 11; check digit = 0 when r ≤ 1, else 11 − r. Written without
// separators or 4-4-4 with hyphens or spaces (1234 5678 9018).
//
// credit_card — ISO/IEC 7812-1: 13–19 digits, last digit a Luhn check digit (ISO/IEC 7812-1
// Annex B), and an issuer prefix of a card network: 4 (Visa), 51–55 and 2221–2720 (Mastercard),
// 34 / 37 (American Express), 35 (JCB), 30 / 36 / 38 (Diners Club), 6011 / 65 (Discover).
// Written without separators or as printed on cards: a first group of 4 digits, then groups of
// 4–6 digits, the last group 1–6 digits, separated by single hyphens or spaces (4-4-4-4, Amex
// 4-6-5, Diners 4-6-4, 19 digits 4-4-4-4-3).
//
// email — an "@" directly preceded by a local-part character [A-Za-z0-9._%+-] (the common subset
// of the RFC 5322 dot-atom / WHATWG HTML "valid e-mail address" characters) and followed by a
// domain: labels of letters, digits and hyphens (RFC 1035 §2.3.1 / RFC 5890 LDH rule: 1–63
// characters, not starting or ending with a hyphen) separated by dots, at most 253 characters
// (RFC 1035 §2.3.4), at least two labels, the last one a top-level domain: 2+ letters or an IDNA
// "xn--" label (RFC 3696 §2: TLDs are not all-numeric). Full-width ＠ and letters are normalised by
// NFKC. An "@" directly after a counted address's domain starts no second address (a@b.com@c.com
// counts 1). Addresses with non-ASCII characters (山田@例え.jp) are not counted.

export type PiiKind = "phone" | "postal_address" | "my_number" | "credit_card" | "email";
export type PiiCounts = Record<PiiKind, number>;

export const PII_KINDS: readonly PiiKind[] = Object.freeze([
  "phone",
  "postal_address",
  "my_number",
  "credit_card",
  "email",
] as PiiKind[]);

export function emptyPiiCounts(): PiiCounts {
  return { phone: 0, postal_address: 0, my_number: 0, credit_card: 0, email: 0 };
}

export function addPiiCounts(a: PiiCounts, b: PiiCounts): PiiCounts {
  return {
    phone: a.phone + b.phone,
    postal_address: a.postal_address + b.postal_address,
    my_number: a.my_number + b.my_number,
    credit_card: a.credit_card + b.credit_card,
    email: a.email + b.email,
  };
}

/** Counts personal data in text (Japanese and English). Full-width digits, hyphens (ー−－‐―), spaces and parentheses count like ASCII ones. */
export function countPii(text: string): PiiCounts {
  const scanner = new Scanner();
  feedNormalized(scanner, text);
  return scanner.finish();
}

/** Incremental counting for long texts fed in pieces (e.g. 64 KiB chunks of a 10 MB spreadsheet): matches that straddle a chunk boundary are counted exactly once. */
export class PiiCounter {
  private readonly scanner = new Scanner();
  /** Text not normalised yet: NFKC may still combine its end with what comes next. */
  private pending = "";
  private ended = false;

  push(text: string): void {
    if (this.ended) throw new Error("PiiCounter.push() after end()");
    // Normalise up to the last position where NFKC(before + after) = NFKC(before) + NFKC(after):
    // before a stable character. Only the new text is searched, so pushing stays linear even when
    // a long stretch has no such position.
    let cut = -1;
    for (let i = text.length - 1; i >= 0; i--) {
      if (isStable(text.charCodeAt(i))) {
        cut = this.pending.length + i;
        break;
      }
    }
    if (cut <= 0) {
      this.pending += text;
      return;
    }
    const buffered = this.pending + text;
    feedNormalized(this.scanner, buffered.slice(0, cut));
    this.pending = buffered.slice(cut);
  }

  end(): PiiCounts {
    if (this.ended) throw new Error("PiiCounter.end() called twice");
    this.ended = true;
    feedNormalized(this.scanner, this.pending);
    this.pending = "";
    return this.scanner.finish();
  }
}

// ---------------------------------------------------------------------------------------------
// NFKC, fast: most characters of Japanese and English text are left alone by NFKC and never
// combine with a neighbour, so only the stretches around other characters go through
// String.prototype.normalize (which costs 15–25 ns per character even on plain ASCII), and the
// scanner reads the untouched stretches straight from the input without copying them.

/**
 * A character NFKC leaves alone and that is never the second part of a canonical composition
 * (so a text can be cut before it and each side normalised on its own): ASCII, 、。〃〄々〆〇,
 * brackets, 〒 〓 and friends (U+3001–U+3029), hiragana, katakana, ー and CJK ideographs. Checked
 * against every code point: none of these changes under NFKC or appears after the first position
 * of any canonical decomposition.
 */
function isStable(c: number): boolean {
  return (
    c < 0x80 ||
    (c >= 0x4e00 && c <= 0x9fff) ||
    (c >= 0x3041 && c <= 0x3096) ||
    (c >= 0x30a1 && c <= 0x30fa) ||
    c === 0x30fc ||
    (c >= 0x3001 && c <= 0x3029) ||
    (c >= 0x3400 && c <= 0x4dbf)
  );
}

/**
 * Full-width ASCII (U+FF01–U+FF5E) and the ideographic space (U+3000): NFKC maps each to one ASCII
 * character, which is never the second part of a composition. Unless a combining mark follows,
 * Scanner.feed maps them itself and they need no call to normalize().
 */
function isWide(c: number): boolean {
  return (c >= 0xff01 && c <= 0xff5e) || c === 0x3000;
}

/** Feeds NFKC(text) to the scanner. The text must end before a stable character or at the end. */
function feedNormalized(scanner: Scanner, text: string): void {
  const n = text.length;
  let copied = 0;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (isStable(c)) {
      i++;
      continue;
    }
    if (isWide(c)) {
      const next = i + 1 < n ? text.charCodeAt(i + 1) : 0;
      if (isStable(next) || isWide(next)) {
        i++;
        continue;
      }
    }
    // An unstable stretch [i, j) plus the character before it (a combining mark may compose with
    // it): both ends of the segment are positions before a stable or wide character (or the ends).
    const start = i > copied ? i - 1 : copied;
    let j = i + 1;
    while (j < n && !isStable(text.charCodeAt(j))) j++;
    scanner.feed(text, copied, start);
    const normalized = text.slice(start, j).normalize("NFKC");
    scanner.feed(normalized, 0, normalized.length);
    copied = j;
    i = j;
  }
  scanner.feed(text, copied, n);
}

// ---------------------------------------------------------------------------------------------
// Classification of one digit run or token (a short string of digits and "-", " ", "(", ")", "."
// with a leading "+" or "(" when the text had one).

const K_NONE = 0;
const K_PHONE = 1;
const K_MY_NUMBER = 2;
const K_CARD = 3;
/** A postal code with 〒 before it: an address. */
const K_POSTAL_MARKED = 4;
/** NNN-NNNN without 〒: an address only when a prefecture follows. */
const K_POSTAL_SHAPE = 5;

/** Longest token or run that can still be an item: 19 digits (card). */
const MAX_DIGITS = 19;

const RE_POSTAL = /^\d{3}-\d{4}$/;
const RE_POSTAL_PLAIN = /^\d{7}$/;
const RE_PHONE_PLAIN = /^0\d{9,10}$/;
const RE_PHONE_GROUPS = /^(0\d{1,4})[- ](\d{1,4})[- ](\d{3,4})$/;
const RE_PHONE_PAREN_MIDDLE = /^(0\d{1,4})[- ]?\((\d{1,4})\)[- ]?(\d{3,4})$/;
const RE_PHONE_PAREN_AREA = /^\((0\d{1,4})\)[- ]?(\d{1,4})[- ](\d{3,4})$/;
const RE_PHONE_INTL = /^\+81[- ]?(?:\(0\)[- ]?|0(?=[1-9]))?([1-9][0-9()\- ]*)$/;
/** 10-digit numbers cannot start like this: international prefixes and 11-digit services. */
const RE_PHONE_NOT_10 = /^0(?:10|[256789]0)/;
const RE_PHONE_11 = /^0[5789]0/;
const PHONE_4_3_3 = new Set(["0120", "0570", "0180", "0990"]);
const PHONE_MOBILE_IP = new Set(["050", "070", "080", "090"]);
const RE_MY_NUMBER = /^(?:\d{12}|\d{4}[- ]\d{4}[- ]\d{4})$/;
const RE_CARD = /^(?:\d{13,19}|\d{4}(?:[- ]\d{4,6})*[- ]\d{1,6})$/;
const RE_NON_DIGITS = /\D/g;

function classifyNumber(s: string, digits: number, marked: boolean): number {
  if (digits === 7) {
    if (RE_POSTAL.test(s)) return marked ? K_POSTAL_MARKED : K_POSTAL_SHAPE;
    return marked && RE_POSTAL_PLAIN.test(s) ? K_POSTAL_MARKED : K_NONE;
  }
  if (digits < 10 || digits > MAX_DIGITS) return K_NONE;
  if (s.charCodeAt(0) === 0x2b /* + */) {
    const m = RE_PHONE_INTL.exec(s);
    return m !== null && isDomesticPhone("0" + (m[1] ?? "")) ? K_PHONE : K_NONE;
  }
  if (digits <= 11) return isDomesticPhone(s) ? K_PHONE : K_NONE;
  if (digits === 12) {
    return RE_MY_NUMBER.test(s) && myNumberCheckDigitOk(s.replace(RE_NON_DIGITS, "")) ? K_MY_NUMBER : K_NONE;
  }
  if (!RE_CARD.test(s)) return K_NONE;
  const d = s.replace(RE_NON_DIGITS, "");
  return cardPrefixOk(d) && luhnOk(d) ? K_CARD : K_NONE;
}

function phoneDigitsOk(d: string): boolean {
  if (d.length === 10) return d.charCodeAt(1) !== 0x30 && !RE_PHONE_NOT_10.test(d);
  return d.length === 11 && RE_PHONE_11.test(d);
}

function isDomesticPhone(s: string): boolean {
  if (RE_PHONE_PLAIN.test(s)) return phoneDigitsOk(s);
  const m = RE_PHONE_GROUPS.exec(s) ?? RE_PHONE_PAREN_MIDDLE.exec(s) ?? RE_PHONE_PAREN_AREA.exec(s);
  if (m === null) return false;
  const g1 = m[1] ?? "";
  const g2 = m[2] ?? "";
  const g3 = m[3] ?? "";
  const d = g1 + g2 + g3;
  if (!phoneDigitsOk(d)) return false;
  if (d.length === 10) {
    return (
      (g3.length === 4 && g1.length + g2.length === 6) ||
      (g3.length === 3 && g2.length === 3 && PHONE_4_3_3.has(g1))
    );
  }
  if (g2.length === 4 && g3.length === 4) return PHONE_MOBILE_IP.has(g1);
  return g1 === "0800" && g2.length === 3 && g3.length === 4;
}

/** 平成26年総務省令第85号 第5条; `d` is 12 digits. */
function myNumberCheckDigitOk(d: string): boolean {
  let sum = 0;
  for (let n = 1; n <= 11; n++) {
    const p = d.charCodeAt(11 - n) - 0x30;
    sum += p * (n <= 6 ? n + 1 : n - 5);
  }
  const r = sum % 11;
  return (r <= 1 ? 0 : 11 - r) === d.charCodeAt(11) - 0x30;
}

function luhnOk(d: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = d.length - 1; i >= 0; i--) {
    let v = d.charCodeAt(i) - 0x30;
    if (double) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
    double = !double;
  }
  return sum % 10 === 0;
}

function cardPrefixOk(d: string): boolean {
  if (d.charCodeAt(0) === 0x34) return true; // 4: Visa
  const p2 = Number(d.slice(0, 2));
  const p4 = Number(d.slice(0, 4));
  return (
    (p2 >= 51 && p2 <= 55) || // Mastercard
    (p4 >= 2221 && p4 <= 2720) || // Mastercard 2-series
    p2 === 34 ||
    p2 === 37 || // American Express
    p2 === 35 || // JCB
    p2 === 30 ||
    p2 === 36 ||
    p2 === 38 || // Diners Club
    p4 === 6011 ||
    p2 === 65 // Discover
  );
}

// ---------------------------------------------------------------------------------------------
// Character classes (after NFKC).

const HYPHEN = 0x2d;
const SPACE = 0x20;
const OPEN = 0x28;
const CLOSE = 0x29;
const DOT = 0x2e;
const PLUS = 0x2b;
const AT = 0x40;
const POSTAL_MARK = 0x3012; // 〒
const XN = "xn--";

/** The joiner a character stands for between digits (HYPHEN, SPACE, OPEN, CLOSE, DOT), or 0. */
function joinerOf(c: number): number {
  if (c < 0x80) return c === HYPHEN || c === SPACE || c === OPEN || c === CLOSE || c === DOT ? c : 0;
  // ‐ ‑ ‒ – — ― (U+2010–2015), − (U+2212), ー (U+30FC); NFKC has made ﹣ － into "-" and ｰ into ー.
  return (c >= 0x2010 && c <= 0x2015) || c === 0x2212 || c === 0x30fc ? HYPHEN : 0;
}

function isLocalPartChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === DOT ||
    c === 0x5f || // _
    c === 0x25 || // %
    c === PLUS ||
    c === HYPHEN
  );
}

// prettier-ignore
const PREFECTURES: readonly string[] = [
  "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県", "群馬県",
  "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県",
  "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県",
  "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県", "香川県", "愛媛県", "高知県", "福岡県",
  "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県",
];
/**
 * The last three characters of each name (as one number, exact below 2^53) → the first character
 * of a 4-character name, or 0 for a 3-character name. No 3-character name is the tail of a
 * 4-character one.
 */
const PREFECTURE_TAILS = new Map(
  PREFECTURES.map((p) => {
    const u = [...p].map((ch) => ch.charCodeAt(0));
    const [a, b, c] = u.slice(-3);
    return [((a ?? 0) * 0x10000 + (b ?? 0)) * 0x10000 + (c ?? 0), u.length === 4 ? (u[0] ?? 0) : 0];
  }),
);
/** Last characters of prefecture names. */
const KEN = "県".charCodeAt(0);
const TO = "都".charCodeAt(0);
const FU = "府".charCodeAt(0);
const DO = "道".charCodeAt(0);
const MUNICIPALITY_SUFFIXES = new Set([..."市区町村郡"].map((ch) => ch.charCodeAt(0)));
const NOT_FIRST_IN_MUNICIPALITY = new Set([..."内のはをがでへともや"].map((ch) => ch.charCodeAt(0)));
const DIRECTIONS = new Set([..."東西南北"].map((ch) => ch.charCodeAt(0)));
const NI = "に".charCodeAt(0);
const NIKAHO = "にかほ";
const MAX_MUNICIPALITY_NAME = 7;
/** How far after a postal code (in characters, no digit among them) its prefecture may start. */
const MAX_POSTAL_GAP = 4;

const NAME_NONE = 0;
const NAME_KANJI = 1;
const NAME_KATAKANA = 2;
const NAME_HIRAGANA = 3;

function nameClass(c: number): number {
  if ((c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) || (c >= 0x3005 && c <= 0x3006))
    return NAME_KANJI;
  if ((c >= 0x30a1 && c <= 0x30fa) || c === 0x30fc)
    return c === 0x30f5 || c === 0x30f6 ? NAME_KANJI : NAME_KATAKANA;
  if (c >= 0x3041 && c <= 0x3096) return NAME_HIRAGANA;
  return NAME_NONE;
}

// ---------------------------------------------------------------------------------------------
// The scanner: one pass over NFKC text, fed in any number of pieces.

const N_OUT = 0;
const N_DIGITS = 1;
const N_JOIN = 2;

/** Joiner stages: what may follow. ")" → hyphen/space/"("; hyphen/space → "("; "(" or "." → nothing. */
function joinStage(j: number): number {
  return j === CLOSE ? 1 : j === HYPHEN || j === SPACE ? 2 : 3;
}

function joinCanFollow(stage: number, j: number): boolean {
  return stage === 1 ? j === HYPHEN || j === SPACE || j === OPEN : stage === 2 && j === OPEN;
}

/** Room for a run or token of MAX_DIGITS digits: a prefix and joiners of up to 3 characters. */
const BUFFER_SIZE = 1 + MAX_DIGITS + 3 * MAX_DIGITS;

function bufferText(buffer: Uint8Array, length: number): string {
  return String.fromCharCode.apply(null, buffer.subarray(0, length) as unknown as number[]);
}

class Scanner {
  private phone = 0;
  private postal = 0;
  private myNumber = 0;
  private card = 0;
  private email = 0;

  /** Index of the current character in the normalised stream. */
  private pos = 0;
  /** The three characters before the current one (0 = none). */
  private p1 = 0;
  private p2 = 0;
  private p3 = 0;

  // Digit runs. The run and its current token are kept as ASCII codes while they can still be an
  // item (at most MAX_DIGITS digits); only candidates with a fitting number of digits become strings.
  private nState = N_OUT;
  private readonly run = new Uint8Array(BUFFER_SIZE);
  private runLength = 0;
  private runDigits = 0;
  /** More digits than any item has: the run as a whole is nothing, its tokens count at once. */
  private runTooLong = false;
  private runMarked = false;
  private runTokens = 0;
  private readonly token = new Uint8Array(BUFFER_SIZE);
  private tokenLength = 0;
  private tokenDigits = 0;
  /** Kinds of the finished tokens of a run that may still be one item as a whole. */
  private readonly tokenKinds = new Uint8Array(MAX_DIGITS + 1);
  private tokenKindCount = 0;
  /** The joiner after the last digit: up to 3 codes, in `joiner` from the lowest byte. */
  private joiner = 0;
  private joinerLength = 0;
  private joinerStage = 0;
  private lastDigitEnd = 0;

  // Postal codes and prefectures.
  /** End of the last postal code whose address a following prefecture belongs to, or -1. */
  private postalEnd = -1;
  /** Whether that postal code has been counted already (〒) or waits for the prefecture. */
  private postalCounted = false;
  /** End of the last prefecture name matched (names never overlap). */
  private prefectureEnd = 0;
  private municipality = false;
  private municipalityLength = 0;
  private municipalitySpace = false;
  private municipalityHiragana = false;
  private municipalityHasNonSuffix = false;
  private municipalityNikaho = false;

  // E-mail domain after an "@".
  private inDomain = false;
  private domainLength = 0;
  private labels = 0;
  private labelLength = 0;
  private labelLetters = true;
  private labelXn = true;
  private labelHyphenEnd = false;
  private domainOk = false;

  /** Reads s[from, to). */
  feed(s: string, from: number, to: number): void {
    let pos = this.pos;
    let p1 = this.p1;
    let p2 = this.p2;
    let p3 = this.p3;
    for (let i = from; i < to; i++) {
      let c = s.charCodeAt(i);
      if (c >= 0x3000) {
        // What NFKC makes of a wide character (feedNormalized leaves those that map alone to us).
        if (c >= 0xff01 && c <= 0xff5e) c -= 0xfee0;
        else if (c === 0x3000) c = SPACE;
      }
      const digit = c >= 0x30 && c <= 0x39;
      const prefectureEnd = c === KEN || c === TO || c === FU || c === DO;
      if (this.nState !== N_OUT || digit || this.municipality || prefectureEnd || c === AT || this.inDomain) {
        this.pos = pos;
        this.p1 = p1;
        this.p2 = p2;
        this.p3 = p3;
        if (this.nState !== N_OUT || digit) this.numberStep(c, digit);
        if (this.municipality) this.municipalityStep(c);
        if (prefectureEnd) this.prefectureStep(c);
        if (c === AT || this.inDomain) this.emailStep(c);
      }
      p3 = p2;
      p2 = p1;
      p1 = c;
      pos++;
    }
    this.pos = pos;
    this.p1 = p1;
    this.p2 = p2;
    this.p3 = p3;
  }

  finish(): PiiCounts {
    if (this.nState !== N_OUT) this.endRun();
    if (this.inDomain) this.closeDomain(this.labelLength > 0);
    this.municipality = false;
    this.postalEnd = -1;
    return {
      phone: this.phone,
      postal_address: this.postal,
      my_number: this.myNumber,
      credit_card: this.card,
      email: this.email,
    };
  }

  // --- digit runs ---

  private numberStep(c: number, digit: boolean): void {
    if (this.nState === N_OUT) {
      this.startRun();
      this.addDigit(c);
      return;
    }
    if (this.nState === N_DIGITS) {
      if (digit) {
        this.addDigit(c);
        return;
      }
      const j = joinerOf(c);
      if (j !== 0) {
        this.joiner = j;
        this.joinerLength = 1;
        this.joinerStage = joinStage(j);
        this.nState = N_JOIN;
        return;
      }
      this.endRun();
      return;
    }
    // N_JOIN
    if (digit) {
      this.commitJoiner();
      this.addDigit(c);
      return;
    }
    const j = joinerOf(c);
    if (j !== 0 && joinCanFollow(this.joinerStage, j)) {
      this.joiner |= j << (8 * this.joinerLength++);
      this.joinerStage = joinStage(j);
      return;
    }
    this.endRun();
  }

  private startRun(): void {
    this.runLength = 0;
    this.tokenLength = 0;
    if (this.p1 === PLUS || this.p1 === OPEN) {
      this.run[this.runLength++] = this.p1;
      this.token[this.tokenLength++] = this.p1;
    }
    this.runDigits = 0;
    this.tokenDigits = 0;
    this.runTooLong = false;
    this.runTokens = 0;
    this.tokenKindCount = 0;
    this.runMarked = this.p1 === POSTAL_MARK || (this.p1 === SPACE && this.p2 === POSTAL_MARK);
    this.postalEnd = -1; // a digit between a postal code and a prefecture separates them
  }

  private addDigit(c: number): void {
    if (!this.runTooLong) {
      if (++this.runDigits > MAX_DIGITS) {
        this.runTooLong = true;
        for (let k = 0; k < this.tokenKindCount; k++) this.countItem(this.tokenKinds[k] ?? K_NONE);
        this.tokenKindCount = 0;
      } else {
        this.run[this.runLength++] = c;
      }
    }
    if (++this.tokenDigits <= MAX_DIGITS) this.token[this.tokenLength++] = c;
    this.lastDigitEnd = this.pos + 1;
    this.nState = N_DIGITS;
  }

  private commitJoiner(): void {
    let splitToken = false;
    for (let k = 0; k < this.joinerLength; k++) {
      const j = (this.joiner >> (8 * k)) & 0xff;
      if (!this.runTooLong) this.run[this.runLength++] = j;
      if (j === SPACE) {
        this.endToken();
        splitToken = true;
      } else if (splitToken || this.tokenDigits <= MAX_DIGITS) {
        this.token[this.tokenLength++] = j;
      }
    }
  }

  /** A token followed by a space and more digits: not the last of its run. */
  private endToken(): void {
    const k = this.classifyToken();
    this.runTokens++;
    if (k !== K_NONE) {
      if (this.runTooLong) this.countItem(k);
      else this.tokenKinds[this.tokenKindCount++] = k;
    }
    this.tokenLength = 0;
    this.tokenDigits = 0;
  }

  private classifyToken(): number {
    const n = this.tokenDigits;
    if (n !== 7 && (n < 10 || n > MAX_DIGITS)) return K_NONE;
    return classifyNumber(
      bufferText(this.token, this.tokenLength),
      n,
      this.runTokens === 0 && this.runMarked,
    );
  }

  private countItem(k: number): void {
    if (k === K_PHONE) this.phone++;
    else if (k === K_MY_NUMBER) this.myNumber++;
    else if (k === K_CARD) this.card++;
    else if (k === K_POSTAL_MARKED) this.postal++;
  }

  private endRun(): void {
    this.nState = N_OUT;
    if (!this.runTooLong && this.runTokens > 0 && this.runDigits >= 10) {
      const whole = classifyNumber(bufferText(this.run, this.runLength), this.runDigits, false);
      if (whole !== K_NONE) {
        this.countItem(whole);
        return;
      }
    }
    for (let k = 0; k < this.tokenKindCount; k++) this.countItem(this.tokenKinds[k] ?? K_NONE);
    const last = this.classifyToken();
    if (last === K_POSTAL_MARKED || last === K_POSTAL_SHAPE) {
      if (last === K_POSTAL_MARKED) this.postal++;
      this.postalEnd = this.lastDigitEnd;
      this.postalCounted = last === K_POSTAL_MARKED;
    } else {
      this.countItem(last);
    }
  }

  // --- prefectures and municipalities ---

  private prefectureStep(c: number): void {
    const first = PREFECTURE_TAILS.get((this.p2 * 0x10000 + this.p1) * 0x10000 + c);
    if (first === undefined || (first !== 0 && first !== this.p3)) return;
    const start = first === 0 ? this.pos - 2 : this.pos - 3;
    if (start < this.prefectureEnd) return; // overlaps the previous name ("東京都府…")
    this.prefectureEnd = this.pos + 1;
    this.municipality = false; // a municipality name never contains a prefecture name
    if (this.postalEnd >= 0 && start - this.postalEnd <= MAX_POSTAL_GAP) {
      if (!this.postalCounted) this.postal++;
      this.postalEnd = -1;
      return; // the postal code's address
    }
    this.municipality = true;
    this.municipalityLength = 0;
    this.municipalitySpace = false;
    this.municipalityHasNonSuffix = false;
    this.municipalityNikaho = false;
  }

  private municipalityStep(c: number): void {
    const i = this.municipalityLength;
    if (i === 0 && c === SPACE && !this.municipalitySpace && this.pos === this.prefectureEnd) {
      this.municipalitySpace = true;
      return;
    }
    const cls = nameClass(c);
    if (cls === NAME_NONE) {
      this.municipality = false;
      return;
    }
    if (i === 0) {
      if (c === NI) this.municipalityNikaho = true;
      else if (NOT_FIRST_IN_MUNICIPALITY.has(c)) {
        this.municipality = false;
        return;
      }
      this.municipalityHiragana = cls === NAME_HIRAGANA || DIRECTIONS.has(c);
    } else {
      if (
        (cls === NAME_HIRAGANA && !this.municipalityHiragana) ||
        (this.municipalityNikaho && i < NIKAHO.length && c !== NIKAHO.charCodeAt(i))
      ) {
        this.municipality = false;
        return;
      }
      if (MUNICIPALITY_SUFFIXES.has(c) && this.municipalityHasNonSuffix) {
        this.postal++;
        this.municipality = false;
        return;
      }
    }
    if (!MUNICIPALITY_SUFFIXES.has(c)) this.municipalityHasNonSuffix = true;
    this.municipalityLength = i + 1;
    if (this.municipalityLength > MAX_MUNICIPALITY_NAME) this.municipality = false;
  }

  // --- e-mail ---

  private emailStep(c: number): void {
    if (c === AT) {
      const continuesAddress = this.inDomain && this.closeDomain(this.labelLength > 0);
      if (!continuesAddress && isLocalPartChar(this.p1)) {
        this.inDomain = true;
        this.domainLength = 0;
        this.labels = 0;
        this.labelLength = 0;
        this.domainOk = false;
      }
      return;
    }
    const lower = c | 0x20;
    const letter = lower >= 0x61 && lower <= 0x7a;
    if (letter || (c >= 0x30 && c <= 0x39) || c === HYPHEN) {
      if (this.labelLength === 0) {
        if (c === HYPHEN) {
          this.closeDomain(false);
          return;
        }
        this.labelLetters = true;
        this.labelXn = true;
      }
      const n = ++this.labelLength;
      this.domainLength++;
      if (!letter) this.labelLetters = false;
      if (n <= 4 && lower !== XN.charCodeAt(n - 1)) this.labelXn = false;
      this.labelHyphenEnd = c === HYPHEN;
      if (n > 63 || this.domainLength > 253) this.closeDomain(false);
      return;
    }
    if (c === DOT && this.labelLength > 0 && this.endLabel()) {
      this.labelLength = 0;
      this.domainLength++;
      return;
    }
    this.closeDomain(c !== DOT && this.labelLength > 0);
  }

  /** Ends the current label; false when it is not a valid label. */
  private endLabel(): boolean {
    if (this.labelHyphenEnd) return false;
    this.labels++;
    if (
      this.labels >= 2 &&
      this.labelLength >= 2 &&
      (this.labelLetters || (this.labelXn && this.labelLength > 4))
    ) {
      this.domainOk = true;
    }
    return true;
  }

  /** Ends the domain (after the current label when `withLabel`); returns whether it counted. */
  private closeDomain(withLabel: boolean): boolean {
    if (withLabel) this.endLabel();
    this.inDomain = false;
    this.labelLength = 0;
    const counted = this.domainOk;
    if (counted) this.email++;
    this.domainOk = false;
    return counted;
  }
}
