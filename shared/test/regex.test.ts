import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Worker } from "node:worker_threads";
import { parsePolicyDocument, type Conditions } from "../src/policy/index.js";
import { compilePolicyRegex, regexMatches } from "../src/rules/regex.js";

/**
 * Evaluates a policy with one rule (conditions `when`) against a message with `body` and
 * `attachmentName` on another thread, and resolves with the names of the rules that matched. A backtracking engine blocks the thread it runs on, timers
 * included, so only from here can node:test's `timeout` end a test whose match never finishes.
 */
function evaluateOnWorker(
  when: Conditions,
  body: string,
  attachmentName = "",
): { result: Promise<string[]>; stop: () => void } {
  // Node 20 workers do not inherit tsx's loader: the worker registers it before importing .ts.
  const worker = new Worker(
    `const { parentPort, workerData } = require("node:worker_threads");
     import("tsx/esm/api")
       .then((tsx) => { tsx.register(); return import(workerData.shared); })
       .then(({ evaluate, mergePolicies, presetPolicy }) => {
         const rule = { name: "r", enabled: true, when: workerData.when, then: { hold: { minutes: 1 } } };
         const { policy } = mergePolicies(presetPolicy("self"), [{ scope: "org", document: { rules: [rule] } }]);
         const decision = evaluate(policy, {
           sender: "taro@corp.example", senderGroups: [], recipients: [], subject: "", bodyText: workerData.body,
           attachments: workerData.attachments, size: workerData.body.length, now: new Date(), timeZone: "Asia/Tokyo",
           pii: () => ({ phone: 0, postal_address: 0, my_number: 0, credit_card: 0, email: 0 }),
           analysisGaps: [],
         });
         parentPort.postMessage(decision.matched);
       });`,
    {
      eval: true,
      workerData: {
        shared: new URL("../src/index.ts", import.meta.url).href,
        when,
        body,
        attachments: attachmentName
          ? [{ filename: attachmentName, extension: "", size: 1, encrypted: false, text: "" }]
          : [],
      },
    },
  );
  const result = new Promise<string[]>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  return { result, stop: () => void worker.terminate() };
}

describe("patterns run in linear time", () => {
  test("(a+)+$ on 2 M characters of 'aaaa…b' returns promptly", { timeout: 20_000 }, async (t) => {
    // With RegExp this takes about 2^n steps: 30 characters already take minutes.
    const { result, stop } = evaluateOnWorker({ bodyMatches: "(a+)+$" }, `${"a".repeat(2_000_000 - 1)}b`);
    t.after(stop);
    assert.deepEqual(await result, []);
  });

  test("a file-name pattern with many * on a long name returns promptly", { timeout: 20_000 }, async (t) => {
    // As the RegExp ^a.*a.*…$ this backtracks polynomially: 100 characters already take seconds.
    const name = `${"a".repeat(100_000)}.txt`;
    const { result, stop } = evaluateOnWorker({ attachmentName: ["*a*a*a*a*a*a*a*a*b"] }, "", name);
    t.after(stop);
    assert.deepEqual(await result, []);
  });
});

