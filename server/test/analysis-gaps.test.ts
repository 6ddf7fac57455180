// The analysisIncomplete fact (server/src/pipeline/extract/gaps.ts): real messages analysed by
// analyzeMessage, then the rules step with the self preset, whose analysis-incomplete rule sends a
// message for approval when a keyword rule could not see all of its text.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { mergePolicies, presetPolicy, type AnalysisGap, type PolicyDocument } from "@sendguard/shared";
import { analyzeMessage, type AnalyzeLimits } from "../src/pipeline/analyze.js";
import { analysisGaps } from "../src/pipeline/extract/gaps.js";
import { applyRules } from "../src/pipeline/rules.js";
import { makeEncryptedOoxml, makeLegacyXls, makePdf, makeZip } from "./fixtures/documents.js";
import { chunks, compose } from "./fixtures/mime.js";

const SECRET_RULE: PolicyDocument = {
  rules: [
    {
      name: "secret",
      enabled: true,
      when: { contentContains: ["confidential"] },
      then: { reject: { reason: "confidential" } },
    },
  ],
};

/** A PDF of 20 pages that say `public`, then one that says `confidential`. */
const longPdf = () =>
  makePdf([
    ...Array.from({ length: 20 }, () => ({ latin: "public ".repeat(10) })),
    { latin: "confidential" },
  ]);

async function gapsOf(
  attachments: { filename: string; content: Buffer }[],
  limits: Partial<AnalyzeLimits> = {},
): Promise<AnalysisGap[]> {
  const message = await compose({ text: "see attached", attachments });
  return analysisGaps(await analyzeMessage(chunks(message), limits));
}

/** The rules step on a message, with the self preset and a keyword rule, analysed within `limits`. */
async function decide(message: AsyncIterable<Buffer> | Buffer, limits: Partial<AnalyzeLimits> = {}) {
  const { policy } = mergePolicies(presetPolicy("self"), [{ scope: "org", document: SECRET_RULE }]);
  const { decision } = await applyRules({
    policy,
    sender: "taro@corp.example",
    senderGroups: [],
    headers: {
      messageId: null,
      subject: "資料",
      from: [],
      to: [],
      cc: [],
      bcc: [],
      hasDate: true,
      protection: null,
    },
    envelope: ["client@partner.example"],
    size: 1000,
    now: new Date(),
    timeZone: "Asia/Tokyo",
    analyze: () => analyzeMessage(Buffer.isBuffer(message) ? chunks(message) : message, limits),
  });
  return decision;
}

describe("what the analysis could not see", () => {
  test("a PDF over the text limit: the message and the PDF are truncated", async () => {
    assert.deepEqual(await gapsOf([{ filename: "資料.pdf", content: longPdf() }], { maxTextChars: 100 }), [
      { part: "message", reason: "truncated" },
      { part: "資料.pdf", reason: "truncated" },
    ]);
  });

  test("everything read: no gaps", async () => {
    assert.deepEqual(await gapsOf([{ filename: "資料.pdf", content: longPdf() }]), []);
  });

  test("a PDF not finished in time: timeout", async () => {
    const message = await compose({
      text: "本文",
      attachments: [{ filename: "遅い.pdf", content: longPdf() }],
    });
    const gaps = analysisGaps(await analyzeMessage(trickle(message), { timeoutMs: 50 }));
    assert.ok(
      gaps.some((g) => g.part === "message" && g.reason === "timeout"),
      JSON.stringify(gaps),
    );
  });

  test("an attachment over maxAttachmentBytes: too_large", async () => {
    const gaps = await gapsOf([{ filename: "大きい.pdf", content: longPdf() }], { maxAttachmentBytes: 100 });
    assert.deepEqual(gaps, [{ part: "大きい.pdf", reason: "too_large" }]);
  });

  test("password-protected files and entries: encrypted, named by their place in the archive", async () => {
    const zip = await makeZip([
      { name: "open.txt", data: "public" },
      { name: "locked.txt", data: "confidential", options: { password: "pw" } },
    ]);
    assert.deepEqual(
      await gapsOf([
        { filename: "鍵付き.pdf", content: makePdf([{ latin: "confidential" }], "pw") },
        { filename: "鍵付き.xlsx", content: makeEncryptedOoxml() },
        { filename: "a.zip", content: zip },
      ]),
      [
        { part: "鍵付き.pdf", reason: "encrypted" },
        { part: "鍵付き.xlsx", reason: "encrypted" },
        { part: "a.zip/locked.txt", reason: "encrypted" },
      ],
    );
  });

  test("a format whose text is not read (legacy .xls): unsupported", async () => {
    assert.deepEqual(await gapsOf([{ filename: "古い.xls", content: makeLegacyXls(false) }]), [
      { part: "古い.xls", reason: "unsupported" },
    ]);
  });

  test("a corrupt PDF: unreadable", async () => {
    const gaps = await gapsOf([{ filename: "壊れた.pdf", content: Buffer.from("%PDF-1.7\nnot really") }]);
    assert.deepEqual(gaps, [{ part: "壊れた.pdf", reason: "unreadable" }]);
  });

  test("a problem this module does not know (a failed analysis thread) counts as unreadable", () => {
    assert.deepEqual(
      analysisGaps({ bodyText: "", attachments: [], problems: ["analysis failed: worker exited"] }),
      [{ part: "message", reason: "unreadable" }],
    );
  });

  test("an unsafe entry path is a warning, not unseen content", async () => {
    const zip = await makeZip([{ name: "../../evil.txt", data: "x" }]);
    assert.deepEqual(await gapsOf([{ filename: "a.zip", content: zip }]), []);
  });
});

/** The message in 256-byte pieces 20 ms apart: an analysis that cannot finish within 50 ms. */
async function* trickle(message: Buffer): AsyncIterable<Buffer> {
  for (let i = 0; i < message.length; i += 256) {
    yield message.subarray(i, i + 256);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("the self preset holds such a message for approval", () => {
  test("the keyword past the text limit is not seen, so the message waits for an approver", async () => {
    const message = await compose({
      text: "本文",
      attachments: [{ filename: "資料.pdf", content: longPdf() }],
    });
    const whole = await decide(message);
    assert.equal(whole.reject?.rule, "secret", "read whole, the keyword rule rejects it");
    const cut = await decide(message, { maxTextChars: 100 });
    assert.equal(cut.reject, null);
    assert.deepEqual(cut.approval?.rules, ["analysis-incomplete"]);
  });

  test("a PDF that times out waits for an approver", async () => {
    const message = await compose({
      text: "本文",
      attachments: [{ filename: "遅い.pdf", content: longPdf() }],
    });
    const decision = await decide(trickle(message), { timeoutMs: 50 });
    assert.deepEqual(decision.approval?.rules, ["analysis-incomplete"]);
  });

  test("a message read whole with nothing to find goes on as before", async () => {
    const message = await compose({ text: "本文", attachments: [{ filename: "a.txt", content: "public" }] });
    const decision = await decide(message);
    assert.equal(decision.approval, null);
    assert.deepEqual(decision.matched, []);
  });
});
