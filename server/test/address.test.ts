// The one form recipients are stored, compared and shown in (server/src/address.ts).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  canonicalAddress,
  canonicalDomain,
  mailboxKey,
  recipientProblem,
  uniqueRecipients,
} from "../src/address.js";

/** `n` different kanji: punycode packs repeats of one character far tighter. */
const manyKanji = (n: number) =>
  Array.from({ length: n }, (_, i) => String.fromCodePoint(0x4e00 + i * 37)).join("");

describe("canonicalAddress", () => {
  const cases: [why: string, input: string, expected: string | null][] = [
    ["a Unicode domain stays Unicode", "taro@例え.jp", "taro@例え.jp"],
    ["an A-label domain becomes its Unicode form", "taro@xn--r8jz45g.jp", "taro@例え.jp"],
    ["an upper-case A-label too", "taro@XN--R8JZ45G.JP", "taro@例え.jp"],
    [
      "the domain is lower-cased, the local part kept as sent",
      "Taro.Yamada@Corp.Example",
      "Taro.Yamada@corp.example",
    ],
    ["an ideographic full stop separates labels", "taro@例え。jp", "taro@例え.jp"],
    ["full-width letters map to ASCII", "a@ｅｘａｍｐｌｅ.com", "a@example.com"],
    ["a trailing root dot goes", "a@example.com.", "a@example.com"],
    ["a non-ASCII local part is kept as sent", "日本語@例え.jp", "日本語@例え.jp"],
    ["an address literal is not a name: kept, lower-cased", "a@[IPv6:2001:DB8::1]", "a@[ipv6:2001:db8::1]"],
    ["a domain with a space is no domain name", "a@bad domain.com", null],
    ["an empty label is no domain name", "a@example..com", null],
    ["a label longer than 63 octets is no domain name", `a@${"x".repeat(64)}.com`, null],
    ["a label whose A-label is longer than 63 octets neither", `a@${manyKanji(30)}.jp`, null],
    ["no @ at all", "nobody", null],
  ];
  for (const [why, input, expected] of cases) {
    test(why, () => assert.equal(canonicalAddress(input), expected));
  }

  test("the canonical domain is stable: converting it again changes nothing", () => {
    for (const d of ["例え.jp", "münchen.de", "corp.example"]) assert.equal(canonicalDomain(d), d);
  });
});

describe("mailboxKey and uniqueRecipients", () => {
  test("one mailbox however its domain or the case of its local part is spelt", () => {
    const keys = new Set(["taro@例え.jp", "Taro@xn--r8jz45g.jp", "TARO@例え.JP"].map(mailboxKey));
    assert.equal(keys.size, 1);
  });

  test("different local parts are different mailboxes", () => {
    assert.notEqual(mailboxKey("taro@例え.jp"), mailboxKey("jiro@例え.jp"));
  });

  test("duplicates go, the first spelling stays, in its canonical form", () => {
    assert.deepEqual(
      uniqueRecipients(["Taro@xn--r8jz45g.jp", "taro@例え.jp", "b@Partner.Example", "B@partner.example"]),
      ["Taro@例え.jp", "b@partner.example"],
    );
  });
});

describe("recipientProblem", () => {
  test("a valid IDN address has none", () => {
    assert.equal(recipientProblem("taro@例え.jp"), null);
    assert.equal(recipientProblem("日本語@例え.jp"), null);
  });

  test("a domain that is no domain name is named as such", () => {
    assert.match(recipientProblem(`a@${"x".repeat(64)}.com`) ?? "", /not a valid domain name/);
  });

  test("the shared limits still apply", () => {
    assert.match(recipientProblem("no-at-sign") ?? "", /local-part@domain/);
  });
});
