// Address parsing and internal / semi-internal / external classification (shared/src/classify).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { addressProblem, classifyAddress, domainMatches, domainOf, type DomainLists } from "../src/index.js";

describe("domainOf", () => {
  const cases: [input: string, expected: string][] = [
    ["taro@example.co.jp", "example.co.jp"],
    ["Taro@Example.CO.JP", "example.co.jp"],
    ["taro@example.co.jp.", "example.co.jp"],
    ["taro@ example.co.jp ", "example.co.jp"],
    ['"a@b"@example.com', "example.com"],
    ["a@b@example.com", "example.com"],
    ["no-at-sign", ""],
    ["", ""],
    ["taro@", ""],
    ["@example.com", "example.com"],
  ];
  for (const [input, expected] of cases) {
    test(`domainOf(${JSON.stringify(input)}) is ${JSON.stringify(expected)}`, () => {
      assert.equal(domainOf(input), expected);
    });
  }
});

describe("domainMatches", () => {
  const cases: [domain: string, patterns: string[], expected: boolean, why: string][] = [
    ["example.co.jp", ["example.co.jp"], true, "exact domain"],
    ["EXAMPLE.co.jp", ["example.CO.JP"], true, "case-insensitive on both sides"],
    ["example.co.jp", [" example.co.jp "], true, "pattern whitespace is trimmed"],
    ["sub.example.co.jp", ["example.co.jp"], false, "a plain domain does not cover subdomains"],
    ["notexample.co.jp", ["example.co.jp"], false, "a plain domain is not a suffix match"],
    ["sub.example.co.jp", ["*.example.co.jp"], true, "wildcard covers a subdomain"],
    ["a.b.example.co.jp", ["*.example.co.jp"], true, "wildcard covers deeper subdomains"],
    ["example.co.jp", ["*.example.co.jp"], false, "wildcard does not cover the bare domain"],
    ["badexample.co.jp", ["*.example.co.jp"], false, "wildcard needs a dot boundary"],
    [
      "example.co.jp",
      ["example.co.jp", "*.example.co.jp"],
      true,
      "bare plus wildcard covers the bare domain",
    ],
    [
      "partner.example.co.jp",
      ["*.example.co.jp", "!partner.example.co.jp"],
      false,
      "exclusion after inclusion wins",
    ],
    [
      "partner.example.co.jp",
      ["!partner.example.co.jp", "*.example.co.jp"],
      false,
      "exclusion before inclusion wins",
    ],
    [
      "sales.example.co.jp",
      ["*.example.co.jp", "!partner.example.co.jp"],
      true,
      "exclusion affects only its domain",
    ],
    ["x.partner.example.co.jp", ["*.example.co.jp", "!*.partner.example.co.jp"], false, "wildcard exclusion"],
    [
      "partner.example.co.jp",
      ["*.example.co.jp", "!*.partner.example.co.jp"],
      true,
      "wildcard exclusion spares the bare domain",
    ],
    ["partner.example.co.jp", ["!partner.example.co.jp"], false, "an exclusion alone includes nothing"],
    ["example.co.jp", ["!other.example"], false, "a non-matching exclusion alone includes nothing"],
    ["example.co.jp", [], false, "no patterns, no match"],
    ["", ["example.co.jp"], false, "an empty domain matches nothing"],
  ];
  for (const [domain, patterns, expected, why] of cases) {
    test(`${why}: ${domain} against [${patterns.join(", ")}] → ${expected}`, () => {
      assert.equal(domainMatches(domain, patterns), expected);
    });
  }
});

describe("classifyAddress", () => {
  const lists: DomainLists = {
    internal: ["corp.example", "*.corp.example", "!guest.corp.example"],
    semiInternal: ["group.example", "*.subsidiary.example", "guest.corp.example"],
  };
  const cases: [address: string, expected: ReturnType<typeof classifyAddress>][] = [
    ["alice@corp.example", "internal"],
    ["ALICE@CORP.EXAMPLE", "internal"],
    ["alice@tokyo.corp.example", "internal"],
    ["alice@corp.example.", "internal"],
    ["visitor@guest.corp.example", "semi_internal"],
    ["bob@group.example", "semi_internal"],
    ["bob@jp.subsidiary.example", "semi_internal"],
    ["bob@subsidiary.example", "external"],
    ["carol@example.com", "external"],
    ["carol@corp.example.evil.test", "external"],
    ["no-domain", "external"],
  ];
  for (const [address, expected] of cases) {
    test(`${address} is ${expected}`, () => {
      assert.equal(classifyAddress(address, lists), expected);
    });
  }

  test("internal wins when a domain is in both lists", () => {
    assert.equal(
      classifyAddress("a@both.example", { internal: ["both.example"], semiInternal: ["both.example"] }),
      "internal",
    );
  });

  test("everything is external with empty lists", () => {
    assert.equal(classifyAddress("a@corp.example", { internal: [], semiInternal: [] }), "external");
  });
});

describe("addressProblem", () => {
  const local64 = "l".repeat(64);
  const ok: [string, string][] = [
    ["simple address", "taro@example.co.jp"],
    ["plus addressing", "taro+tag@example.co.jp"],
    ["local part of exactly 64 octets", `${local64}@example.com`],
    // 64 + 1 + 189 = 254: the largest address that fits a 256-octet path "<…>".
    ["address of exactly 254 octets", `${local64}@${"d".repeat(185)}.com`],
  ];
  for (const [why, address] of ok) {
    test(`accepts ${why}`, () => {
      assert.equal(addressProblem(address), null);
    });
  }

  const bad: [why: string, address: string, reason: RegExp][] = [
    ["an empty string", "", /local-part@domain/],
    ["no @", "taro.example.co.jp", /local-part@domain/],
    ["an empty local part", "@example.co.jp", /local-part@domain/],
    ["an empty domain", "taro@", /local-part@domain/],
    ["a local part of 65 octets", `${"l".repeat(65)}@example.com`, /local part longer than 64/],
    ["an address longer than 256 octets", `${local64}@${"d".repeat(192)}`, /longer than 254/],
    ["a space", "taro yamada@example.com", /spaces/],
    ["a tab", "taro\t@example.com", /control/],
    ["a CR", "taro\r@example.com", /control/],
    ["an LF (header injection)", "taro@example.com\nBcc: x@evil.example", /control/],
    ["a NUL", "taro\0@example.com", /control/],
    ["angle brackets", "<taro@example.com>", /angle brackets/],
  ];
  for (const [why, address, reason] of bad) {
    test(`rejects ${why}`, () => {
      const problem = addressProblem(address);
      assert.notEqual(problem, null);
      assert.match(problem as string, reason);
    });
  }

  test("rejects an address of 255 or 256 octets (RFC 5321 §4.5.3.1.3: the path <…> is at most 256 octets, so the address at most 254)", () => {
    assert.notEqual(addressProblem(`${local64}@${"d".repeat(186)}.com`), null, "255 octets");
    assert.notEqual(addressProblem(`${local64}@${"d".repeat(187)}.com`), null, "256 octets");
  });

  test("counts octets, not UTF-16 code units, for non-ASCII local parts (64 kana = 192 UTF-8 octets)", () => {
    assert.match(addressProblem(`${"あ".repeat(64)}@example.co.jp`) ?? "", /local part longer than 64/);
  });
});
