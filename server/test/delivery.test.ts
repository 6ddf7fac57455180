// Pure delivery helpers: retry backoff, header removal on the way out, SMTP result classification.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { nextRetryAt, type RetryPolicy } from "../src/delivery/backoff.js";
import { removeHeaderFields } from "../src/delivery/outgoing.js";
import { classifySmtpResult, wireAddress } from "../src/delivery/relay.js";

describe("nextRetryAt", () => {
  const policy: RetryPolicy = { retryDelaysSeconds: [60, 300, 900], giveUpAfterSeconds: 3600 };
  const first = 1_000_000;
  const cases: [why: string, attempts: number, now: number, expected: number | null][] = [
    ["after the first attempt: the first delay", 1, first, first + 60_000],
    ["after the second attempt: the second delay", 2, first + 60_000, first + 60_000 + 300_000],
    ["after the third attempt: the third delay", 3, first + 1000, first + 1000 + 900_000],
    ["past the end of the list: the last delay repeats", 7, first + 1000, first + 1000 + 900_000],
    ["zero attempts counts as one", 0, first, first + 60_000],
    ["negative attempts count as one", -3, first, first + 60_000],
    [
      "a retry landing exactly on the give-up time is still allowed",
      3,
      first + 3600_000 - 900_000,
      first + 3600_000,
    ],
    ["one millisecond past the give-up time gives up", 3, first + 3600_000 - 900_000 + 1, null],
    ["long after the give-up time gives up", 1, first + 10 * 3600_000, null],
  ];
  for (const [why, attempts, now, expected] of cases) {
    test(`${why}`, () => {
      assert.equal(nextRetryAt(policy, attempts, first, now), expected);
    });
  }

  test("an empty delay list falls back to 300 seconds", () => {
    assert.equal(nextRetryAt({ retryDelaysSeconds: [], giveUpAfterSeconds: 3600 }, 1, 0, 0), 300_000);
  });

  test("fractional delays are honoured in milliseconds", () => {
    assert.equal(nextRetryAt({ retryDelaysSeconds: [0.5], giveUpAfterSeconds: 10 }, 1, 0, 0), 500);
  });

  test("the default schedule gives up after two days", () => {
    const defaults: RetryPolicy = {
      retryDelaysSeconds: [300, 600, 1800, 3600, 7200, 14400],
      giveUpAfterSeconds: 172800,
    };
    let now = 0;
    let attempts = 1;
    const times: number[] = [];
    for (
      let at = nextRetryAt(defaults, attempts, 0, now);
      at !== null;
      at = nextRetryAt(defaults, ++attempts, 0, now)
    ) {
      assert.ok(at > now, "every retry lies in the future");
      times.push(at);
      now = at;
    }
    assert.ok(now <= 172800_000);
    assert.ok(now + 14400_000 > 172800_000, "the last retry is the last one that fits");
    assert.deepEqual(
      times.slice(0, 6),
      [300, 900, 2700, 6300, 13500, 27900].map((s) => s * 1000),
    );
  });
});