describe("policy regular expressions mean what they meant with JavaScript's RegExp", () => {
  const cases: [string, string, string, boolean][] = [
    ["case-insensitive ASCII", "confidential", "CONFIDENTIAL report", true],
    ["case-insensitive full-width letters", "ａｂｃ", "ＡＢＣ", true],
    ["case-insensitive Greek", "σ", "Σ", true],
    ["Japanese alternatives", "社外秘|極秘", "これは極秘です", true],
    ["Japanese absent", "社外秘|極秘", "ご案内", false],
    ["optional character", "御?見積書", "見積書の送付", true],
    [String.raw`\s matches the ideographic space`, String.raw`社外\s*秘`, "社外　秘", true],
    [String.raw`\s matches a no-break space`, String.raw`a\sb`, "a\u00a0b", true],
    [String.raw`\S does not match the ideographic space`, String.raw`a\Sb`, "a　b", false],
    [String.raw`[^\s] does not match the ideographic space`, String.raw`[^\s]x`, "　x", false],
    [String.raw`\d is ASCII digits only`, String.raw`\d{3}`, "１２３", false],
    [String.raw`\d`, String.raw`口座番号\s*[:：]?\s*\d{7}`, "口座番号：1234567", true],
    [String.raw`\uXXXX`, String.raw`\u3042`, "あ", true],
    [String.raw`\u{…}`, String.raw`\u{1F600}`, "😀", true],
    [String.raw`\p{Script=Han}`, String.raw`^\p{Script=Han}+$`, "漢字", true],
    [String.raw`\p{sc=Hiragana}`, String.raw`\p{sc=Hiragana}`, "カタカナ", false],
    ["one dot is one code point", "^.$", "😀", true],
    ["no multiline: ^ is the start of the text", "^b", "a\nb", false],
    ["no multiline: $ is the end of the text", "a$", "a\nb", false],
    ["dot does not match a newline", "a.b", "a\nb", false],
    [String.raw`\b at ASCII word edges`, String.raw`\bfoo\b`, "a foo.", true],
  ];
  for (const [why, pattern, text, expected] of cases) {
    test(`${why}: ${pattern} on ${JSON.stringify(text)} → ${expected}`, () => {
      assert.equal(new RegExp(pattern, "iu").test(text), expected, "what RegExp did");
      assert.equal(regexMatches(pattern, text), expected);
    });
  }

  const re2Only: [string, string, string, boolean][] = [
    ["(?m) turns multiline on", "(?m)^b", "a\nb", true],
    ["(?s) lets a dot match a newline", "(?s)a.b", "a\nb", true],
    ["a ] first in a class is a literal", "[]x]", "]", true],
    ["POSIX classes", "[[:digit:]]x", "5x", true],
    [String.raw`\Q…\E quotes`, String.raw`\Q1+1\E`, "1+1=2", true],
    [String.raw`\s inside \Q…\E is literal`, String.raw`\Q\s\E`, "\\s", true],
  ];
  for (const [why, pattern, text, expected] of re2Only) {
    test(`RE2 syntax, ${why}: ${pattern} on ${JSON.stringify(text)} → ${expected}`, () =>
      assert.equal(regexMatches(pattern, text), expected));
  }
});

describe("patterns RE2 cannot run are refused with a reason", () => {
  const refused: [string, RegExp][] = [
    [String.raw`(a)\1`, /backreferences/],
    [String.raw`(?<n>a)\k<n>`, /backreferences/],
    ["secret(?!ary)", /lookahead and lookbehind/],
    ["(?<=社外)秘", /lookahead and lookbehind/],
    [String.raw`[\S\n]`, /\\S inside \[\.\.\.\] is not supported/],
    ["(", /^missing closing \): `\(`$/],
    ["a{1001}", /invalid repeat count/],
  ];
  for (const [pattern, reason] of refused) {
    test(pattern, () => {
      const compiled = compilePolicyRegex(pattern);
      assert.ok(!compiled.ok);
      assert.match(compiled.error, reason);
    });
  }

  test("policy set's errors name the field, the reason and the rule", () => {
    const parsed = parsePolicyDocument({
      preset: "self",
      rules: [
        { name: "fine", when: { subjectMatches: "見積" }, then: { hold: { minutes: 1 } } },
        { name: "secret", when: { bodyMatches: "secret(?!ary)" }, then: { approve: {} } },
      ],
    });
    assert.ok(!parsed.ok);
    assert.deepEqual(parsed.errors, [
      "rules.1.when.bodyMatches: expected a valid regular expression (RE2 syntax, matched case-insensitively): " +
        'lookahead and lookbehind ((?=…), (?!…), (?<=…), (?<!…)) are not supported (rule "secret")',
    ]);
  });

  test("a pattern that reaches evaluation unvalidated throws instead of matching nothing", () => {
    assert.throws(() => regexMatches("(?=x)", "x"), /lookahead/);
  });
});
