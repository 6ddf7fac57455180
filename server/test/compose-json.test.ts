// The JSON form of POST /messages (server/src/web/compose-json.ts): validation, recipients, MIME output.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { JsonMessage } from "@sendguard/shared";
import { parseHeaderBlock, summarize } from "../src/pipeline/headers.js";
import { MessageInspector } from "../src/pipeline/inspect.js";
import {
  composeJson,
  describeJsonProblem,
  envelopeRecipients,
  jsonMessageSchema,
} from "../src/web/compose-json.js";

function problem(body: unknown): string | null {
  const r = jsonMessageSchema.safeParse(body);
  return r.success ? null : describeJsonProblem(r.error);
}

describe("jsonMessageSchema", () => {
  const valid: [why: string, body: unknown][] = [
    ["an empty object", {}],
    [
      "string recipients",
      { to: "a@x.example", cc: "b@x.example", bcc: "c@x.example", subject: "s", text: "t" },
    ],
    ["list recipients", { to: ["a@x.example", "B <b@x.example>"], references: ["<r1@x>", "<r2@x>"] }],
    ["html only", { html: "<p>hi</p>" }],
    [
      "an attachment with base64 content and line breaks",
      { attachments: [{ filename: "a.txt", content: "aGVs\r\nbG8=" }] },
    ],
    [
      "an attachment with a content type",
      { attachments: [{ filename: "a.pdf", contentType: "application/pdf", content: "JVBERg==" }] },
    ],
    ["an empty attachment", { attachments: [{ filename: "empty.bin", content: "" }] }],
    ["a subject of exactly 2000 characters", { subject: "x".repeat(2000) }],
  ];
  for (const [why, body] of valid) {
    test(`accepts ${why}`, () => {
      assert.equal(problem(body), null);
    });
  }

  const invalid: [why: string, body: unknown, message: string | RegExp][] = [
    ["an unknown field", { to: "a@x.example", body: "hi" }, "(body): unknown field body"],
    ["several unknown fields", { foo: 1, bar: 2 }, "(body): unknown field foo, bar"],
    [
      "an unknown attachment field",
      { attachments: [{ filename: "a", content: "", size: 3 }] },
      "attachments.0: unknown field size",
    ],
    ["a number as recipient", { to: 5 }, /^to: /],
    ["a list with a non-string", { cc: ["a@x.example", 1] }, /^cc: /],
    [
      "a recipient list over 1000 entries",
      { bcc: Array.from({ length: 1001 }, (_, i) => `u${i}@x.example`) },
      /^bcc: /,
    ],
    ["a subject over 2000 characters", { subject: "x".repeat(2001) }, /^subject: Too big/],
    ["a non-string text", { text: 42 }, /^text: /],
    [
      "an empty attachment filename",
      { attachments: [{ filename: "", content: "" }] },
      /^attachments\.0\.filename: /,
    ],
    ["a missing attachment content", { attachments: [{ filename: "a" }] }, /^attachments\.0\.content: /],
    [
      "non-base64 attachment content",
      { attachments: [{ filename: "a", content: "not base64!" }] },
      "attachments.0.content: expected base64",
    ],
    [
      "padding inside base64",
      { attachments: [{ filename: "a", content: "aGVs=bG8" }] },
      "attachments.0.content: expected base64",
    ],
    [
      "the second attachment broken",
      {
        attachments: [
          { filename: "a", content: "" },
          { filename: "b", content: "%" },
        ],
      },
      "attachments.1.content: expected base64",
    ],
    ["attachments not a list", { attachments: { filename: "a", content: "" } }, /^attachments: /],
    ["an array body", [], /^\(body\): .*expected object/],
    ["a null body", null, /^\(body\): .*expected object/],
    ["a string body", "To: a@x", /^\(body\): /],
  ];
  for (const [why, body, message] of invalid) {
    test(`rejects ${why} with a message naming the field`, () => {
      const p = problem(body);
      assert.notEqual(p, null);
      if (typeof message === "string") assert.equal(p, message);
      else assert.match(p as string, message);
    });
  }
});