describe("removeHeaderFields", () => {
  const INTERNAL = /^(x-sendguard-[!-9;-~]*|bcc|return-path)$/i;
  const strip = (s: string, drop = INTERNAL) =>
    removeHeaderFields(Buffer.from(s, "latin1"), drop).toString("latin1");

  const cases: [why: string, input: string, expected: string][] = [
    ["keeps a block with nothing to drop", "From: a@x\r\nTo: b@y\r\n\r\n", "From: a@x\r\nTo: b@y\r\n\r\n"],
    ["drops Bcc", "From: a@x\r\nBcc: secret@y\r\nTo: b@y\r\n\r\n", "From: a@x\r\nTo: b@y\r\n\r\n"],
    ["drops Bcc in any case", "BCC: s@y\r\nbcc: t@y\r\nbCc: u@y\r\nTo: b@y\r\n\r\n", "To: b@y\r\n\r\n"],
    ["drops an empty Bcc", "Bcc:\r\nTo: b@y\r\n\r\n", "To: b@y\r\n\r\n"],
    [
      "drops a folded Bcc with all its continuation lines",
      "Bcc: a@y,\r\n b@y,\r\n\tc@y\r\nSubject: s\r\n\r\n",
      "Subject: s\r\n\r\n",
    ],
    [
      "drops X-Sendguard-* fields in any case",
      "X-Sendguard-Hold: 5\r\nx-sendguard-token: abc\r\nX-SENDGUARD-Z: 1\r\nSubject: s\r\n\r\n",
      "Subject: s\r\n\r\n",
    ],
    [
      "drops a folded X-Sendguard field",
      "X-Sendguard-Note: one\r\n two\r\nTo: b@y\r\n\r\n",
      "To: b@y\r\n\r\n",
    ],
    ["drops Return-Path", "Return-Path: <a@x>\r\nFrom: a@x\r\n\r\n", "From: a@x\r\n\r\n"],
    [
      "keeps fields that only start like an internal one",
      "Bcc-Note: x\r\nX-SendguardFoo: 1\r\nX-Other-Sendguard-A: 2\r\nResent-Bcc: r@y\r\n\r\n",
      "Bcc-Note: x\r\nX-SendguardFoo: 1\r\nX-Other-Sendguard-A: 2\r\nResent-Bcc: r@y\r\n\r\n",
    ],
    [
      "keeps the continuation lines of a kept field after a dropped one",
      "Bcc: a@y\r\n b@y\r\nSubject: one\r\n two\r\n\r\n",
      "Subject: one\r\n two\r\n\r\n",
    ],
    ["drops the last field and keeps the blank line", "Subject: s\r\nBcc: a@y\r\n\r\n", "Subject: s\r\n\r\n"],
    ["drops the last field of a block without blank line", "Subject: s\r\nBcc: a@y\r\n", "Subject: s\r\n"],
    ["drops a field without a final CRLF", "Subject: s\r\nBcc: a@y", "Subject: s\r\n"],
    ["drops every field", "Bcc: a@y\r\nReturn-Path: <>\r\n\r\n", "\r\n"],
    ["keeps an empty block empty", "", ""],
    ["keeps an empty header", "\r\n", "\r\n"],
    [
      "keeps 8-bit bytes of kept fields byte for byte",
      "Subject: \xe6\x97\xa5\xff\r\nBcc: x\r\n\r\n",
      "Subject: \xe6\x97\xa5\xff\r\n\r\n",
    ],
  ];
  for (const [why, input, expected] of cases) {
    test(`${why}`, () => {
      assert.equal(strip(input), expected);
    });
  }

  test("the body, passed on separately after the header block, is untouched", () => {
    const header = "From: a@x\r\nBcc: s@y\r\n\r\n";
    const body = "Bcc: this line is body text\r\n X-Sendguard-Hold: also body\r\n";
    const out = Buffer.concat([
      removeHeaderFields(Buffer.from(header), INTERNAL),
      Buffer.from(body),
    ]).toString();
    assert.equal(out, `From: a@x\r\n\r\n${body}`);
  });

  test("given a whole message, nothing after the blank line is touched", () => {
    const message = "From: a@x\r\nBcc: s@y\r\n\r\nBcc: body text\r\nReturn-Path: body too\r\n";
    assert.equal(strip(message), "From: a@x\r\n\r\nBcc: body text\r\nReturn-Path: body too\r\n");
  });

  test("uses the given pattern only", () => {
    assert.equal(strip("A: 1\r\nB: 2\r\n b\r\nC: 3\r\n\r\n", /^b$/i), "A: 1\r\nC: 3\r\n\r\n");
  });
});

