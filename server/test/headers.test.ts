// Header block parsing and summary (server/src/pipeline/headers.ts).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  decodeHeaderText,
  fieldValue,
  HeaderError,
  multipartBoundary,
  oneLine,
  parseHeaderBlock,
  summarize,
  type HeaderField,
} from "../src/pipeline/headers.js";

const block = (s: string) => Buffer.from(s, "latin1");
const summary = (s: string) => summarize(parseHeaderBlock(block(s)));

describe("parseHeaderBlock", () => {
  const ok: [why: string, input: string, fields: HeaderField[]][] = [
    ["an empty block", "", []],
    ["an empty header (just CRLF)", "\r\n", []],
    [
      "fields with the blank line",
      "From: a@b.example\r\nTo: c@d.example\r\n\r\n",
      [
        { name: "From", value: "a@b.example" },
        { name: "To", value: "c@d.example" },
      ],
    ],
    [
      "fields without the blank line (header-only message)",
      "From: a@b.example\r\nSubject: s\r\n",
      [
        { name: "From", value: "a@b.example" },
        { name: "Subject", value: "s" },
      ],
    ],
    ["no final CRLF at all", "Subject: s", [{ name: "Subject", value: "s" }]],
    [
      "folding with a space keeps the whitespace (unfolding removes only CRLF)",
      "Subject: one\r\n two\r\n\r\n",
      [{ name: "Subject", value: "one two" }],
    ],
    [
      "folding with a tab",
      "Subject: one\r\n\ttwo\r\n three\r\nX: y\r\n\r\n",
      [
        { name: "Subject", value: "one\ttwo three" },
        { name: "X", value: "y" },
      ],
    ],
    ["an empty value", "Subject:\r\n\r\n", [{ name: "Subject", value: "" }]],
    [
      "a value folded onto the next line",
      "To:\r\n a@b.example\r\n\r\n",
      [{ name: "To", value: " a@b.example" }],
    ],
    [
      "surrounding whitespace of the first line trimmed",
      "Subject:   padded   \r\n\r\n",
      [{ name: "Subject", value: "padded" }],
    ],
    ["no space after the colon", "Subject:tight\r\n\r\n", [{ name: "Subject", value: "tight" }]],
    ["colons in the value", "X-Time: 10:05:00\r\n\r\n", [{ name: "X-Time", value: "10:05:00" }]],
    [
      "unusual but legal field-name characters",
      "X-A!#$%&'*+-.^_`|~9: v\r\n\r\n",
      [{ name: "X-A!#$%&'*+-.^_`|~9", value: "v" }],
    ],
    [
      "repeated fields keep their order",
      "Received: 1\r\nReceived: 2\r\n\r\n",
      [
        { name: "Received", value: "1" },
        { name: "Received", value: "2" },
      ],
    ],
    [
      "8-bit bytes kept as latin1",
      "Subject: \xe6\x97\xa5\r\n\r\n",
      [{ name: "Subject", value: "\xe6\x97\xa5" }],
    ],
    [
      "a line of exactly 998 characters",
      `X: ${"a".repeat(995)}\r\n\r\n`,
      [{ name: "X", value: "a".repeat(995) }],
    ],
  ];
  for (const [why, input, fields] of ok) {
    test(`parses ${why}`, () => {
      assert.deepEqual(parseHeaderBlock(block(input)), fields);
    });
  }

  const bad: [why: string, input: string, message: RegExp][] = [
    [
      "a line without a colon",
      "From: a@b.example\r\nnot a header\r\n\r\n",
      /^header line 2 is not "Name: value" \("not a header"\)$/,
    ],
    ["a line starting with a colon", ": no name\r\n\r\n", /^header line 1 is not "Name: value"/],
    ["a space inside the name", "X Foo: bar\r\n\r\n", /^header line 1 is not/],
    ["a space before the colon", "Subject : x\r\n\r\n", /^header line 1 is not/],
    ["a non-ASCII name", "Sübject: x\r\n\r\n", /^header line 1 is not/],
    [
      "a continuation line first",
      " folded: nothing before\r\nFrom: a@b.example\r\n\r\n",
      /^header line 1 is a continuation line with no field before it$/,
    ],
    ["a tab continuation first", "\tx\r\n\r\n", /^header line 1 is a continuation line/],
    [
      "a line of 999 characters",
      `A: b\r\nB: c\r\nX: ${"a".repeat(996)}\r\n\r\n`,
      /^header line 3 is longer than 998 characters$/,
    ],
    [
      "a continuation line of 999 characters",
      `A: b\r\n ${"a".repeat(998)}\r\n\r\n`,
      /^header line 2 is longer than 998/,
    ],
    ["an empty line inside the block", "A: b\r\n\r\nC: d\r\n\r\n", /^header line 2 is not/],
  ];
  for (const [why, input, message] of bad) {
    test(`rejects ${why}, naming the line`, () => {
      assert.throws(
        () => parseHeaderBlock(block(input)),
        (err: unknown) => {
          assert.ok(err instanceof HeaderError);
          assert.match(err.message, message);
          return true;
        },
      );
    });
  }

  test("quotes at most 40 characters of a malformed line", () => {
    assert.throws(
      () => parseHeaderBlock(block(`${"x".repeat(100)}\r\n\r\n`)),
      (err: Error) => {
        assert.ok(err.message.includes(JSON.stringify("x".repeat(40))));
        assert.ok(!err.message.includes("x".repeat(41)));
        return true;
      },
    );
  });
});

