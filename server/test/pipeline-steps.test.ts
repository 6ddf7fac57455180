// The intake pipeline's steps one at a time (server/src/pipeline/message.ts): one message object
// received → parsed → decided → planned → its record, each step given only what it needs.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { mergePolicies, presetPolicy, type PolicyDocument } from "@sendguard/shared";
import { parseConfig } from "../src/config/load.js";
import { analyzeMessage } from "../src/pipeline/analyze.js";
import type { AnalysisSource } from "../src/pipeline/analyzer.js";
import { IntakeError } from "../src/pipeline/errors.js";
import { MessageInspector } from "../src/pipeline/inspect.js";
import type { ParsedMessage, ReceivedMessage } from "../src/pipeline/message.js";
import { parseMessage } from "../src/pipeline/parse.js";
import { planMessage } from "../src/pipeline/plan.js";
import { messageRecord, refusalOf, refusalRecord } from "../src/pipeline/record.js";
import { decideMessage } from "../src/pipeline/rules.js";
import type { UserRecord } from "../src/store/types.js";
import { chunks, compose } from "./fixtures/mime.js";

const config = parseConfig({ organization: { internalDomains: ["corp.example"] } }, "test");
const RECEIVED_AT = Date.parse("2026-12-04T03:00:00Z");

const taro: UserRecord = {
  id: 7,
  email: "taro@corp.example",
  passwordHash: "",
  role: "user",
  language: "ja",
  holdMinutes: null,
  aliases: [],
  groups: [],
  manager: null,
  createdAt: 0,
  disabledAt: null,
};

async function received(raw: Buffer, rcptTo: string[] | null): Promise<ReceivedMessage> {
  const inspection = new MessageInspector({
    maxBytes: 1 << 20,
    maxHeaderBytes: 64 << 10,
    lineEndings: "normalize",
  });
  const kept: Buffer[] = [];
  for await (const chunk of chunks(raw, 100)) {
    const out = inspection.push(chunk);
    if (out) kept.push(out);
  }
  const tail = inspection.end();
  if (tail) kept.push(tail);
  const inline = Buffer.concat(kept);
  return {
    id: "m1",
    receivedAt: RECEIVED_AT,
    request: {
      source: "smtp",
      stream: chunks(raw),
      mailFrom: "taro@corp.example",
      rcptTo,
      user: taro,
      authenticated: true,
      remoteAddress: "192.0.2.1",
      lineEndings: "normalize",
    },
    body: { size: inline.length, inline, durable: Promise.resolve() },
    inspection,
  };
}

function deps(document: PolicyDocument) {
  const { policy } = mergePolicies(presetPolicy("standard"), [
    { scope: "org", document: { domains: { internal: ["corp.example"] }, ...document } },
  ]);
  return {
    config,
    policies: { effectiveFor: () => Promise.resolve({ policy, ignored: [], invalid: [] }) },
    analyzer: {
      analyze: (_id: string, source: AnalysisSource) =>
        analyzeMessage(chunks("bytes" in source ? Buffer.from(source.bytes) : Buffer.alloc(0))),
    },
    spool: { path: () => "/nonexistent" },
  };
}

async function receivedQuote(rcptTo: string[] | null): Promise<ReceivedMessage> {
  const raw = await compose({
    from: "taro@corp.example",
    to: "hanako@corp.example, client@partner.example",
    subject: "見積書",
    text: "ご確認ください",
    attachments: [{ filename: "見積書.pdf", content: Buffer.from("%PDF-1.4 not really") }],
  });
  return received(raw, rcptTo);
}

async function parsed(
  rcptTo: string[] | null = ["hanako@corp.example", "client@partner.example"],
): Promise<ParsedMessage> {
  return parseMessage(await receivedQuote(rcptTo), config);
}

