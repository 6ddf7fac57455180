// Message catalogs and language negotiation (shared/src/i18n).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  isLanguage,
  pickLanguage,
  t,
  tlsSummary,
  type Language,
  type MessageKey,
  type TlsCheck,
} from "../src/index.js";
import { en, ja } from "../src/i18n/catalog.js";

const placeholders = (text: string): string[] =>
  [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string).sort();

describe("catalogs", () => {
  const jaKeys = Object.keys(ja).sort();
  const enKeys = Object.keys(en).sort();

  test("ja and en have exactly the same keys", () => {
    assert.deepEqual(enKeys, jaKeys);
  });

  for (const key of jaKeys as MessageKey[]) {
    test(`${key} is non-empty in both languages and uses the same placeholders`, () => {
      assert.equal(typeof ja[key], "string");
      assert.equal(typeof en[key], "string");
      assert.notEqual(ja[key].trim(), "", "ja");
      assert.notEqual(en[key].trim(), "", "en");
      assert.deepEqual(placeholders(en[key]), placeholders(ja[key]));
    });
  }

  test("the Japanese catalog is actually Japanese (tags and prose contain non-ASCII)", () => {
    for (const key of ["hold.tag", "hold.intro", "bounce.tag", "page.title", "error.internal"] as const) {
      assert.match(ja[key], /[^ -~]/, key);
    }
  });

  test("the hold tag is the documented [配送保留]", () => {
    assert.equal(t("ja", "hold.tag"), "[配送保留]");
  });
});

describe("t", () => {
  const cases: [lang: Language, key: MessageKey, vars: Record<string, string | number>, expected: string][] =
    [
      ["en", "hold.subject", { subject: "Quote" }, "Subject: Quote"],
      ["ja", "hold.subject", { subject: "見積書" }, "件名: 見積書"],
      ["en", "error.too_many_attempts", { seconds: 30 }, "Too many attempts. Try again in 30 seconds."],
      ["ja", "error.too_large", { limit: 1024 }, "メッセージが大きすぎます (上限 1024 バイト)。"],
      ["en", "error.already_final", { status: "sent" }, "This message is already finished (status: sent)."],
      ["en", "hold.subject", { subject: 0 }, "Subject: 0"],
      ["en", "hold.subject", { subject: "" }, "Subject: "],
      ["en", "hold.subject", {}, "Subject: {subject}"],
      ["en", "hold.subject", { other: "x" }, "Subject: {subject}"],
      ["en", "page.title", { subject: "ignored" }, "Held message"],
    ];
  for (const [lang, key, vars, expected] of cases) {
    test(`${lang} ${key} with ${JSON.stringify(vars)} → ${JSON.stringify(expected)}`, () => {
      assert.equal(t(lang, key, vars), expected);
    });
  }

  test("a value that itself looks like a placeholder is not expanded again", () => {
    assert.equal(t("en", "hold.subject", { subject: "{subject}" }), "Subject: {subject}");
  });

  test("replacement patterns such as $& and $1 in a value are inserted literally", () => {
    assert.equal(t("en", "hold.subject", { subject: "$& $1 $$" }), "Subject: $& $1 $$");
  });

  test("vars default to none", () => {
    assert.equal(t("ja", "page.sendNow"), "今すぐ送信");
  });
});

describe("isLanguage", () => {
  for (const [value, expected] of [
    ["ja", true],
    ["en", true],
    ["JA", false],
    ["en-US", false],
    ["fr", false],
    ["", false],
    [undefined, false],
    [1, false],
  ] as [unknown, boolean][]) {
    test(`${JSON.stringify(value)} → ${expected}`, () => {
      assert.equal(isLanguage(value), expected);
    });
  }
});

