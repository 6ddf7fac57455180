// The notice mail written by hand (notify/compose.ts): it must parse as the MIME it claims to be,
// keep Japanese intact, and let nothing from a subject or address escape into other headers.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { simpleParser } from "mailparser";
import { composeNotice, downloadedNotice } from "../src/notify/compose.js";
import type { MessageRecord } from "../src/store/types.js";

const addressing = { from: "sendguard@corp.example", to: "taro@corp.example", inReplyTo: "abc@corp.example" };

describe("composeNotice", () => {
  test("a Japanese notice parses back to the same subject and text, with the threading headers", async () => {
    const subject = "【配送保留】見積書の送付について (第2版)、ご確認ください。長い件名は折り返されます";
    const text = "次のメールは送信前に保留されています。\n送信予定: 10:05\n";
    const { raw, messageId } = composeNotice({ subject, text }, addressing);
    const head = raw.toString("latin1").split("\r\n\r\n")[0] ?? "";
    assert.ok(
      head.split("\r\n").every((line) => line.length <= 78),
      head,
    );
    assert.ok(
      [...head].every((c) => c.charCodeAt(0) < 0x80),
      "headers are 7-bit",
    );
    const parsed = await simpleParser(raw);
    assert.equal(parsed.subject, subject);
    assert.equal(parsed.text, text);
    assert.equal(parsed.messageId, `<${messageId}>`);
    assert.equal(parsed.inReplyTo, "<abc@corp.example>");
    assert.equal(parsed.headers.get("auto-submitted"), "auto-generated");
    assert.match(messageId, /^[0-9a-f-]{36}@corp\.example$/);
  });

  test("line breaks in a subject cannot add headers", async () => {
    const { raw } = composeNotice(
      { subject: "Hi\r\nBcc: evil@attacker.example\r\n\r\nbody", text: "x" },
      addressing,
    );
    const parsed = await simpleParser(raw);
    assert.equal(parsed.headers.has("bcc"), false);
    assert.equal(parsed.subject, "Hi Bcc: evil@attacker.example body");
  });

  test("an address or message id that would break out of its brackets is refused", () => {
    for (const bad of ["a@b>\r\nBcc: x@y", "a<b@c", "", "a@b\u0000"]) {
      assert.throws(
        () => composeNotice({ subject: "s", text: "t" }, { ...addressing, to: bad }),
        /notice header/,
      );
      assert.throws(
        () => composeNotice({ subject: "s", text: "t" }, { ...addressing, inReplyTo: bad }),
        /notice header/,
      );
    }
  });
});

describe("downloadedNotice", () => {
  const message = { subject: "見積書の送付" } as MessageRecord;
  const data = (files: { name: string; size: number }[], all = false) => ({
    recipient: "tanaka@partner.example",
    at: Date.UTC(2026, 11, 4, 1, 5),
    ip: "203.0.113.7",
    files,
    all,
  });

  test("who, when, from where and which file; a hostile name cannot forge lines", () => {
    const { subject, text } = downloadedNotice(
      message,
      data([{ name: "evil\r\n日時: 偽物\u202Etxt.exe", size: 2048 }]),
      "ja",
      "Asia/Tokyo",
    );
    assert.equal(subject, "[ダウンロード通知] 見積書の送付");
    assert.match(text, /ダウンロードした受信者: tanaka@partner\.example\n日時: 2026-12-04 10:05/);
    assert.match(
      text,
      /接続元 IP アドレス: 203\.0\.113\.7\nファイル:\n {2}evil日時: 偽物txt\.exe \(2\.0 KB\)\n/,
    );
    assert.equal(text.match(/^日時: /gm)?.length, 1, "one time line");
  });

  test("all as a ZIP lists the files, at most 50 of them, in English too", () => {
    const files = Array.from({ length: 53 }, (_, i) => ({ name: `f${i}.txt`, size: 1 }));
    const { subject, text } = downloadedNotice(message, data(files, true), "en", "Asia/Tokyo");
    assert.equal(subject, "[Downloaded] 見積書の送付");
    assert.match(text, /Files \(all of them as one ZIP\):\n {2}f0\.txt \(1 B\)/);
    assert.match(text, /f49\.txt \(1 B\)\n {2}and 3 more\n/);
    assert.doesNotMatch(text, /f50\.txt/);
  });
});
