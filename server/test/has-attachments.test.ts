// Whether a message has attachments as its separation finds them (hold page: "添付ファイルなし").
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, test } from "node:test";
import MailComposer from "nodemailer/lib/mail-composer";
import { hasAttachments } from "../src/pipeline/transform/separate/has-attachments.js";

const compose = (mail: ConstructorParameters<typeof MailComposer>[0]): Promise<Buffer> =>
  new MailComposer({ from: "a@corp.example", to: "b@partner.example", subject: "s", ...mail })
    .compile()
    .build();

const check = (raw: Buffer | string) =>
  hasAttachments(Readable.from([Buffer.isBuffer(raw) ? raw : Buffer.from(raw)]));

describe("hasAttachments", () => {
  test("text, or text and HTML: none", async () => {
    assert.equal(await check(await compose({ text: "本文" })), false);
    assert.equal(await check(await compose({ text: "本文", html: "<p>本文</p>" })), false);
  });

  test("an inline image the HTML shows is none; a file is one", async () => {
    const image = { filename: "logo.png", content: Buffer.from("png"), cid: "logo@corp" };
    assert.equal(
      await check(await compose({ html: '<img src="cid:logo@corp">', attachments: [image] })),
      false,
    );
    const file = { filename: "見積書.pdf", content: Buffer.from("%PDF-1.4") };
    assert.equal(await check(await compose({ text: "本文", attachments: [file] })), true);
    const tnef = { filename: "winmail.dat", content: Buffer.from("x"), contentType: "application/ms-tnef" };
    assert.equal(await check(await compose({ text: "本文", attachments: [tnef] })), true);
  });

  test("signed, or not a message at all: cannot tell", async () => {
    const signed = [
      'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; boundary=b',
      "",
      "--b",
      "Content-Type: text/plain",
      "",
      "hi",
      "--b--",
      "",
    ].join("\r\n");
    assert.equal(await check(signed), null);
    assert.equal(await check(""), null);
  });
});