describe("the intake pipeline, step by step", () => {
  test("parse keeps what intake knew and adds the header, the sender and the recipients", async () => {
    const message = await parsed();
    assert.equal(message.id, "m1");
    assert.equal(message.receivedAt, RECEIVED_AT);
    assert.equal(message.headers.subject, "見積書");
    assert.equal(message.identity.from, "taro@corp.example");
    assert.deepEqual(message.recipients, ["hanako@corp.example", "client@partner.example"]);
    assert.ok(message.headerBytes > 0);
  });

  test("parse takes the recipients from To/Cc/Bcc when the envelope has none", async () => {
    assert.deepEqual((await parsed(null)).recipients, ["hanako@corp.example", "client@partner.example"]);
  });

  test("parse refuses a message with no recipients, naming the problem", async () => {
    const message = await receivedQuote([]);
    assert.throws(
      () => parseMessage({ ...message, request: { ...message.request, rcptTo: [] } }, config),
      (err: unknown) => err instanceof IntakeError && err.code === "no_recipients",
    );
  });

  test("rules keep the analysis facts with the decision; plan gives each group its transform", async () => {
    const d = deps({
      rules: [
        {
          name: "pdf",
          enabled: true,
          when: { attachmentExtension: ["pdf"] },
          then: { hold: { minutes: 30 } },
        },
      ],
    });
    const decided = await decideMessage(await parsed(), d);
    assert.deepEqual(
      decided.facts?.attachments.map((a) => a.filename),
      ["見積書.pdf"],
      "facts kept past the rules",
    );
    assert.deepEqual(decided.decision.matched, ["pdf"]);
    assert.equal(decided.language, "ja");
    assert.equal(decided.actor, "taro@corp.example");

    const planned = await planMessage(decided, { listUsers: () => Promise.resolve([]) });
    assert.deepEqual(
      planned.groups.map((g) => [g.name, g.recipients, g.attachmentAction]),
      [
        ["internal", ["hanako@corp.example"], "pass"],
        ["external", ["client@partner.example"], "web_download"],
      ],
    );
    assert.ok(planned.groups.every((g) => g.releaseAt > RECEIVED_AT && g.id.length > 0));
    assert.equal(refusalOf(planned), null);

    const record = messageRecord(planned);
    assert.equal(record.createdAt, RECEIVED_AT);
    assert.deepEqual(record.batches, planned.groups);
    assert.deepEqual(record.notices, [
      { kind: "hold", messageId: "m1", recipient: "taro@corp.example", language: "ja" },
    ]);
    assert.deepEqual((record.audit[0]?.detail as { attachments?: unknown }).attachments, [
      { filename: "見積書.pdf", size: 19, encrypted: false },
    ]);
  });

  test("an approval nobody can give refuses the message, with a notice to the sender", async () => {
    const d = deps({
      rules: [{ name: "boss", enabled: true, when: { recipientClass: ["external"] }, then: { approve: {} } }],
    });
    const planned = await planMessage(await decideMessage(await parsed(), d), {
      listUsers: () => Promise.resolve([]),
    });
    const refusal = refusalOf(planned);
    assert.equal(refusal?.rule, "boss");
    const { audit, notices } = refusalRecord(planned, refusal!);
    assert.equal(audit.action, "rejected");
    assert.deepEqual(
      notices.map((n) => [n.kind, n.recipient]),
      [["reject", "taro@corp.example"]],
    );
  });

  test("an approval without named approvers goes to the admins other than the sender", async () => {
    const d = deps({
      rules: [{ name: "boss", enabled: true, when: { recipientClass: ["external"] }, then: { approve: {} } }],
    });
    const admin = { ...taro, id: 8, email: "admin@corp.example", role: "admin" as const };
    const planned = await planMessage(await decideMessage(await parsed(), d), {
      listUsers: () => Promise.resolve([taro, admin, { ...admin, email: "taro@corp.example" }]),
    });
    assert.deepEqual(planned.approvers, ["admin@corp.example"]);
    assert.equal(refusalOf(planned), null);
    assert.deepEqual(
      messageRecord(planned).notices.map((n) => [n.kind, n.recipient]),
      [["approval_request", "admin@corp.example"]],
    );
  });
});
