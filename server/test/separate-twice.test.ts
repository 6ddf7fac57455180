// Web download separates a batch's message once and writes each recipient's copy from that
// (transform/copies.ts: extract, then addNotice per recipient, told where the placeholders are).
// Right only if that copy is the one separating the original with the notice in one pass gives:
// checked byte for byte on the shapes that matter (text + HTML, HTML alone with inline images,
// nested and forwarded parts, winmail.dat, ISO-2022-JP, a notice the charset cannot carry,
// format=flowed, a message that is itself the attachment).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { PassThrough, Readable } from "node:stream";
import { test } from "node:test";
import Encoding from "encoding-japanese";
import MailComposer from "nodemailer/lib/mail-composer";
import { separationNotice } from "../src/pipeline/transform/separate/notice.js";
import { rewriteAttachments, type SeparationResult } from "../src/pipeline/transform/separate/rewrite.js";

const notice = (name: string) =>
  separationNotice({
    language: "ja",
    url: "https://gw.example.com/d/0123456789abcdef",
    recipient: "partner@example.net",
    files: [{ name, size: 123_456 }],
    expiresAt: new Date("2026-12-11T01:05:00Z"),
    timeZone: "Asia/Tokyo",
  });

async function rewrite(
  raw: Buffer,
  options: { notice?: { text: string; html: string }; placeholders?: number[] } = {},
): Promise<{ out: Buffer; result: SeparationResult }> {
  const output = new PassThrough();
  const out: Buffer[] = [];
  output.on("data", (c: Buffer) => out.push(c));
  const result = await rewriteAttachments({
    input: Readable.from([raw]),
    output,
    placeholder: (info) => `removed: ${info.filename}`,
    ...options,
    onAttachment: async (_info, content) => {
      for await (const _ of content) void _;
    },
  });
  return { out: Buffer.concat(out), result };
}

const compose = (mail: ConstructorParameters<typeof MailComposer>[0]) =>
  new MailComposer({ from: "sender@corp.example", to: "partner@example.net", subject: "資料送付", ...mail })
    .compile()
    .build();

const pdf = { filename: "見積書.pdf", content: randomBytes(5000), contentType: "application/pdf" };
const lines = (...l: string[]) => Buffer.from(l.join("\r\n"), "latin1");
const jis = (s: string) =>
  Buffer.from(Encoding.convert(Encoding.stringToCode(s), { to: "JIS", from: "UNICODE" }));
const mixed = (boundary: string, ...parts: Buffer[]) =>
  Buffer.concat([
    lines(
      "From: a@corp.example",
      "MIME-Version: 1.0",
      `Content-Type: multipart/mixed; boundary="${boundary}"`,
      "",
      "",
    ),
    ...parts.flatMap((p) => [lines(`--${boundary}`, ""), p, lines("")]),
    lines(`--${boundary}--`, ""),
  ]);
const binary = (name: string, bytes = 600) =>
  lines(
    `Content-Type: application/octet-stream; name="${name}"`,
    "Content-Transfer-Encoding: base64",
    "",
    randomBytes(bytes).toString("base64"),
  );

const MESSAGES: [string, () => Promise<Buffer> | Buffer][] = [
  [
    "text + HTML + two attachments",
    () =>
      compose({
        text: "いつもお世話になっております。",
        html: "<html><body><p>いつもお世話になっております。</p></body></html>",
        attachments: [pdf, { filename: "data.xlsx", content: randomBytes(3000) }],
      }),
  ],
  [
    "HTML alone, an inline image it references and one it does not",
    () =>
      compose({
        html: '<html><body><img src="cid:logo@corp"></body></html>',
        attachments: [
          { filename: "logo.png", content: randomBytes(800), cid: "logo@corp", contentType: "image/png" },
          { filename: "photo.png", content: randomBytes(800), contentType: "image/png" },
        ],
      }),
  ],
  ["no body at all, only attachments", () => mixed("n", binary("a.bin"), binary("b.bin"))],
  [
    "alternative inside mixed, a forwarded message and winmail.dat",
    () =>
      mixed(
        "m",
        lines(
          'Content-Type: multipart/alternative; boundary="a"',
          "",
          "--a",
          "Content-Type: text/plain; charset=us-ascii",
          "",
          "plain",
          "--a",
          "Content-Type: text/html; charset=us-ascii",
          "",
          "<html><body>html</body></html>",
          "--a--",
        ),
        lines("Content-Type: message/rfc822", "", "Subject: inner", "", "inner body"),
        lines(
          'Content-Type: application/ms-tnef; name="winmail.dat"',
          "Content-Transfer-Encoding: base64",
          "",
          randomBytes(300).toString("base64"),
        ),
      ),
  ],
  [
    "ISO-2022-JP text with an attachment",
    () =>
      mixed(
        "j",
        Buffer.concat([
          lines("Content-Type: text/plain; charset=ISO-2022-JP", "Content-Transfer-Encoding: 7bit", "", ""),
          jis("いつもお世話になっております。\r\n"),
        ]),
        binary("a.pdf"),
      ),
  ],
  [
    "format=flowed text with an attachment",
    () =>
      mixed(
        "f",
        lines("Content-Type: text/plain; charset=utf-8; format=flowed", "", "flowed ", "text"),
        binary("x.bin"),
      ),
  ],
  [
    "the message itself is the attachment",
    () =>
      lines(
        "From: a@corp.example",
        "MIME-Version: 1.0",
        'Content-Type: application/pdf; name="a.pdf"',
        "Content-Transfer-Encoding: base64",
        "",
        randomBytes(600).toString("base64"),
      ),
  ],
];

for (const [what, build] of MESSAGES) {
  // The second name does not fit ISO-2022-JP: that body is converted to UTF-8.
  for (const name of ["見積書.pdf", "emoji 😀 한국어.pdf"]) {
    test(`${what}, notice for ${name}: extract, then add the notice = separate with the notice`, async () => {
      const original = await build();
      const once = await rewrite(original, { notice: notice(name) });
      const extracted = await rewrite(original);
      assert.deepEqual(extracted.result.placeholderParts, once.result.placeholderParts);
      const twice = await rewrite(extracted.out, {
        notice: notice(name),
        placeholders: extracted.result.placeholderParts,
      });
      assert.deepEqual(twice.result.attachments, [], "nothing left to take out");
      assert.deepEqual(twice.result.noticeInserted, once.result.noticeInserted);
      assert.equal(twice.out.toString("latin1"), once.out.toString("latin1"));
    });
  }
}
