// Personal data counting (shared/src/rules/pii.ts): phone numbers, postal addresses, マイナンバー,
// card numbers and e-mail addresses in Japanese and English text, in one piece or in chunks.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  addPiiCounts,
  countPii,
  emptyPiiCounts,
  PII_KINDS,
  PiiCounter,
  type PiiCounts,
  type PiiKind,
} from "../src/index.js";

function counts(partial: Partial<PiiCounts> = {}): PiiCounts {
  return { ...emptyPiiCounts(), ...partial };
}

const NONE = counts();
const one = (kind: PiiKind, n = 1): PiiCounts => counts({ [kind]: n });

// Reference check digits, written out from the sources independently of the implementation.

/** 平成26年総務省令第85号 第5条: Pn = n-th digit from the right, Qn = n + 1 (n ≤ 6) or n − 5. */
function myNumberCheckDigit(first11: string): number {
  assert.match(first11, /^\d{11}$/);
  const digits = [...first11].map(Number);
  let sum = 0;
  for (let n = 1; n <= 11; n++) {
    const pn = digits[digits.length - n] ?? 0;
    const qn = n <= 6 ? n + 1 : n - 5;
    sum += pn * qn;
  }
  const remainder = sum % 11;
  return remainder <= 1 ? 0 : 11 - remainder;
}

const myNumber = (first11: string): string => first11 + myNumberCheckDigit(first11);

/** ISO/IEC 7812-1 Annex B (Luhn): the digit that makes the whole number pass. */
function luhnCheckDigit(payload: string): number {
  let sum = 0;
  [...payload].reverse().forEach((ch, i) => {
    const v = Number(ch) * (i % 2 === 0 ? 2 : 1);
    sum += v > 9 ? v - 9 : v;
  });
  return (10 - (sum % 10)) % 10;
}

const withLuhn = (payload: string): string => payload + luhnCheckDigit(payload);

function luhnValid(number: string): boolean {
  return luhnCheckDigit(number.slice(0, -1)) === Number(number.slice(-1));
}

/** Runs a table of [text, expected counts] cases, one test each. */
function table(cases: [text: string, expected: PiiCounts][]): void {
  for (const [text, expected] of cases) {
    test(JSON.stringify(text), () => {
      assert.deepEqual(countPii(text), expected);
    });
  }
}

describe("counts helpers", () => {
  test("PII_KINDS lists the five kinds once each", () => {
    assert.deepEqual([...PII_KINDS].sort(), ["credit_card", "email", "my_number", "phone", "postal_address"]);
  });

  test("emptyPiiCounts has a zero for every kind and is a fresh object", () => {
    const a = emptyPiiCounts();
    assert.deepEqual(Object.keys(a).sort(), [...PII_KINDS].sort());
    for (const kind of PII_KINDS) assert.equal(a[kind], 0);
    a.phone = 5;
    assert.equal(emptyPiiCounts().phone, 0);
  });

  test("addPiiCounts adds kind by kind without changing its arguments", () => {
    const a = counts({ phone: 1, email: 2 });
    const b = counts({ phone: 3, credit_card: 4, postal_address: 5, my_number: 6 });
    assert.deepEqual(addPiiCounts(a, b), {
      phone: 4,
      postal_address: 5,
      my_number: 6,
      credit_card: 4,
      email: 2,
    });
    assert.deepEqual(a, counts({ phone: 1, email: 2 }));
  });
});