describe("pickLanguage", () => {
  const cases: [header: string | undefined, fallback: Language, expected: Language, why: string][] = [
    [undefined, "ja", "ja", "no header gives the fallback"],
    ["", "en", "en", "an empty header gives the fallback"],
    ["en", "ja", "en", "a single language"],
    ["ja", "en", "ja", "a single language (ja)"],
    ["en-US", "ja", "en", "a region subtag counts as its base language"],
    ["JA-jp", "en", "ja", "tags are case-insensitive"],
    ["fr, de", "ja", "ja", "only unsupported languages give the fallback"],
    ["*", "en", "en", "a wildcard gives the fallback"],
    ["fr, en", "ja", "en", "the first supported language in order"],
    ["en, ja", "ja", "en", "equal q keeps header order"],
    ["en;q=0.5, ja", "en", "ja", "a missing q counts as 1"],
    ["en;q=0.8, ja;q=0.9", "en", "ja", "the higher q wins regardless of order"],
    ["ja;q=0.1, en;q=0.2", "ja", "en", "low q values still rank"],
    ["fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "ja", "en", "the MDN example"],
    ["ja-JP,ja;q=0.9,en-US;q=0.8,en;q=0.7", "en", "ja", "a typical Japanese browser"],
    ["en-US,en;q=0.9,ja;q=0.8", "ja", "en", "a typical English browser"],
    ["en; q=0.3,ja;q=0.2", "ja", "en", "a space after the semicolon"],
    ["ja;level=1;q=0.4, en;q=0.5", "ja", "en", "other parameters before q are skipped"],
    ["en ;q=0.3, ja;q=0.2", "ja", "en", "a space before the semicolon"],
  ];
  for (const [header, fallback, expected, why] of cases) {
    test(`${why}: ${JSON.stringify(header)} (fallback ${fallback}) → ${expected}`, () =>
      assert.equal(pickLanguage(header, fallback), expected));
  }

  test("q=0 means not acceptable: ja;q=0 with nothing else supported gives the fallback", () => {
    assert.equal(pickLanguage("ja;q=0, fr", "en"), "en");
  });
});

describe("tlsSummary", () => {
  const base = { domain: "partner.example", host: "mx.partner.example" };
  const cases: [check: TlsCheck, ja: RegExp, en: RegExp][] = [
    [
      { ...base, tls: "offered", subject: "CN=other.example", verifyError: "ERR_TLS_CERT_ALTNAME_INVALID" },
      /^partner\.example: TLS 対応、ただし証明書を検証できません \(CN=other\.example: ERR_TLS_CERT_ALTNAME_INVALID\)$/,
      /^partner\.example: STARTTLS, but the certificate does not verify \(CN=other\.example: ERR_TLS_CERT_ALTNAME_INVALID\)$/,
    ],
    [
      { domain: "gone.example", tls: "none", error: "MX of gone.example: the name does not exist" },
      /^gone\.example: TLS を確認できませんでした \(MX of gone\.example: the name does not exist\)$/,
      /^gone\.example: TLS could not be checked \(MX of gone\.example: the name does not exist\)$/,
    ],
    [
      {
        ...base,
        tls: "verified",
        subject: "CN=mx.partner.example",
        mtaSts: { mode: "enforce", mxMatches: true },
      },
      /証明書を検証済み、CN=mx\.partner\.example\); MTA-STS: enforce$/,
      /verified certificate \(CN=mx\.partner\.example\); MTA-STS: enforce$/,
    ],
    [
      {
        ...base,
        tls: "offered",
        subject: "CN=mx.partner.example",
        mtaSts: { mode: "enforce", mxMatches: false },
      },
      /^partner\.example: TLS 対応 \(証明書は有効、CN=mx\.partner\.example\)、ただし検証済みとはみなしません; mx\.partner\.example は MTA-STS ポリシー \(enforce\) に含まれていません$/,
      /^partner\.example: STARTTLS with a valid certificate \(CN=mx\.partner\.example\), not counted as verified; mx\.partner\.example is not listed in the MTA-STS policy \(enforce\)$/,
    ],
    [
      {
        ...base,
        tls: "verified",
        subject: "CN=mx.partner.example",
        mtaSts: { mode: "none", mxMatches: false },
      },
      /証明書を検証済み、CN=mx\.partner\.example\); MTA-STS: none$/,
      /verified certificate \(CN=mx\.partner\.example\); MTA-STS: none$/,
    ],
    [
      { ...base, tls: "none", mtaSts: { mode: "none", mxMatches: false, error: "timeout" } },
      /受信サーバー mx\.partner\.example は STARTTLS を提供していません\); MTA-STS ポリシーを読み込めませんでした$/,
      /mail server mx\.partner\.example does not offer it\); the MTA-STS policy could not be loaded$/,
    ],
  ];
  for (const [check, jaText, enText] of cases) {
    test(`${check.tls}${check.error ? " (failed)" : ""}${check.mtaSts ? ` with MTA-STS ${check.mtaSts.mode}` : ""}`, () => {
      assert.match(tlsSummary("ja", check), jaText);
      assert.match(tlsSummary("en", check), enText);
    });
  }
});