describe("fieldValue", () => {
  const fields: HeaderField[] = [
    { name: "Subject", value: "first" },
    { name: "SUBJECT", value: "second" },
  ];
  test("finds a field case-insensitively and returns the first occurrence", () => {
    assert.equal(fieldValue(fields, "subject"), "first");
  });
  test("returns undefined for a missing field", () => {
    assert.equal(fieldValue(fields, "Date"), undefined);
  });
});

describe("summarize: subject", () => {
  const cases: [why: string, header: string, subject: string][] = [
    ["a plain ASCII subject", "Subject: Quarterly report\r\n", "Quarterly report"],
    ["an ISO-2022-JP B-encoded subject", "Subject: =?ISO-2022-JP?B?GyRCJEskWyRzJDQbKEI=?=\r\n", "にほんご"],
    [
      "two adjacent ISO-2022-JP encoded words (whitespace between them dropped)",
      "Subject: =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?= =?ISO-2022-JP?B?GyRCN29MPhsoQg==?=\r\n",
      "テスト件名",
    ],
    ["a lower-case charset name", "Subject: =?iso-2022-jp?b?GyRCJEskWyRzJDQbKEI=?=\r\n", "にほんご"],
    ["a UTF-8 B-encoded subject", "Subject: =?UTF-8?B?5pel5pys6Kqe44Gu5Lu25ZCN?=\r\n", "日本語の件名"],
    [
      "a UTF-8 Q-encoded subject mixed with plain text",
      "Subject: =?utf-8?q?=E6=97=A5=E6=9C=AC?= plain\r\n",
      "日本 plain",
    ],
    [
      "a UTF-8 subject folded across encoded words",
      "Subject: =?UTF-8?B?5pel5pys6Kqe?=\r\n =?UTF-8?B?44Gu5Lu25ZCN?=\r\n",
      "日本語の件名",
    ],
    ["Q-encoding underscores as spaces", "Subject: =?UTF-8?Q?hello_world?=\r\n", "hello world"],
    ["a missing subject", "From: a@b.example\r\n", ""],
    ["an empty subject", "Subject:\r\n", ""],
    [
      "an encoded CRLF cannot start a new header line",
      "Subject: =?UTF-8?B?YQ0KQmNjOiB4QGV2aWwuZXhhbXBsZQ==?=\r\n",
      "a Bcc: x@evil.example",
    ],
    ["an encoded NUL and tab become single spaces", "Subject: =?UTF-8?Q?a=00=09=00b?=\r\n", "a b"],
  ];
  for (const [why, header, subject] of cases) {
    test(`${why} → ${JSON.stringify(subject)}`, () => {
      assert.equal(summary(header).subject, subject);
    });
  }
});

/** A string holding the raw bytes of `text` in `encoding`, as parseHeaderBlock sees them (latin1). */
const raw = (hex: string) => Buffer.from(hex, "hex").toString("latin1");
const RAW_UTF8 = Buffer.from("日本語の件名", "utf8").toString("latin1");
const RAW_JIS = raw("1b2442244b245b247324341b2842"); // ESC $ B "にほんご" ESC ( B