describe("phone: true positives", () => {
  const phone = one("phone");
  table([
    // fixed lines: area code of 2–5 digits, local exchange, 4-digit subscriber number
    ["03-1234-5678", phone],
    ["06-1234-5678", phone],
    ["045-123-4567", phone],
    ["0466-12-3456", phone],
    ["01267-2-3456", phone],
    ["0312345678", phone],
    ["03 1234 5678", phone],
    ["03-1234 5678", phone],
    // parentheses
    ["06(1234)5678", phone],
    ["06 (1234) 5678", phone],
    ["(03)1234-5678", phone],
    ["(03) 1234-5678", phone],
    ["（０３）１２３４－５６７８", phone],
    // free dial and navi dial
    ["0120-123-456", phone],
    ["0120-12-3456", phone],
    ["0570-123-456", phone],
    ["0120123456", phone],
    ["0800-123-4567", phone],
    // mobile and IP phones: 11 digits
    ["090-1234-5678", phone],
    ["080-1234-5678", phone],
    ["070-1234-5678", phone],
    ["050-1234-5678", phone],
    ["09012345678", phone],
    ["090 1234 5678", phone],
    // international
    ["+81-3-1234-5678", phone],
    ["+81 3 1234 5678", phone],
    ["+81 90 1234 5678", phone],
    ["+81-90-1234-5678", phone],
    ["+81 (0)3 1234 5678", phone],
    ["+81-(0)3-1234-5678", phone],
    ["+81312345678", phone],
    ["+819012345678", phone],
    ["+81-03-1234-5678", phone],
    ["＋８１　９０　１２３４　５６７８", phone],
    // full-width digits, the various hyphens and the ideographic space
    ["電話：０３－１２３４－５６７８", phone],
    ["０９０ー１２３４ー５６７８", phone],
    ["03ー1234ー5678", phone],
    ["03−1234−5678", phone],
    ["03‐1234‐5678", phone],
    ["03―1234―5678", phone],
    ["03–1234–5678", phone],
    ["０３　１２３４　５６７８", phone],
    // in running text
    ["TEL:03-1234-5678。", phone],
    ["TEL03-1234-5678", phone],
    ["℡03-1234-5678", phone],
    ["携帯090-1234-5678までご連絡ください", phone],
    ["Call me at 03-1234-5678.", phone],
    ["03-1234-5678（代表）", phone],
    ["03-1234-5678-", phone],
    ["No. 1 03-1234-5678", phone],
    // counted by occurrence
    ["03-1234-5678 03-1234-5678", one("phone", 2)],
    ["TEL 03-1234-5678 FAX 03-1234-5679", one("phone", 2)],
    ["03-1234-5678 090-1234-5678", one("phone", 2)],
    ["0312345678,0312345679,09012345678", one("phone", 3)],
    ["03-1234-5678\t090-1234-5678", one("phone", 2)],
  ]);
});

describe("phone: true negatives", () => {
  table([
    ["2026-11-27", NONE],
    ["2026/11/27", NONE],
    ["2026年11月27日 10:00", NONE],
    ["100-0001", NONE],
    ["1234-5678", NONE],
    ["12345", NONE],
    ["03-1234-567", NONE], // 9 digits
    ["03-1234-56789", NONE], // 11 digits, not a mobile number
    ["03-12345-678", NONE], // local exchange of 5 digits
    ["0120-1234-56", NONE],
    ["0012345678", NONE], // 00: international prefix
    ["0101234567", NONE], // 010: international call prefix
    ["0901234567", NONE], // mobile numbers have 11 digits
    ["090-123-4567", NONE],
    ["0501234567", NONE],
    ["012-3456-7890", NONE], // 11 digits starting 012
    ["1234567890", NONE],
    ["03-1234-5678-9", NONE], // part of a longer run
    ["1-03-1234-5678", NONE],
    ["0312345678901", NONE],
    ["003-1234-5678", NONE],
    ["3.0312345678", NONE], // a decimal number
    ["03.1234.5678", NONE],
    ["192.168.0312345678", NONE],
    ["+1 212 555 1234", NONE],
    ["+81 3 1234 567", NONE],
    ["+44 20 1234 5678", NONE],
    ["ISBN 978-4-12-345678-9", NONE],
    ["03 1234 5678 12", NONE], // digits written with spaces and more digits after them
  ]);
});