describe("classifySmtpResult", () => {
  const err = (recipient: string, responseCode: number | undefined, response?: string) =>
    Object.assign(new Error(response ?? "error"), { recipient, responseCode, response });

  test("accepted recipients are sent", () => {
    assert.deepEqual(classifySmtpResult(["a@x", "b@y"], ["a@x", "b@y"], []), [
      { address: "a@x", outcome: "sent", response: "accepted" },
      { address: "b@y", outcome: "sent", response: "accepted" },
    ]);
  });

  const cases: [why: string, code: number | undefined, outcome: "failed" | "retry"][] = [
    ["a 550 rejection fails", 550, "failed"],
    ["a 553 rejection fails", 553, "failed"],
    ["a 500 rejection fails", 500, "failed"],
    ["a 599 rejection fails", 599, "failed"],
    ["a 450 deferral is retried", 450, "retry"],
    ["a 452 deferral is retried", 452, "retry"],
    ["an error without a response code (connection) is retried", undefined, "retry"],
    ["an odd 600 code is retried", 600, "retry"],
    ["a 250 code on a rejection is retried, not failed", 250, "retry"],
  ];
  for (const [why, code, outcome] of cases) {
    test(`${why}`, () => {
      const [result] = classifySmtpResult(["a@x"], [], [err("a@x", code, `${code ?? "???"} no`)]);
      assert.equal(result?.outcome, outcome);
    });
  }

  test("a recipient neither accepted nor rejected is retried", () => {
    assert.deepEqual(classifySmtpResult(["a@x"], [], []), [
      { address: "a@x", outcome: "retry", response: "not acknowledged by the relay" },
    ]);
  });

  test("matching is case-insensitive and keeps the envelope's spelling", () => {
    const results = classifySmtpResult(
      ["Alice@Corp.Example", "BOB@x"],
      ["alice@corp.example"],
      [err("bob@X", 550, "550 no")],
    );
    assert.deepEqual(
      results.map((r) => [r.address, r.outcome]),
      [
        ["Alice@Corp.Example", "sent"],
        ["BOB@x", "failed"],
      ],
    );
  });

  test("an IDN recipient is matched by the A-label the relay was given (and answers for)", () => {
    const results = classifySmtpResult(
      ["taro@例え.jp", "hanako@例え.jp"],
      ["taro@xn--r8jz45g.jp"],
      [err("hanako@xn--r8jz45g.jp", 550, "550 5.1.1 unknown")],
    );
    assert.deepEqual(
      results.map((r) => [r.address, r.outcome]),
      [
        ["taro@例え.jp", "sent"],
        ["hanako@例え.jp", "failed"],
      ],
    );
  });

  test("a non-ASCII local part is matched in the UTF-8 form it goes out in with SMTPUTF8", () => {
    assert.equal(wireAddress("日本語@xn--r8jz45g.jp"), "日本語@例え.jp");
    const [result] = classifySmtpResult(["日本語@例え.jp"], ["日本語@例え.jp"], []);
    assert.equal(result?.outcome, "sent");
  });

  test("a local part that is no dot-atom is matched in its quoted form", () => {
    assert.equal(wireAddress("a..b@x.example"), '"a..b"@x.example');
    const [result] = classifySmtpResult(["a..b@x.example"], ['"a..b"@x.example'], []);
    assert.equal(result?.outcome, "sent");
  });

  test("a mix keeps the envelope order", () => {
    const results = classifySmtpResult(
      ["ok@x", "temp@x", "perm@x", "lost@x"],
      ["ok@x"],
      [err("perm@x", 550, "550 5.1.1 user unknown"), err("temp@x", 451, "451 4.3.0 try later")],
    );
    assert.deepEqual(results, [
      { address: "ok@x", outcome: "sent", response: "accepted" },
      { address: "temp@x", outcome: "retry", response: "451 4.3.0 try later" },
      { address: "perm@x", outcome: "failed", response: "550 5.1.1 user unknown" },
      { address: "lost@x", outcome: "retry", response: "not acknowledged by the relay" },
    ]);
  });

  test("a rejection wins over an acceptance of the same address", () => {
    assert.equal(classifySmtpResult(["a@x"], ["a@x"], [err("a@x", 550)])[0]?.outcome, "failed");
  });

  test("the response is collapsed to one line and cut at 500 characters", () => {
    const long = `550-first line\r\n550 second\tline ${"x".repeat(600)}`;
    const [result] = classifySmtpResult(["a@x"], [], [err("a@x", 550, long)]);
    assert.ok(result);
    assert.doesNotMatch(result.response, /[\r\n\t]/);
    assert.ok(result.response.startsWith("550-first line 550 second line x"));
    assert.equal(result.response.length, 500);
  });

  test("without a server response the error message is used", () => {
    const e = Object.assign(new Error("Connection\nclosed"), { recipient: "a@x" });
    assert.equal(classifySmtpResult(["a@x"], [], [e])[0]?.response, "Connection closed");
  });

  test("a rejection without a recipient does not match anybody", () => {
    const e = Object.assign(new Error("x"), { responseCode: 550 });
    assert.equal(classifySmtpResult(["a@x"], ["a@x"], [e])[0]?.outcome, "sent");
  });

  test("no recipients give no results", () => {
    assert.deepEqual(classifySmtpResult([], ["a@x"], []), []);
  });
});