describe("decodeHeaderText", () => {
  const cases: [why: string, input: string, expected: string][] = [
    ["plain ASCII stays as it is", "Quarterly report", "Quarterly report"],
    ["raw UTF-8 bytes (RFC 6532)", RAW_UTF8, "日本語の件名"],
    ["raw ISO-2022-JP (ESC $ B … ESC ( B)", RAW_JIS, "にほんご"],
    ["raw ISO-2022-JP between ASCII", `Re: ${RAW_JIS} (2)`, "Re: にほんご (2)"],
    ["bytes that are not UTF-8 stay latin1", "caf\xe9", "café"],
    ["encoded words after plain text", "plain =?UTF-8?B?5pel5pys?=", "plain 日本"],
    ["raw UTF-8 followed by an encoded word", `${RAW_UTF8} =?UTF-8?B?5pel5pys?=`, "日本語の件名 日本"],
    ["an ISO-2022-JP encoded word", "=?ISO-2022-JP?B?GyRCJEskWyRzJDQbKEI=?=", "にほんご"],
  ];
  for (const [why, input, expected] of cases) {
    test(`${why} → ${JSON.stringify(expected)}`, () => {
      assert.equal(decodeHeaderText(input), expected);
    });
  }

  test("raw Japanese subjects and display names are decoded by summarize", () => {
    const s = summary(
      `From: ${RAW_JIS} <yamada@corp.example>\r\nTo: ${Buffer.from("山田 太郎", "utf8").toString("latin1")} <t@x.example>\r\nSubject: ${RAW_UTF8}\r\n`,
    );
    assert.equal(s.subject, "日本語の件名");
    assert.deepEqual(s.from, ["yamada@corp.example"]);
    assert.deepEqual(s.to, ["t@x.example"]);
    assert.equal(summary(`Subject: ${RAW_JIS}\r\n`).subject, "にほんご");
  });
});

describe("summarize: addresses", () => {
  const cases: [
    why: string,
    header: string,
    expected: { from?: string[]; to?: string[]; cc?: string[]; bcc?: string[] },
  ][] = [
    ["a bare address", "To: bob@example.com\r\n", { to: ["bob@example.com"] }],
    ["a display name", "From: Alice Example <alice@corp.example>\r\n", { from: ["alice@corp.example"] }],
    [
      "a quoted display name with a comma",
      'To: "Yamada, Taro" <taro@example.co.jp>, jiro@example.co.jp\r\n',
      {
        to: ["taro@example.co.jp", "jiro@example.co.jp"],
      },
    ],
    [
      "an ISO-2022-JP encoded display name",
      "From: =?ISO-2022-JP?B?GyRCOzNFRBsoQg==?= <yamada@corp.example>\r\n",
      {
        from: ["yamada@corp.example"],
      },
    ],
    [
      "a UTF-8 encoded display name with a comma",
      "To: =?UTF-8?B?5bGx55SwLCDlpKrpg44=?= <a@example.com>\r\n",
      {
        to: ["a@example.com"],
      },
    ],
    ["angle brackets only", "Cc: <a@x.example>, <b@x.example>\r\n", { cc: ["a@x.example", "b@x.example"] }],
    ["a group", "To: Team: a@x.example, B <b@x.example>;\r\n", { to: ["a@x.example", "b@x.example"] }],
    ["an empty group", "To: undisclosed-recipients:;\r\n", { to: [] }],
    [
      "a group next to plain addresses",
      "To: c@x.example, Team: a@x.example;, d@x.example\r\n",
      {
        to: ["c@x.example", "a@x.example", "d@x.example"],
      },
    ],
    ["a comment", "To: bob@example.com (Bob in sales)\r\n", { to: ["bob@example.com"] }],
    [
      "a folded list",
      "To: a@x.example,\r\n b@x.example,\r\n\tc@x.example\r\n",
      { to: ["a@x.example", "b@x.example", "c@x.example"] },
    ],
    [
      "repeated To fields are all read",
      "To: a@x.example\r\nTo: b@x.example\r\n",
      { to: ["a@x.example", "b@x.example"] },
    ],
    [
      "field names in any case",
      "TO: a@x.example\r\ncc: b@x.example\r\nBCC: c@x.example\r\n",
      {
        to: ["a@x.example"],
        cc: ["b@x.example"],
        bcc: ["c@x.example"],
      },
    ],
    ["no address fields", "Subject: x\r\n", { from: [], to: [], cc: [], bcc: [] }],
  ];
  for (const [why, header, expected] of cases) {
    test(`${why}`, () => {
      const s = summary(header);
      for (const key of ["from", "to", "cc", "bcc"] as const) {
        if (expected[key]) assert.deepEqual(s[key], expected[key], key);
      }
    });
  }

  test("an encoded-word display name never becomes an extra recipient (RFC 2047 §5: encoded words are not addresses)", () => {
    const s = summary(
      "To: =?UTF-8?Q?x@evil.example,?= <ok@example.com>\r\nCc: =?UTF-8?Q?y=40evil.example?=\r\n",
    );
    assert.deepEqual(s.to, ["ok@example.com"]);
    assert.deepEqual(s.cc, []);
  });
});