describe("postal_address: true positives", () => {
  const address = one("postal_address");
  table([
    ["〒100-0001", address],
    ["〒 100-0001", address],
    ["〒1000001", address],
    ["〒１００－０００１", address],
    ["〒100−0001", address],
    ["〒100ー0001", address],
    ["〶100-0001", address], // circled postal mark, NFKC 〒
    ["〒100-0001 東京都千代田区千代田1-1", address],
    ["〒100-0001東京都千代田区千代田1-1", address],
    ["〒100-0001\n東京都千代田区千代田1-1", address],
    ["〒100-0001\r\n東京都千代田区千代田1-1", address],
    ['"〒100-0001","東京都千代田区千代田1-1"', address],
    ["〒100-0001\t東京都千代田区千代田1-1", address],
    ["〒100-0001 日本国東京都千代田区", address], // prefecture 4 characters after the code
    ["100-0001 東京都千代田区千代田1-1", address],
    ["100-0001 東京都", address],
    ["住所：100-0001　東京都千代田区千代田1-1", address],
    ['"100-0001","東京都千代田区"', address],
    ["東京都千代田区千代田1-1", address],
    ["東京都 千代田区", address],
    ["東京都　千代田区", address],
    ["大阪府大阪市北区梅田3-1-3", address],
    ["京都府京都市左京区", address],
    ["北海道札幌市中央区北1条西2丁目", address],
    ["神奈川県横浜市西区みなとみらい2-2-1", address],
    ["鹿児島県鹿児島市山下町11-1", address],
    ["和歌山県和歌山市", address],
    ["長野県北佐久郡軽井沢町", address],
    ["埼玉県さいたま市浦和区", address],
    ["東京都府中市", address], // not also 京都府
    ["東京都立川市", address],
    ["東京都町田市", address],
    ["千葉県市川市", address],
    ["三重県四日市市", address],
    ["福島県郡山市", address],
    ["秋田県にかほ市", address],
    ["香川県東かがわ市", address],
    ["兵庫県南あわじ市", address],
    ["山梨県南アルプス市", address],
    ["茨城県つくばみらい市", address],
    ["東京都あきる野市", address],
    ["兵庫県たつの市", address],
    ["本社：東京都港区、支社：大阪府大阪市", one("postal_address", 2)],
    ["東京都千代田区 〒100-0001", one("postal_address", 2)], // the code after the address: two
    ["〒100-0001 東京都千代田区千代田1-1 TEL 03-1234-5678", counts({ postal_address: 1, phone: 1 })],
    ["〒100-0001 03-1234-5678", counts({ postal_address: 1, phone: 1 })],
  ]);

  // every prefecture, each followed by a municipality
  // prettier-ignore
  const prefectures = [
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県", "群馬県",
    "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県",
    "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県",
    "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県", "香川県", "愛媛県", "高知県", "福岡県",
    "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県",
  ];
  test("the list of prefectures used here has 47 different names", () => {
    assert.equal(new Set(prefectures).size, 47);
  });
  for (const prefecture of prefectures) {
    test(`${prefecture} + municipality`, () => {
      assert.deepEqual(countPii(`${prefecture}中央市本町1-2-3`), address);
      assert.deepEqual(countPii(`〒123-4567 ${prefecture}中央市本町1-2-3`), address);
      assert.deepEqual(countPii(`123-4567 ${prefecture}`), address);
      assert.deepEqual(countPii(`${prefecture}と${prefecture}`), NONE);
    });
  }
});

describe("postal_address: true negatives", () => {
  table([
    ["100-0001", NONE], // no 〒 and no prefecture after it
    ["郵便番号 100-0001", NONE],
    ["100-0001 (本社は東京都)", NONE], // the prefecture is too far away
    ["100-0001 12 東京都", NONE], // a number between the code and the prefecture
    ["〒", NONE],
    ["〒100-00011", NONE],
    ["〒12-3456", NONE],
    ["〒100 0001", NONE],
    ["東京都", NONE],
    ["東京都、大阪府、京都府", NONE],
    ["東京都23区", NONE],
    ["京都市左京区", NONE], // no prefecture
    ["東京都内の区", NONE],
    ["東京都の区役所", NONE],
    ["東京都にある区", NONE],
    ["愛知県知事選の区割り", NONE],
    ["東京都市町村職員共済組合", NONE],
    ["大阪府立大学", NONE],
    ["北海道大学大学院工学研究科", NONE],
    ["全国の都道府県と市区町村", NONE],
    ["神奈川県警によると", NONE],
    ["Tokyo 100-0001", NONE],
  ]);
});