describe("envelopeRecipients", () => {
  const cases: [why: string, message: JsonMessage, expected: string[]][] = [
    ["nothing", {}, []],
    ["a single string", { to: "a@x.example" }, ["a@x.example"]],
    ["a display name", { to: "Alice <a@x.example>" }, ["a@x.example"]],
    ["a comma list in one string", { to: "a@x.example, B <b@x.example>" }, ["a@x.example", "b@x.example"]],
    [
      "a quoted display name with a comma",
      { to: '"Yamada, Taro" <taro@example.co.jp>, jiro@example.co.jp' },
      ["taro@example.co.jp", "jiro@example.co.jp"],
    ],
    ["a Japanese display name", { to: "山田 太郎 <taro@example.co.jp>" }, ["taro@example.co.jp"]],
    ["a list of strings", { to: ["a@x.example", "B <b@x.example>"] }, ["a@x.example", "b@x.example"]],
    [
      "a list entry holding several addresses",
      { to: ["a@x.example, b@x.example"] },
      ["a@x.example", "b@x.example"],
    ],
    [
      "To, Cc and Bcc in that order",
      { bcc: "c@x.example", cc: ["b@x.example"], to: "a@x.example" },
      ["a@x.example", "b@x.example", "c@x.example"],
    ],
    ["a group", { cc: "Team: a@x.example, b@x.example;" }, ["a@x.example", "b@x.example"]],
    ["an empty group", { bcc: "undisclosed-recipients:;" }, []],
    ["an empty string and an empty list", { to: "", cc: [] }, []],
    ["a name without an address is dropped", { to: "just a name, a@x.example" }, ["a@x.example"]],
    [
      "duplicates are kept (intake de-duplicates)",
      { to: "a@x.example", cc: "a@x.example" },
      ["a@x.example", "a@x.example"],
    ],
  ];
  for (const [why, message, expected] of cases) {
    test(`${why} → ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(envelopeRecipients(message), expected);
    });
  }
});

async function compose(message: JsonMessage, from = "Alice <alice@corp.example>"): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of composeJson(message, from)) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

function inspectReject(data: Buffer) {
  const inspector = new MessageInspector({
    maxBytes: 1 << 24,
    maxHeaderBytes: 1 << 16,
    lineEndings: "reject",
  });
  inspector.push(data);
  inspector.end();
  return inspector;
}

describe("composeJson", () => {
  test("writes From, To, Cc and a UTF-8 subject; Bcc stays out of the header", async () => {
    const data = await compose({
      to: "Bob <bob@example.com>",
      cc: ["carol@example.com"],
      bcc: "dave@example.com",
      subject: "見積書",
      text: "Hi",
    });
    const inspector = inspectReject(data);
    assert.equal(inspector.problem, null);
    const s = summarize(parseHeaderBlock(inspector.header ?? Buffer.alloc(0)));
    assert.deepEqual(s.from, ["alice@corp.example"]);
    assert.deepEqual(s.to, ["bob@example.com"]);
    assert.deepEqual(s.cc, ["carol@example.com"]);
    assert.deepEqual(s.bcc, []);
    assert.equal(s.subject, "見積書");
    assert.ok(s.messageId);
    assert.equal(s.hasDate, true);
    assert.doesNotMatch(data.toString(), /dave@example\.com/);
  });

  test("a subject with CRLF cannot add a header field", async () => {
    const data = await compose({ to: "b@example.com", subject: "x\r\nBcc: evil@example.com", text: "t" });
    const fields = parseHeaderBlock(inspectReject(data).header ?? Buffer.alloc(0));
    assert.equal(fields.filter((f) => /^bcc$/i.test(f.name)).length, 0);
  });

  test("attachments make a multipart message whose boundary appears in the body", async () => {
    const data = await compose({
      to: "b@example.com",
      text: "see attachment",
      attachments: [
        {
          filename: "見積書.pdf",
          contentType: "application/pdf",
          content: Buffer.from("%PDF-1.4").toString("base64"),
        },
      ],
    });
    const inspector = inspectReject(data);
    assert.equal(inspector.problem, null);
    assert.equal(inspector.multipartProblem, null);
    assert.match(data.toString(), /Content-Type: multipart\/mixed/);
    assert.ok(data.toString().includes(Buffer.from("%PDF-1.4").toString("base64")));
  });

  test("Japanese multi-line text composes to CRLF-only output", async () => {
    assert.equal(
      inspectReject(await compose({ to: "b@example.com", text: "一行目\n二行目\n" })).problem,
      null,
    );
  });

  test("ASCII multi-line text (JSON \\n) composes to CRLF-only output that intake's reject mode accepts", async () => {
    for (const text of ["Hello\nWorld\n", "old mac\rline", "<p>a\nb</p>"]) {
      const data = await compose(
        text.startsWith("<") ? { to: "b@example.com", html: text } : { to: "b@example.com", text },
      );
      assert.equal(inspectReject(data).problem, null, JSON.stringify(text));
    }
  });
});
