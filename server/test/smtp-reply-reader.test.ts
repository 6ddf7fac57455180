// The TLS probe's SMTP reply reader (server/src/delivery/smtp-reply-reader.ts): replies split
// anywhere, multi-line replies, and hostile input that must fail fast and stay bounded.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ReplyReader, ReplySyntaxError, type SmtpReply } from "../src/delivery/smtp-reply-reader.js";

const EHLO = "250-mx.example.jp Hello\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n250 8BITMIME\r\n";

function readAll(reader: ReplyReader, ...chunks: string[]): SmtpReply[] {
  return chunks.flatMap((chunk) => reader.push(Buffer.from(chunk, "latin1")));
}

describe("ReplyReader", () => {
  test("a multi-line reply comes out whole, its lines without code and separator", () => {
    const replies = readAll(new ReplyReader(), "220 mx.example.jp ESMTP\r\n", EHLO);
    assert.deepEqual(replies, [
      { code: 220, lines: ["mx.example.jp ESMTP"] },
      { code: 250, lines: ["mx.example.jp Hello", "SIZE 10240000", "STARTTLS", "8BITMIME"] },
    ]);
  });

  test("the same bytes split at every possible point, and byte by byte, give the same replies", () => {
    const whole = readAll(new ReplyReader(), EHLO);
    for (let cut = 1; cut < EHLO.length; cut++) {
      assert.deepEqual(
        readAll(new ReplyReader(), EHLO.slice(0, cut), EHLO.slice(cut)),
        whole,
        `cut at ${cut}`,
      );
    }
    assert.deepEqual(readAll(new ReplyReader(), ...EHLO.split("")), whole);
  });

  test("idle only between replies: not inside a line, not inside a multi-line reply", () => {
    const reader = new ReplyReader();
    assert.equal(reader.idle, true);
    reader.push(Buffer.from("250-first\r\n"));
    assert.equal(reader.idle, false);
    reader.push(Buffer.from("250 last\r\n22"));
    assert.equal(reader.idle, false);
    reader.push(Buffer.from("0 ok\r\n"));
    assert.equal(reader.idle, true);
  });

  test("bare LF ends a line too, and a code alone is a reply", () => {
    assert.deepEqual(readAll(new ReplyReader(), "220\n"), [{ code: 220, lines: [""] }]);
  });

  for (const [name, input] of [
    ["an HTTP answer", "HTTP/1.1 400 Bad Request\r\n"],
    ["a code out of range", "199 hello\r\n"],
    ["a code with no separator", "220hello\r\n"],
    ["an empty line", "\r\n"],
    ["a NUL-laden line", "\0\0\0\r\n"],
  ] as const) {
    test(`rejects ${name}, quoting it printably`, () => {
      assert.throws(
        () => readAll(new ReplyReader(), input),
        (err: Error) =>
          err instanceof ReplySyntaxError &&
          /not an SMTP reply line/.test(err.message) &&
          !/\0/.test(err.message),
      );
    });
  }

  test("a code that changes inside a multi-line reply is an error", () => {
    assert.throws(
      () => readAll(new ReplyReader(), "250-a\r\n251 b\r\n"),
      /reply code changed from 250 to 251/,
    );
  });

  test("an endless line is refused as soon as it passes the limit, however it arrives", () => {
    const reader = new ReplyReader({ maxLineBytes: 100 });
    reader.push(Buffer.alloc(60, 0x41));
    assert.throws(() => reader.push(Buffer.alloc(60, 0x41)), /reply line longer than 100 bytes/);
    const oneChunk = new ReplyReader({ maxLineBytes: 100 });
    assert.throws(() => oneChunk.push(Buffer.alloc(10 * 1024 * 1024, 0x41)), /longer than 100 bytes/);
  });

  test("a line at the limit passes, with its CRLF split across packets", () => {
    const reader = new ReplyReader({ maxLineBytes: 10 });
    assert.deepEqual(readAll(reader, "250 abcdef\r", "\n"), [{ code: 250, lines: ["abcdef"] }]);
    assert.throws(() => readAll(new ReplyReader({ maxLineBytes: 10 }), "250 abcdefg\r\n"), /longer than 10/);
  });

  test("endless continuation lines are refused at the line limit", () => {
    const reader = new ReplyReader({ maxLines: 5 });
    assert.throws(() => readAll(reader, "250-x\r\n".repeat(6)), /reply longer than 5 lines/);
  });
});