describe("my_number", () => {
  test("the reference check digit reproduces a hand-computed value", () => {
    // P1..P11 = 1,0,9,8,7,6,5,4,3,2,1; Σ Pn×Qn = 2+0+36+40+42+42+10+12+12+10+6 = 212; 212 mod 11 = 3
    assert.equal(myNumberCheckDigit("12345678901"), 8);
    // remainder 0 and remainder 1 both give check digit 0
    assert.equal(myNumberCheckDigit("00000000000"), 0);
  });

  const bases = ["12345678901", "00000000001", "98765432109", "11111111111", "31415926535", "27182818284"];
  for (const base of bases) {
    const valid = myNumber(base);
    const [a, b, c] = [valid.slice(0, 4), valid.slice(4, 8), valid.slice(8)];
    const fullWidth = valid.replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d)));
    table([
      [valid, one("my_number")],
      [`${a} ${b} ${c}`, one("my_number")],
      [`${a}-${b}-${c}`, one("my_number")],
      [`${a}ー${b}ー${c}`, one("my_number")],
      [fullWidth, one("my_number")],
      [`マイナンバー：${a}\u3000${b}\u3000${c}`, one("my_number")],
      [`個人番号は${valid}です。`, one("my_number")],
      [`${valid},${valid}`, one("my_number", 2)],
    ]);
    test(`${base}: every wrong check digit is no マイナンバー`, () => {
      for (let d = 0; d <= 9; d++) {
        if (String(d) === valid.slice(-1)) continue;
        assert.deepEqual(countPii(base + d), NONE, base + d);
        assert.deepEqual(countPii(`${a} ${b} ${base.slice(8)}${d}`), NONE);
      }
    });
  }

  const valid = myNumber("12345678901");
  table([
    ["マイナンバー 1234 5678 9018", one("my_number")],
    [`${valid}5`, NONE], // 13 digits
    [`5${valid}`, NONE],
    [`${valid.slice(0, 4)} ${valid.slice(4, 8)} ${valid.slice(8)} 3456`, NONE], // part of a longer run
    [`9-${valid}`, NONE],
    [`${valid.slice(0, 6)} ${valid.slice(6)}`, NONE], // not grouped 4-4-4
    [`${valid.slice(0, 4)}.${valid.slice(4, 8)}.${valid.slice(8)}`, NONE],
    ["1234 5678 9012", NONE], // wrong check digit (2, not 8)
  ]);
});