describe("summarize: Message-ID and Date", () => {
  const cases: [why: string, header: string, messageId: string | null][] = [
    ["a normal Message-ID", "Message-ID: <abc.123@host.example>\r\n", "abc.123@host.example"],
    ["the name in another case", "message-id: <x@y>\r\n", "x@y"],
    ["surrounding whitespace and a comment", "Message-ID:   <a@b> (comment)\r\n", "a@b"],
    ["folded onto the next line", "Message-ID:\r\n <folded@host.example>\r\n", "folded@host.example"],
    ["the first of two Message-ID fields", "Message-ID: <first@x>\r\nMessage-ID: <second@x>\r\n", "first@x"],
    ["no angle brackets", "Message-ID: abc@host\r\n", null],
    ["empty brackets", "Message-ID: <>\r\n", null],
    ["whitespace inside the brackets", "Message-ID: <a b@host>\r\n", null],
    ["no Message-ID", "Subject: s\r\n", null],
  ];
  for (const [why, header, messageId] of cases) {
    test(`Message-ID: ${why} → ${JSON.stringify(messageId)}`, () => {
      assert.equal(summary(header).messageId, messageId);
    });
  }

  test("hasDate is true with a Date field (any case) and false without", () => {
    assert.equal(summary("Date: Fri, 27 Nov 2026 10:00:00 +0900\r\n").hasDate, true);
    assert.equal(summary("DATE: x\r\n").hasDate, true);
    assert.equal(summary("Subject: no date\r\n").hasDate, false);
    assert.equal(summary("X-Date: 1\r\nResent-Date: 2\r\n").hasDate, false);
  });

  test("an empty header block gives an empty summary", () => {
    assert.deepEqual(summary("\r\n"), {
      messageId: null,
      subject: "",
      from: [],
      to: [],
      cc: [],
      bcc: [],
      hasDate: false,
      protection: null,
    });
  });

  test("S/MIME and PGP/MIME by the top-level Content-Type", () => {
    const protection = (type: string) => summary(`Content-Type: ${type}\r\n`).protection;
    assert.deepEqual(protection('multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256'), {
      reason: "multipart/signed with protocol application/pkcs7-signature",
      opaque: false,
    });
    assert.deepEqual(protection("Application/PKCS7-MIME; smime-type=enveloped-data"), {
      reason: "application/pkcs7-mime (S/MIME)",
      opaque: true,
    });
    assert.deepEqual(protection('multipart/encrypted; protocol="application/pgp-encrypted"'), {
      reason: "multipart/encrypted (PGP/MIME)",
      opaque: true,
    });
    assert.equal(protection('multipart/signed; protocol="application/x-unknown"'), null);
    assert.equal(protection("multipart/mixed; boundary=x"), null);
  });
});

describe("multipartBoundary", () => {
  const cases: [why: string, header: string, boundary: string | null][] = [
    ["a quoted boundary", 'Content-Type: multipart/mixed; boundary="abc"\r\n\r\n', "abc"],
    ["an unquoted boundary", "Content-Type: multipart/alternative; boundary=simple\r\n\r\n", "simple"],
    [
      "a folded parameter with special characters",
      'content-type: MULTIPART/Related;\r\n\tboundary="----=_Part_0_1.2"\r\n\r\n',
      "----=_Part_0_1.2",
    ],
    ["a boundary with a space", 'Content-Type: multipart/mixed;\r\n boundary="a b"\r\n\r\n', "a b"],
    ["an upper-case parameter name", 'Content-Type: multipart/mixed; BOUNDARY="abc"\r\n\r\n', "abc"],
    [
      "an RFC 2231 continued boundary",
      'Content-Type: multipart/mixed; boundary*0="abc"; boundary*1="def"\r\n\r\n',
      "abcdef",
    ],
    ["a multipart type without a boundary parameter", "Content-Type: multipart/mixed\r\n\r\n", ""],
    ["a non-multipart type", "Content-Type: text/plain; charset=utf-8\r\n\r\n", null],
    [
      "a non-multipart type with a boundary parameter",
      'Content-Type: text/plain; boundary="abc"\r\n\r\n',
      null,
    ],
    ["no Content-Type", "Subject: x\r\n\r\n", null],
    ["an unparsable header block", "not a header\r\n\r\n", null],
    ["an empty header", "\r\n", null],
  ];
  for (const [why, header, boundary] of cases) {
    test(`${why} → ${JSON.stringify(boundary)}`, () => {
      assert.equal(multipartBoundary(block(header)), boundary);
    });
  }
});

describe("oneLine", () => {
  const cases: [input: string, expected: string][] = [
    ["plain", "plain"],
    ["a\r\nb", "a b"],
    ["a\r\n\r\nb", "a b"],
    ["a\nBcc: x@evil.example", "a Bcc: x@evil.example"],
    ["\ttabbed\t", "tabbed"],
    ["a\u0000b\u007fc", "a b c"],
    ["  spaced  ", "spaced"],
    ["日本語\r\n件名", "日本語 件名"],
    ["", ""],
  ];
  for (const [input, expected] of cases) {
    test(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => {
      assert.equal(oneLine(input), expected);
      assert.doesNotMatch(oneLine(input), /[\r\n]/);
    });
  }
});