describe("credit_card", () => {
  const card = one("credit_card");
  const visa19 = withLuhn("400000000000000000");
  const discover65 = withLuhn("650000000000000");
  const positives = [
    "4111111111111111", // Visa
    "4222222222222", // Visa, 13 digits
    visa19, // Visa, 19 digits
    "5555555555554444", // Mastercard
    "5105105105105100",
    "2223003122003222", // Mastercard 2-series
    "378282246310005", // American Express
    "371449635398431",
    "3530111333300000", // JCB
    "3566002020360505",
    "30569309025904", // Diners Club
    "36227206271667",
    "38520000023237",
    "6011111111111117", // Discover
    "6011000990139424",
    discover65,
  ];
  test("the test card numbers pass the reference Luhn check", () => {
    for (const number of positives) assert.ok(luhnValid(number), number);
  });
  table([
    ...positives.map((n): [string, PiiCounts] => [n, card]),
    ["4111 1111 1111 1111", card],
    ["4111-1111-1111-1111", card],
    ["4111ー1111ー1111ー1111", card],
    ["４１１１　１１１１　１１１１　１１１１", card],
    ["3782 822463 10005", card], // Amex 4-6-5
    ["3056 930902 5904", card], // Diners 4-6-4
    [
      `${visa19.slice(0, 4)} ${visa19.slice(4, 8)} ${visa19.slice(8, 12)} ${visa19.slice(12, 16)} ${visa19.slice(16)}`,
      card,
    ],
    ["カード番号：4111-1111-1111-1111（有効期限 12/28）", card],
    ["Card: 5555 5555 5555 4444, exp 12/28", card],
    ["4111111111111111 5555555555554444", one("credit_card", 2)],
    ["4111-1111-1111-1111,4111-1111-1111-1111", one("credit_card", 2)],
    [withLuhn("400003123456780"), card], // contains 0312345678: still only a card
  ]);
  table([
    ["4111111111111112", NONE], // Luhn fails
    ["5555555555554445", NONE],
    [withLuhn("100000000000000"), NONE], // no known issuer prefix
    [withLuhn("700000000000000"), NONE],
    [withLuhn("990000000000000"), NONE],
    [withLuhn("560000000000000"), NONE],
    [withLuhn("222000000000000"), NONE], // just below the Mastercard 2-series
    [withLuhn("272100000000000"), NONE], // just above it
    [withLuhn("601200000000000"), NONE],
    [withLuhn("310000000000000"), NONE],
    [withLuhn("4" + "0".repeat(18)), NONE], // 20 digits
    ["4111 1111 1111 1111 1234", NONE], // part of a longer run
    ["4111111111111111-5", NONE],
    ["9-4111111111111111", NONE],
    ["4111.1111.1111.1111", NONE],
    ["41 11 11 11 11 11 11 11", NONE],
    ["4111 1111 1111 111 1", NONE],
  ]);
});

describe("email", () => {
  const email = one("email");
  table([
    ["taro@example.co.jp", email],
    ["TARO.YAMADA@EXAMPLE.COM", email],
    ["user+tag@sub.example.com", email],
    ["a@b.co", email],
    ["taro_yamada-1@example-mail.jp", email],
    ["メール：taro@example.com", email],
    ["taro＠example.co.jp", email],
    ["ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏ．ｊｐ", email],
    ["<taro@example.com>", email],
    ["mailto:taro@example.com", email],
    ["(taro@example.com)", email],
    ["taro@example.com.", email],
    ["taro@example.com.123", email],
    ["taro@xn--eckwd4c7c.xn--zckzah", email],
    ["taro@mail.example.co.jp、よろしくお願いします", email],
    ["E-mail：taro.yamada@example.co.jp", email],
    ["taro@example.com, hanako@example.com", one("email", 2)],
    ["taro@example.com taro@example.com", one("email", 2)],
    ["a@b.com@c.com", email], // the second @ continues the first address
    ["x@y@example.com", email],
  ]);
  table([
    ["taro@localhost", NONE],
    ["@example.com", NONE],
    ["taro@", NONE],
    ["taro@-example.com", NONE],
    ["taro@example-.com", NONE],
    ["taro@example.c", NONE],
    ["taro@example..com", NONE],
    ["taro@.example.com", NONE],
    ["taro@192.168.0.1", NONE],
    ["taro@例え.jp", NONE],
    ["山田@example.com", NONE],
    ["taro at example dot com", NONE],
    ["@@@", NONE],
    ["a@b@c", NONE],
    [`taro@${"a".repeat(64)}.com`, NONE], // a label longer than 63
  ]);
});

describe("Japanese and English texts with several kinds", () => {
  test("an e-mail signature", () => {
    const signature = [
      "山田 太郎（ヤマダ タロウ）",
      "株式会社サンプル 営業部",
      "〒100-0001 東京都千代田区千代田1-1 サンプルビル5F",
      "TEL：03-1234-5678 ／ FAX：03-1234-5679",
      "携帯：０９０－１２３４－５６７８",
      "E-mail：taro.yamada@example.co.jp",
    ].join("\n");
    assert.deepEqual(countPii(signature), counts({ phone: 3, postal_address: 1, email: 1 }));
  });

  test("an application form", () => {
    const form = [
      "氏名：佐藤花子",
      "生年月日：1985年4月1日",
      "個人番号：1234 5678 9018",
      "住所：〒530-0001 大阪府大阪市北区梅田3-1-3",
      "電話番号：06-1234-5678",
      "カード番号：4111-1111-1111-1111（有効期限 12/28）",
      "申込日：2026-11-27",
    ].join("\n");
    assert.deepEqual(countPii(form), counts({ phone: 1, postal_address: 1, my_number: 1, credit_card: 1 }));
  });

  test("English text", () => {
    const text =
      "Contact John at +81 90 1234 5678 or john.smith@example.com. Card: 5555 5555 5555 4444. " +
      "Order 2026-11-27, ref 1234567.";
    assert.deepEqual(countPii(text), counts({ phone: 1, email: 1, credit_card: 1 }));
  });

  test("text without personal data", () => {
    const text =
      "いつもお世話になっております。2026年11月27日(金)10:00〜の会議資料を送付します。" +
      "全国の都道府県と市区町村の統計（第3版、p.12-34）をご確認ください。Version 1.2.3, 100%.";
    assert.deepEqual(countPii(text), NONE);
  });

  test("empty text", () => {
    assert.deepEqual(countPii(""), NONE);
  });
});

describe("CSV-like text", () => {
  const rows = Array.from({ length: 12 }, (_, i) => {
    const nn = String(10 + i);
    return [
      `顧客${i + 1}`,
      `03-1234-56${nn}`,
      `090-1234-56${nn}`,
      `user${i}@example.co.jp`,
      `〒100-00${nn}`,
      `東京都千代田区千代田1-${i + 1}`,
      withLuhn(`4111111111111${nn}`),
      myNumber(`123456789${nn}`),
      `2026-11-${nn}`,
    ].join(",");
  });

  test("12 rows: 24 phones, 12 of everything else", () => {
    const csv = ["名前,電話,携帯,メール,郵便番号,住所,カード,マイナンバー,登録日", ...rows].join("\n");
    assert.deepEqual(countPii(csv), {
      phone: 24,
      postal_address: 12,
      my_number: 12,
      credit_card: 12,
      email: 12,
    });
  });

  test("the same rows quoted, tab-separated and with full-width digits", () => {
    const quoted = rows
      .map((r) =>
        r
          .split(",")
          .map((f) => `"${f}"`)
          .join(","),
      )
      .join("\r\n");
    const tsv = rows.map((r) => r.replace(/,/g, "\t")).join("\n");
    const wide = rows.map((r) => r.replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d)))).join("\n");
    const expected = { phone: 24, postal_address: 12, my_number: 12, credit_card: 12, email: 12 };
    assert.deepEqual(countPii(quoted), expected);
    assert.deepEqual(countPii(tsv), expected);
    assert.deepEqual(countPii(wide), expected);
  });

  test("postal codes without 〒 in their own column before the prefecture", () => {
    const csv = Array.from(
      { length: 10 },
      (_, i) => `株式会社${i},100-00${10 + i},東京都港区芝公園${i + 1}`,
    ).join("\n");
    assert.deepEqual(countPii(csv), one("postal_address", 10));
  });
});

// A text with every kind, items that a split can cut in two, and characters NFKC combines.
const SAMPLE = [
  "山田 太郎（ﾔﾏﾀﾞ ﾀﾛｳ）様 か\u3099 cafe\u0301 Ａ\u0301 😀",
  "〒100-0001",
  "東京都千代田区千代田1-1、大阪府大阪市北区梅田3-1-3、東京都府中市",
  "100-0001 東京都 / 東京都内の区",
  "TEL：０３－１２３４－５６７８ / +81 (0)90 1234 5678 / 06(1234)5678 0120-123-456",
  "マイナンバー 1234 5678 9018 / 123456789018 / 1234 5678 9012",
  "カード 4111 1111 1111 1111 / 3782-822463-10005 / 4111111111111112",
  "mail: taro.yamada＠example.co.jp, a@b.com@c.com, x@localhost",
  "2026-11-27 1234 5678 9018 3456",
].join("\n");

// 〒100-0001 and the 東京都千代田区 on the next line are one address.
const SAMPLE_COUNTS: PiiCounts = { phone: 4, postal_address: 4, my_number: 2, credit_card: 2, email: 2 };

function countInPieces(pieces: string[]): PiiCounts {
  const counter = new PiiCounter();
  for (const piece of pieces) counter.push(piece);
  return counter.end();
}

/** A small deterministic pseudo-random generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("PiiCounter", () => {
  test("the sample text has every kind", () => {
    assert.deepEqual(countPii(SAMPLE), SAMPLE_COUNTS);
  });

  test("one push is countPii", () => {
    assert.deepEqual(countInPieces([SAMPLE]), SAMPLE_COUNTS);
  });

  test("split in two at every position (including inside surrogate pairs and combining sequences)", () => {
    for (let i = 0; i <= SAMPLE.length; i++) {
      assert.deepEqual(countInPieces([SAMPLE.slice(0, i), SAMPLE.slice(i)]), SAMPLE_COUNTS, `split at ${i}`);
    }
  });

  test("split in three at many pairs of positions", () => {
    for (let i = 0; i <= SAMPLE.length; i += 3) {
      for (let j = i; j <= SAMPLE.length; j += 7) {
        const pieces = [SAMPLE.slice(0, i), SAMPLE.slice(i, j), SAMPLE.slice(j)];
        assert.deepEqual(countInPieces(pieces), SAMPLE_COUNTS, `split at ${i} and ${j}`);
      }
    }
  });

  test("one UTF-16 code unit per push, with empty pushes between", () => {
    const pieces = [...Array(SAMPLE.length).keys()].flatMap((i) => [SAMPLE.charAt(i), ""]);
    assert.deepEqual(countInPieces(pieces), SAMPLE_COUNTS);
  });

  test("a straddling item counts once", () => {
    assert.deepEqual(countInPieces(["TEL 03-12", "34-5678 です"]), one("phone"));
    assert.deepEqual(countInPieces(["taro@exa", "mple.co.jp"]), one("email"));
    assert.deepEqual(countInPieces(["〒100-0001 東京", "都千代田区"]), one("postal_address"));
    assert.deepEqual(countInPieces(["4111 1111 ", "1111 1111"]), one("credit_card"));
    assert.deepEqual(countInPieces(["1234 5678 9018", " 3456"]), NONE);
    assert.deepEqual(countInPieces(["ｶ", "ﾞ 03-1234-5678"]), one("phone"));
  });

  test("64 KiB chunks of a long text give the same counts as countPii", () => {
    const unit = SAMPLE + "\n";
    const text = unit.repeat(Math.ceil((1 << 20) / unit.length));
    const pieces: string[] = [];
    for (let i = 0; i < text.length; i += 65536) pieces.push(text.slice(i, i + 65536));
    const whole = countPii(text);
    const reps = text.length / unit.length;
    for (const kind of PII_KINDS) assert.equal(whole[kind], SAMPLE_COUNTS[kind] * reps, kind);
    assert.deepEqual(countInPieces(pieces), whole);
  });

  test("random texts in random pieces: same counts as countPii, and as countPii of the NFKC text", () => {
    // prettier-ignore
    const alphabet = [
      ..."0123456789０１２３４５６７８９",
      ..."--- ()+.@@＠〒ー−－‐―　\n,",
      ..."aAxn.comjp",
      ..."東京都府中市千代田区大阪府の",
      "ｶ", "ﾞ", "\u3099", "\u0301", "😀", "\ud83d",
      "03-1234-5678", "4111 1111 1111 1111", "1234 5678 9018", "taro@example.co.jp", "〒100-0001", "東京都千代田区",
    ];
    const next = random(20261127);
    for (let round = 0; round < 300; round++) {
      let text = "";
      const length = Math.floor(next() * 60);
      for (let k = 0; k < length; k++) text += alphabet[Math.floor(next() * alphabet.length)] ?? "";
      const expected = countPii(text);
      assert.deepEqual(countPii(text.normalize("NFKC")), expected, JSON.stringify(text));
      const pieces: string[] = [];
      for (let i = 0; i < text.length;) {
        const size = Math.floor(next() * 6);
        pieces.push(text.slice(i, i + size));
        i += size;
      }
      assert.deepEqual(countInPieces(pieces), expected, JSON.stringify(pieces));
    }
  });

  test("push after end and a second end are errors", () => {
    const counter = new PiiCounter();
    counter.push("03-1234-5678");
    assert.deepEqual(counter.end(), one("phone"));
    assert.throws(() => counter.push("x"), /after end/);
    assert.throws(() => counter.end(), /twice/);
  });
});

describe("speed", () => {
  /** CPU time of this process in ms: unlike wall time, not inflated by other processes on the machine. */
  function cpuMs<T>(f: () => T): [T, number] {
    const start = process.cpuUsage();
    const result = f();
    const used = process.cpuUsage(start);
    return [result, (used.user + used.system) / 1000];
  }

  const MB = 1 << 20;
  const adversarial: [string, string][] = [
    ["0 repeated", "0".repeat(MB)],
    ["1- repeated", "1-".repeat(MB / 2)],
    ["1 space repeated", "1 ".repeat(MB / 2)],
    ["0( repeated", "0(".repeat(MB / 2)],
    ["@ repeated", "@".repeat(MB)],
    ["a@ repeated", "a@".repeat(MB / 2)],
    ["a. after an @", "x@" + "a.".repeat(MB / 2)],
    ["a-a- after an @", "x@" + "a-".repeat(MB / 2)],
    ["+81 repeated", "+81 ".repeat(MB / 4)],
    ["〒1 repeated", "〒1".repeat(MB / 2)],
    ["東京都 repeated", "東京都".repeat(MB / 3)],
    ["東京都千 repeated", "東京都千".repeat(MB / 4)],
    ["full-width digits", "０".repeat(MB)],
    ["half-width voiced marks", "ﾞ".repeat(MB)],
    ["combining marks", "a" + "\u0301".repeat(MB)],
  ];
  for (const [name, text] of adversarial) {
    test(`1 MB of ${name} takes well under a second`, () => {
      const [, ms] = cpuMs(() => countPii(text));
      assert.ok(ms < 1000, `${ms.toFixed(0)} ms`);
      const [, msChunked] = cpuMs(() => {
        const counter = new PiiCounter();
        for (let i = 0; i < text.length; i += 65536) counter.push(text.slice(i, i + 65536));
        return counter.end();
      });
      assert.ok(msChunked < 1000, `chunked: ${msChunked.toFixed(0)} ms`);
    });
  }

  test("10 MB of mixed Japanese/ASCII text in under 5 s (sanity bound; timings belong in benchmarks)", () => {
    const unit =
      "いつもお世話になっております。株式会社サンプルの山田です。Please find the attached file.\n" +
      "顧客,03-1234-5678,090-1234-5678,taro@example.co.jp,〒100-0001,東京都千代田区千代田1-1,2026-11-27\n" +
      "ﾔﾏﾀﾞ ﾀﾛｳ（２０２６年１１月２７日）、Order No. A-12345, total ¥12,345.\n";
    const text = unit.repeat(Math.ceil((10 * MB) / unit.length));
    const start = performance.now();
    const result = countPii(text);
    const ms = performance.now() - start;
    const reps = text.length / unit.length;
    assert.deepEqual(result, counts({ phone: 2 * reps, email: reps, postal_address: reps }));
    assert.ok(ms < 5000, `${ms.toFixed(0)} ms`);
  });
});
