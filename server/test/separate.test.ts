// Web-download separation (server/src/pipeline/transform/separate): attachments out, placeholders
// and the notice in, every other byte as it came. Messages are built by nodemailer's MailComposer
// or written out by hand for the odd cases; the results are read back by mailsplit (raw bytes of
// every part) and mailparser (decoded text, as a mail client sees it).
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { after, describe, test } from "node:test";
import { Joiner, Splitter, type MimeNode } from "@zone-eu/mailsplit";
import Encoding from "encoding-japanese";
import iconv from "iconv-lite";
import { encode as qpEncode, wrap as qpWrap } from "libqp";
import { simpleParser } from "mailparser";
import MailComposer from "nodemailer/lib/mail-composer";
import { SeparationError } from "../src/pipeline/transform/separate/errors.js";
import { displayName, separationNotice } from "../src/pipeline/transform/separate/notice.js";
import {
  rewriteAttachments,
  type AttachmentInfo,
  type RewriteOptions,
  type SeparationResult,
} from "../src/pipeline/transform/separate/rewrite.js";
import { Separator } from "../src/pipeline/transform/separate/separator.js";

const NOTICE = separationNotice({
  language: "ja",
  url: "https://gw.example.com/d/0123456789abcdef",
  recipient: "partner@example.net",
  files: [{ name: "見積書.pdf", size: 123_456 }],
  expiresAt: new Date("2026-12-11T01:05:00Z"),
  timeZone: "Asia/Tokyo",
});
const placeholder = (info: AttachmentInfo) => `removed: ${info.filename}`;

interface Separated {
  out: Buffer;
  result: SeparationResult;
  files: Buffer[];
  infos: AttachmentInfo[];
}

/** Feeds `raw` in `chunk`-byte pieces (odd sizes cut lines and escapes anywhere). */
async function separate(
  raw: Buffer | string,
  options: Partial<Omit<RewriteOptions, "input" | "output">> = {},
  chunk = 7919,
): Promise<Separated> {
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw, "latin1");
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) pieces.push(bytes.subarray(i, i + chunk));
  const output = new PassThrough();
  const collected: Buffer[] = [];
  output.on("data", (c: Buffer) => collected.push(c));
  const files: Buffer[] = [];
  const infos: AttachmentInfo[] = [];
  const result = await rewriteAttachments({
    input: Readable.from(pieces),
    output,
    placeholder,
    notice: NOTICE,
    onAttachment: async (info, content) => {
      infos.push(info);
      const parts: Buffer[] = [];
      for await (const c of content) parts.push(c as Buffer);
      files[info.index] = Buffer.concat(parts);
    },
    ...options,
  });
  return { out: Buffer.concat(collected), result, files, infos };
}

type Part = { kind: "part"; type: string; head: Buffer; body: Buffer };
type Segment = { kind: "data"; bytes: Buffer } | Part;

/** The message as mailsplit sees it: delimiter/preamble runs and parts with their raw bytes. */
async function segments(raw: Buffer): Promise<Segment[]> {
  const out: Segment[] = [];
  const splitter = new Splitter({ ignoreEmbedded: true });
  Readable.from([raw]).pipe(splitter);
  for await (const c of splitter as AsyncIterable<MimeNode | { type: "data" | "body"; value: Buffer }>) {
    const last = out[out.length - 1];
    if (c.type === "node")
      out.push({ kind: "part", type: c.contentType || "", head: c.getHeaders(), body: Buffer.alloc(0) });
    else if (c.type === "body" && last?.kind === "part") last.body = Buffer.concat([last.body, c.value]);
    else if (c.type === "data" && last?.kind === "data") last.bytes = Buffer.concat([last.bytes, c.value]);
    else if (c.type === "data") out.push({ kind: "data", bytes: c.value });
  }
  return out;
}

/**
 * Every segment of `input` is in `output` byte for byte, in the same place, except the parts
 * numbered in `changed` (counting parts from 0, multiparts included); returns the changed ones.
 */
async function assertUntouched(input: Buffer, output: Buffer, changed: number[]): Promise<Part[]> {
  const a = await segments(input);
  const b = await segments(output);
  assert.equal(b.length, a.length, "same structure");
  let part = -1;
  const differing: number[] = [];
  const changedSegments: Part[] = [];
  a.forEach((s, i) => {
    const o = b[i] as Segment;
    if (s.kind === "data") return assert.deepEqual(o, s, `delimiters / preamble / epilogue ${i}`);
    part++;
    assert.equal(o.kind, "part");
    if (o.kind !== "part") return;
    if (!o.head.equals(s.head) || !o.body.equals(s.body)) {
      differing.push(part);
      changedSegments.push(o);
    }
  });
  assert.deepEqual(differing, changed, "parts changed");
  return changedSegments;
}

function compose(mail: ConstructorParameters<typeof MailComposer>[0]): Promise<Buffer> {
  return new MailComposer({
    from: "sender@corp.example",
    to: "partner@example.net",
    subject: "資料送付",
    ...mail,
  })
    .compile()
    .build();
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const noticeLine = "【添付ファイル分離のお知らせ】";

describe("separation: structure and bytes", () => {
  test("text + html + 2 attachments: files out byte for byte, placeholders and notices in, rest untouched", async () => {
    const pdf = randomBytes(300_001);
    const xlsx = randomBytes(70_000);
    const raw = await compose({
      text: "お世話になっております。\n資料をお送りします。",
      html: '<html><head><title>x</title></head><body style="margin:0"><p>お世話になっております。</p></body></html>',
      attachments: [
        { filename: "見積書.pdf", content: pdf, contentType: "application/pdf" },
        { filename: "一覧.xlsx", content: xlsx },
      ],
    });
    for (const chunk of [1 << 20, 4096, 333]) {
      const { out, result, files, infos } = await separate(raw, {}, chunk);
      assert.deepEqual(files[0], pdf);
      assert.deepEqual(files[1], xlsx);
      assert.deepEqual(
        result.attachments.map((a) => [a.filename, a.contentType, a.size, a.sha256]),
        [
          ["見積書.pdf", "application/pdf", pdf.length, sha256(pdf)],
          ["一覧.xlsx", infos[1]?.contentType, xlsx.length, sha256(xlsx)],
        ],
      );
      assert.deepEqual(result.noticeInserted, { text: true, html: true });
      // parts: 0 mixed, 1 alternative, 2 text, 3 html, 4 pdf, 5 xlsx
      const changed = await assertUntouched(raw, out, [2, 3, 4, 5]);
      assert.match(changed[2]?.head.toString() ?? "", /Content-Type: text\/plain; charset=UTF-8/);
      const parsed = await simpleParser(out);
      assert.ok(parsed.text?.startsWith(noticeLine), parsed.text);
      assert.ok(parsed.text?.includes("お世話になっております。\n資料をお送りします。"));
      assert.ok(parsed.text?.includes("removed: 見積書.pdf"));
      assert.match(
        String(parsed.html),
        /<body style="margin:0"><div style="[^"]+"><div style="font-weight:bold">【添付/,
      );
      assert.equal(parsed.attachments.length, 0);
      assert.ok(out.length < 20_000, `${out.length} bytes left`);
    }
  });

  test("inline images referenced by cid: stay byte for byte; an unreferenced image is separated", async () => {
    const logo = randomBytes(5000);
    const photo = randomBytes(6000);
    const raw = await compose({
      html: '<html><body><img src="cid:logo@corp.example"><p>see photo</p></body></html>',
      attachments: [
        { filename: "logo.png", content: logo, cid: "logo@corp.example" },
        { filename: "photo.jpg", content: photo, cid: "photo@corp.example" },
      ],
    });
    const { out, result, files } = await separate(raw);
    assert.deepEqual(
      result.attachments.map((a) => a.filename),
      ["photo.jpg"],
    );
    assert.deepEqual(files[0], photo);
    // 0 related, 1 html (notice), 2 logo (kept), 3 photo (placeholder)
    await assertUntouched(raw, out, [1, 3]);
    const parsed = await simpleParser(out);
    assert.deepEqual(
      parsed.attachments.map((a) => [a.cid, a.content.equals(logo)]),
      [["logo@corp.example", true]],
    );
  });

  test("a cid: reference in quoted-printable HTML, cut across chunks, URL-escaped", async () => {
    const img = randomBytes(3000).toString("base64").replace(/.{76}/g, "$&\r\n");
    const raw = [
      "From: a@corp.example",
      "MIME-Version: 1.0",
      'Content-Type: multipart/related; boundary="R"',
      "",
      "--R",
      "Content-Type: text/html; charset=utf-8",
      "Content-Transfer-Encoding: quoted-printable",
      "",
      `<p>${"x".repeat(70)}=\r\n<img src=3D"cid:part1.%3Cabc%3E@exam=\r\nple">`,
      "--R",
      "Content-Type: image/png",
      "Content-ID: <part1.<abc>@example>",
      "Content-Transfer-Encoding: base64",
      "",
      img,
      "--R--",
      "",
    ].join("\r\n");
    for (const chunk of [5, 64, 100_000]) {
      const { out, result } = await separate(raw, { notice: undefined }, chunk);
      assert.equal(result.attachments.length, 0, `${chunk}-byte chunks`);
      assert.deepEqual(out, Buffer.from(raw, "latin1"));
    }
  });

  test("multipart/mixed nested inside multipart/alternative; forwarded message/rfc822; winmail.dat", async () => {
    const forwarded = Buffer.from(
      "From: x@example.org\r\nSubject: 元のメール\r\n\r\nbody of the original\r\n",
    );
    const tnef = Buffer.concat([Buffer.from([0x78, 0x9f, 0x3e, 0x22]), randomBytes(2000)]);
    const raw = [
      "From: a@corp.example",
      "Subject: nested",
      "MIME-Version: 1.0",
      'Content-Type: multipart/alternative; boundary="ALT"',
      "",
      "--ALT",
      "Content-Type: text/plain; charset=us-ascii",
      "",
      "plain version",
      "--ALT",
      'Content-Type: multipart/mixed; boundary="MIX"',
      "",
      "--MIX",
      "Content-Type: text/html; charset=us-ascii",
      "",
      "<p>html version</p>",
      "--MIX",
      "Content-Type: message/rfc822",
      "Content-Disposition: attachment",
      "",
      forwarded.toString("latin1").replace(/\r\n$/, ""),
      "--MIX",
      'Content-Type: application/ms-tnef; name="winmail.dat"',
      "Content-Transfer-Encoding: base64",
      "",
      tnef.toString("base64"),
      "--MIX--",
      "",
      "--ALT--",
      "",
    ].join("\r\n");
    const { out, result, files } = await separate(raw);
    assert.deepEqual(
      result.attachments.map((a) => [a.filename, a.contentType]),
      [
        ["message-1.eml", "message/rfc822"],
        ["winmail.dat", "application/ms-tnef"],
      ],
    );
    assert.deepEqual(files[0], forwarded.subarray(0, forwarded.length - 2));
    assert.deepEqual(files[1], tnef);
    // 0 alt, 1 text (notice: us-ascii → UTF-8), 2 mixed, 3 html (notice), 4 rfc822, 5 tnef
    const changed = await assertUntouched(Buffer.from(raw, "latin1"), out, [1, 3, 4, 5]);
    assert.match(changed[0]?.head.toString() ?? "", /charset=utf-8/i);
    assert.match(changed[0]?.head.toString() ?? "", /Content-Transfer-Encoding: quoted-printable/);
    assert.match(
      changed[1]?.body.toString() ?? "",
      /^<div style=.*&#28155;/,
      "HTML notice as references in us-ascii",
    );
    const parsed = await simpleParser(out);
    assert.ok(parsed.text?.startsWith(noticeLine));
    assert.ok(parsed.text?.includes("plain version"));
  });

  test("mailsplit reproduces untouched bytes: LF-only, folded headers, odd boundaries, preamble, epilogue, 8bit", async () => {
    const eightBit = Buffer.from("8bit 本文 — ünïcödé\n", "utf8").toString("latin1");
    const raw = [
      "From: a@corp.example",
      "X-Folded: one",
      "\tand two",
      "  and three",
      "Subject: =?UTF-8?B?5pys5paH?=",
      "MIME-Version: 1.0",
      'Content-Type: multipart/mixed;\n boundary="=_odd (boundary) \'+_,-./:=?"',
      "",
      "This is a preamble.",
      "--=_odd (boundary) '+_,-./:=?   ",
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: 8bit",
      "",
      eightBit,
      "--=_odd (boundary) '+_,-./:=?",
      'Content-Type: application/octet-stream; name="a.bin"',
      "",
      "raw bytes",
      "--=_odd (boundary) '+_,-./:=?--\t",
      "epilogue line 1",
      "",
      "epilogue line 3",
    ].join("\n");
    const plain = await separate(raw, { notice: undefined });
    const changed = await assertUntouched(Buffer.from(raw, "latin1"), plain.out, [2]);
    assert.equal(changed[0]?.head.toString().includes("\r\n"), false, "placeholder keeps LF line ends");
    assert.deepEqual(plain.files[0], Buffer.from("raw bytes"));
    // nothing to separate and no notice: the whole message byte for byte
    const untouched = raw.replace('name="a.bin"', "");
    assert.deepEqual(
      (await separate(untouched, { notice: undefined })).out,
      Buffer.from(untouched, "latin1"),
    );
    // with the notice: the 8bit UTF-8 body keeps its bytes after the notice
    const noticed = await separate(raw);
    const [text] = await assertUntouched(Buffer.from(raw, "latin1"), noticed.out, [1, 2]);
    assert.ok(text?.body.toString("latin1").endsWith(eightBit));
    assert.ok(text?.body.toString("utf8").startsWith(`${noticeLine}\n`));
  });
});

describe("separation: where mailsplit does not reproduce the bytes", () => {
  test("a part whose header block a delimiter ends (no blank line) is written once, at any chunking", async () => {
    const raw =
      'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\nX-Long: ' +
      "v".repeat(3000) +
      "\r\n--b\r\nContent-Type: text/plain\r\n\r\nbody\r\n--b--\r\n";
    for (const chunk of [1, 7, 64, 1000, 2999, 3050, 1 << 20]) {
      const { out } = await separate(raw, { notice: undefined }, chunk);
      assert.equal(out.toString("latin1"), raw, `${chunk}-byte chunks`);
    }
    const attachment = raw.replace(
      "Content-Type: text/plain\r\nX-Long",
      'Content-Type: application/pdf; name="a.pdf"\r\nX-Long',
    );
    const { out, result } = await separate(attachment, { notice: undefined }, 1 << 20);
    assert.equal(result.attachments.length, 1);
    assert.ok(
      !out.toString("latin1").includes("X-Long"),
      "the removed part's headers are not written at all",
    );
  });
});

describe("separation: odd but valid (or merely broken) messages pass unchanged at any chunking", () => {
  const odd: Record<string, string | Buffer> = {
    "CR-only line ends":
      "Subject: a\rContent-Type: multipart/mixed; boundary=b\r\r--b\rContent-Type: text/plain\r\rx\r--b--\r",
    "mixed line ends":
      "Subject: a\r\nContent-Type: multipart/mixed; boundary=b\n\n--b\r\nContent-Type: text/plain\n\r\nx\n--b--\r\n",
    "no final line break": "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--",
    "headers only, no blank line": "Subject: a\r\nX: b",
    "header-only part before the closing delimiter":
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n--b--\r\n",
    "NUL and bare CR in a body": Buffer.concat([
      Buffer.from("Subject: a\r\n\r\n"),
      Buffer.from([0, 1, 2, 0x0d, 0, 0x0a, 255]),
    ]),
    "a 200 KB line": `Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n${"y".repeat(200_000)}\r\n--b--\r\n`,
    "5,000 folded header lines": `Subject: a\r\n${" b\r\n".repeat(5000)}\r\nbody`,
    "closing delimiter in the preamble, text after the epilogue's delimiter":
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b--\r\npre\r\n--b\r\n\r\nx\r\n--b--\r\nepi\r\n--b\r\nafter\r\n",
    "inner multipart never closed":
      "Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: multipart/alternative; boundary=i\r\n\r\n--i\r\n\r\na\r\n--o\r\n\r\nb\r\n--o--\r\n",
    "CR CR LF line ends":
      "Subject: a\r\r\nContent-Type: multipart/mixed; boundary=b\r\r\n\r\r\n--b\r\r\n\r\r\nx\r\r\n--b--\r\r\n",
    "whitespace-only folded line": "Subject: a\r\n \r\n\r\nbody",
    "random bytes": randomBytes(100_000),
  };
  for (const [name, value] of Object.entries(odd)) {
    test(name, async () => {
      const raw = Buffer.isBuffer(value) ? value : Buffer.from(value, "latin1");
      for (const chunk of [1, 3, 64, 1000, 1 << 20])
        assert.deepEqual(
          (await separate(raw, { notice: undefined }, chunk)).out,
          raw,
          `${chunk}-byte chunks`,
        );
    });
  }

  test("canary: mailsplit's own Splitter → Joiner still loses a header-only part (splitter-fix.ts works around it)", async () => {
    const raw = Buffer.from(
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n--b\r\n\r\nx\r\n--b--\r\n",
    );
    const joined: Buffer[] = [];
    for await (const c of Readable.from([raw]).pipe(new Splitter()).pipe(new Joiner()))
      joined.push(c as Buffer);
    assert.notDeepEqual(Buffer.concat(joined), raw, "fixed upstream: the workaround can go");
    assert.deepEqual((await separate(raw, { notice: undefined })).out, raw);
  });
});

describe("separation: the notice in the body's own charset", () => {
  const body = "いつもお世話になっております。\n添付の資料をご確認ください。\n";
  const message = (charset: string, encoding: string, bytes: Buffer, type = "text/plain") => {
    const encoded =
      encoding === "base64"
        ? bytes.toString("base64").replace(/.{76}/g, "$&\r\n")
        : encoding === "quoted-printable"
          ? qpWrap(qpEncode(bytes), 76)
          : bytes.toString("latin1").replace(/\n/g, "\r\n");
    return Buffer.from(
      [
        "From: a@corp.example",
        "MIME-Version: 1.0",
        `Content-Type: ${type}; charset=${charset}`,
        `Content-Transfer-Encoding: ${encoding}`,
        "",
        encoded,
      ].join("\r\n"),
      "latin1",
    );
  };

  const cases: [string, string, (s: string) => Buffer][] = [
    ["ISO-2022-JP", "7bit", (s) => iconvJis(s)],
    ["Shift_JIS", "8bit", (s) => iconv.encode(s, "Shift_JIS")],
    ["Shift_JIS", "base64", (s) => iconv.encode(s, "Shift_JIS")],
    ["EUC-JP", "quoted-printable", (s) => iconv.encode(s, "EUC-JP")],
    ["UTF-8", "quoted-printable", (s) => Buffer.from(s, "utf8")],
    ["UTF-8", "base64", (s) => Buffer.from(s, "utf8")],
  ];
  for (const [charset, encoding, encode] of cases) {
    test(`text/plain ${charset} ${encoding}: notice in ${charset}, the body read back unchanged`, async () => {
      const raw = message(charset, encoding, encode(body));
      const { out, result } = await separate(raw);
      assert.equal(result.noticeInserted.text, true);
      const head = out.subarray(0, out.indexOf("\r\n\r\n")).toString();
      assert.match(head, new RegExp(`charset=${charset}`, "i"), "charset kept");
      assert.match(head, new RegExp(`Content-Transfer-Encoding: ${encoding}`), "encoding kept");
      const parsed = await simpleParser(out);
      assert.ok(parsed.text?.startsWith(noticeLine), parsed.text);
      assert.ok(parsed.text?.includes("https://gw.example.com/d/0123456789abcdef"));
      assert.ok(parsed.text?.includes("partner@example.net"));
      assert.ok(
        parsed.text?.replace(/\r\n/g, "\n").endsWith(body.trimEnd()) || parsed.text?.includes(body.trim()),
      );
      if (encoding === "7bit")
        assert.ok(
          out.every((b) => b < 0x80),
          "still 7-bit",
        );
    });
  }

  test("text/html ISO-2022-JP: the notice right after <body>, in ISO-2022-JP", async () => {
    const html = `<html><head><meta charset="iso-2022-jp"></head><body bgcolor='#fff' data-x="a>b">${body}</body></html>`;
    const raw = message("ISO-2022-JP", "7bit", iconvJis(html), "text/html");
    const { out, result } = await separate(raw);
    assert.equal(result.noticeInserted.html, true);
    const parsed = await simpleParser(out);
    assert.match(
      String(parsed.html),
      /<body bgcolor='#fff' data-x="a>b"><div style="[^"]+"><div style="font-weight:bold">【添付ファイル分離のお知らせ】/,
    );
    assert.ok(String(parsed.html).includes(body.trim().split("\n")[0] ?? ""));
    assert.ok(out.every((b) => b < 0x80));
  });

  test("HTML without <body>: the notice at the top; <body> only inside a two-byte run is not markup", async () => {
    const raw = message("UTF-8", "8bit", Buffer.from("<p>no body tag</p>"), "text/html");
    const parsed = await simpleParser((await separate(raw)).out);
    assert.match(String(parsed.html), /^<div style=[^>]+><div style="font-weight:bold">【添付/);
    // ESC $ B switches to two-byte JIS, where the bytes of "<body>" are three kanji
    const jis = Buffer.from("<html>\x1b$B<body>\x1b(B<body><p>x</p></body></html>", "latin1");
    const out = (await separate(message("ISO-2022-JP", "7bit", jis, "text/html"))).out.toString("latin1");
    assert.ok(out.includes("\x1b$B<body>\x1b(B<body><div style="), out);
  });

  test("ISO-2022-JP and a notice it cannot carry (a file name with emoji and Hangul): the text becomes UTF-8", async () => {
    const notice = separationNotice({
      language: "ja",
      url: "https://gw.example.com/d/x",
      recipient: "partner@example.net",
      files: [{ name: "写真😀한국.jpg", size: 1 }],
      expiresAt: new Date(0),
      timeZone: "Asia/Tokyo",
    });
    const long = `${"長い行".repeat(30_000)}\n`;
    const raw = message("ISO-2022-JP", "7bit", iconvJis(body + long + "ｶﾀｶﾅ\n"));
    for (const chunk of [1000, 1 << 20]) {
      const { out, result } = await separate(raw, { notice }, chunk);
      assert.equal(result.noticeInserted.text, true);
      assert.match(out.toString(), /charset=utf-8/i);
      const text = (await simpleParser(out)).text ?? "";
      assert.ok(text.includes("写真😀한국.jpg"));
      assert.ok(
        text.includes(body.trim()) && text.includes(long.trim()) && text.includes("ｶﾀｶﾅ"),
        `${chunk}-byte chunks`,
      );
    }
  });

  test("format=flowed: notice lines that start with a space are space-stuffed", async () => {
    const raw = message("utf-8; format=flowed", "8bit", Buffer.from("flowed text\n"));
    const parsed = await simpleParser((await separate(raw)).out);
    assert.match(parsed.text ?? "", /\n {2}・見積書\.pdf/);
  });

  test("hostile HTML: an unclosed <body for longer than the search: the notice at the top, nothing held beyond it", async () => {
    const html = Buffer.from(`<html><body class="${"a".repeat(300_000)}`);
    const raw = message("utf-8", "8bit", html, "text/html");
    const { out } = await separate(raw, { limits: { htmlBodySearchBytes: 100_000 } }, 65_536);
    const body = out.subarray(out.indexOf("\r\n\r\n") + 4).toString("utf8");
    assert.ok(body.startsWith("<div style="));
    assert.ok(body.endsWith(html.toString()));
  });

  test("re-encoded as quoted-printable, a bare CR becomes =0D (never a bare CR on the wire)", async () => {
    const raw = message("us-ascii", "7bit", Buffer.from("line1\rstill line1"));
    const { out } = await separate(raw);
    assert.equal(/\r(?!\n)/.test(out.toString("latin1")), false);
    assert.match(out.toString("latin1"), /line1=0Dstill line1/);
  });

  test("a charset the notice does not fit: text/plain becomes UTF-8; an unknown charset is left alone", async () => {
    const latin = message("ISO-8859-1", "quoted-printable", iconv.encode("Grüße aus Köln\n", "latin1"));
    const { out, result } = await separate(latin);
    assert.equal(result.noticeInserted.text, true);
    assert.match(out.toString(), /charset=utf-8/i);
    const parsed = await simpleParser(out);
    assert.ok(parsed.text?.startsWith(noticeLine));
    assert.ok(parsed.text?.includes("Grüße aus Köln"));
    const unknown = message("x-unknown-42", "8bit", Buffer.from("text"));
    const kept = await separate(unknown);
    assert.equal(kept.result.noticeInserted.text, false);
    assert.deepEqual(kept.out, unknown);
  });
});

function iconvJis(s: string): Buffer {
  return Buffer.from(Encoding.convert(Encoding.stringToCode(s), { to: "JIS", from: "UNICODE" }));
}

describe("separation: refused and broken messages", () => {
  const signed = (type: string) =>
    [
      "From: a@corp.example",
      "MIME-Version: 1.0",
      `Content-Type: ${type}`,
      "",
      "--S",
      "Content-Type: text/plain",
      "",
      "signed text",
      "--S",
      'Content-Type: application/pdf; name="a.pdf"',
      "",
      "x",
      "--S--",
      "",
    ].join("\r\n");
  const refusedTypes = [
    'multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="S"',
    'multipart/signed; protocol="application/x-pkcs7-signature"; boundary="S"',
    'multipart/signed; protocol="application/pgp-signature"; micalg=pgp-sha256; boundary="S"',
    'multipart/encrypted; protocol="application/pgp-encrypted"; boundary="S"',
    'application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"',
    "application/x-pkcs7-mime; smime-type=signed-data",
  ];
  for (const type of refusedTypes) {
    test(`refused before anything is written: ${type.split(";")[0]} (${type.match(/protocol="([^"]+)"/)?.[1] ?? "body"})`, async () => {
      let stored = 0;
      const output = new PassThrough();
      const written: Buffer[] = [];
      output.on("data", (c: Buffer) => written.push(c));
      await assert.rejects(
        rewriteAttachments({
          input: Readable.from([Buffer.from(signed(type))]),
          output,
          placeholder,
          onAttachment: async () => void stored++,
        }),
        (err: unknown) => err instanceof SeparationError && err.code === "signed_or_encrypted",
      );
      assert.equal(stored, 0);
      assert.equal(Buffer.concat(written).length, 0);
    });
  }

  test("a signed part deeper in the message is refused as well (the output is then to be discarded)", async () => {
    const raw = [
      "MIME-Version: 1.0",
      'Content-Type: multipart/mixed; boundary="M"',
      "",
      "--M",
      signed('multipart/signed; protocol="application/pkcs7-signature"; boundary="S"').replace(
        "From: a@corp.example\r\nMIME-Version: 1.0\r\n",
        "",
      ),
      "--M--",
    ].join("\r\n");
    await assert.rejects(separate(raw), { code: "signed_or_encrypted" });
  });

  test("the message itself is the attachment: its header block becomes the placeholder's; wrapped with appendParts", async () => {
    const pdf = randomBytes(4000);
    const raw = Buffer.from(
      `From: a@corp.example\r\nSubject: scan\r\nMIME-Version: 1.0\r\nContent-Type: application/pdf; name="scan.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n${pdf.toString("base64")}\r\n`,
    );
    const plain = await separate(raw);
    assert.deepEqual(plain.files[0], pdf);
    const parsed = await simpleParser(plain.out);
    assert.equal(parsed.subject, "scan");
    assert.equal(parsed.text?.trim(), "removed: scan.pdf");
    assert.equal(parsed.attachments.length, 0);
    const wrapped = await separate(raw, {
      appendParts: async () => [
        { headers: "Content-Type: application/zip", body: Readable.from([Buffer.from("zip")]) },
      ],
    });
    const w = await simpleParser(wrapped.out);
    assert.equal(w.text?.trim(), "removed: scan.pdf");
    assert.deepEqual(
      w.attachments.map((a) => a.contentType),
      ["application/zip"],
    );
  });

  test("an image whose HTML comes after it (multipart/related start=) is separated, not kept", async () => {
    const raw = [
      "MIME-Version: 1.0",
      'Content-Type: multipart/related; boundary="R"; start="<html@x>"',
      "",
      "--R",
      "Content-Type: image/png",
      "Content-ID: <img@x>",
      'Content-Disposition: inline; filename="img.png"',
      "",
      "png",
      "--R",
      "Content-Type: text/html",
      "Content-ID: <html@x>",
      "",
      '<img src="cid:img@x">',
      "--R--",
      "",
    ].join("\r\n");
    const { infos } = await separate(raw, { notice: undefined });
    assert.deepEqual(
      infos.map((a) => [a.filename, a.contentId]),
      [["img.png", "img@x"]],
    );
  });

  test("a missing closing boundary and truncated base64: the parts that are there, no hang", async () => {
    const file = randomBytes(1000);
    const b64 = file.toString("base64");
    const raw = [
      "MIME-Version: 1.0",
      'Content-Type: multipart/mixed; boundary="M"',
      "",
      "--M",
      "Content-Type: text/plain",
      "",
      "hello",
      "--M",
      'Content-Type: application/pdf; name="cut.pdf"',
      "Content-Transfer-Encoding: base64",
      "",
      b64.slice(0, 501),
    ].join("\r\n");
    const { out, result, files } = await separate(raw);
    assert.equal(result.attachments.length, 1);
    assert.deepEqual(files[0], file.subarray(0, files[0]?.length ?? 0));
    assert.ok((files[0]?.length ?? 0) >= 370);
    const parsed = await simpleParser(out);
    assert.ok(parsed.text?.includes("hello"));
  });

  test("limits: nesting depth, part count, header size — typed errors", async () => {
    const deep =
      "MIME-Version: 1.0\r\n" +
      Array.from(
        { length: 30 },
        (_, i) => `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n`,
      ).join("") +
      "Content-Type: text/plain\r\n\r\nx\r\n";
    await assert.rejects(separate(deep), { code: "too_deep" });
    const many =
      'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="m"\r\n\r\n' +
      Array.from({ length: 60 }, () => "--m\r\nContent-Type: text/plain\r\n\r\nx\r\n").join("") +
      "--m--\r\n";
    await assert.rejects(separate(many, { limits: { maxParts: 50 } }), { code: "too_many_parts" });
    const bigHeader = `Subject: ${"x".repeat(200_000)}\r\nMIME-Version: 1.0\r\n\r\nbody\r\n`;
    await assert.rejects(separate(bigHeader, { limits: { maxHeaderBytes: 100_000 } }), {
      code: "header_too_large",
    });
    assert.equal((await separate(bigHeader)).result.attachments.length, 0, "within the default");
  });

  test("empty input, headers only, garbage: no crash", async () => {
    await assert.rejects(separate(""), { code: "malformed" });
    const headersOnly = await separate("Subject: x\r\n");
    assert.match(headersOnly.out.toString(), /^(Content-[^\r]*\r\n)*Subject: x\r\n/);
    const garbage = randomBytes(50_000);
    const g = await separate(garbage, { notice: undefined });
    assert.equal(g.result.attachments.length, 0);
  });

  test("onAttachment failing, or returning before reading: a typed error / still hashed", async () => {
    const raw = await compose({
      text: "x",
      attachments: [{ filename: "a.bin", content: randomBytes(500_000) }],
    });
    await assert.rejects(
      separate(raw, {
        onAttachment: async () => {
          throw new Error("disk full");
        },
      }),
      (err: unknown) =>
        err instanceof SeparationError &&
        err.code === "attachment_failed" &&
        /disk full/.test(String((err.cause as Error).message)),
    );
    const early = await separate(raw, { onAttachment: async () => undefined });
    assert.equal(early.result.attachments[0]?.size, 500_000);
  });

  test("back-pressure: a slow consumer gets every byte; what waits in between stays small", async () => {
    const big = randomBytes(8 * 1024 * 1024);
    const raw = await compose({ text: "x", attachments: [{ filename: "big.bin", content: big }] });
    let maxAhead = 0;
    let read = 0;
    const input = Readable.from(
      (function* () {
        for (let i = 0; i < raw.length; i += 65536) yield raw.subarray(i, i + 65536);
      })(),
    );
    const consumed: Buffer[] = [];
    let offered = 0;
    input.on("data", (c: Buffer) => {
      offered += c.length;
      maxAhead = Math.max(maxAhead, offered - (read * 4) / 3);
    });
    const output = new PassThrough();
    output.resume();
    await rewriteAttachments({
      input,
      output,
      placeholder,
      onAttachment: async (_info, content) => {
        for await (const c of content) {
          consumed.push(c as Buffer);
          read += (c as Buffer).length;
          await new Promise((r) => setImmediate(r));
        }
      },
    });
    assert.deepEqual(Buffer.concat(consumed), big);
    assert.ok(maxAhead < 2 * 1024 * 1024, `input ran ${maxAhead} bytes ahead of the consumer`);
  });
});

describe("separation: appendParts", () => {
  const zipPart = () => ({
    headers:
      'Content-Type: application/zip; name="attachments.zip"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="attachments.zip"',
    body: Readable.from([Buffer.from("UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==")]),
  });

  test("multipart/mixed: the parts go before its closing delimiter, after every attachment was stored", async () => {
    const raw = await compose({
      text: "本文",
      attachments: [{ filename: "a.pdf", content: randomBytes(10_000) }],
    });
    let storedBefore = -1;
    let stored = 0;
    const { out } = await separate(raw, {
      notice: undefined,
      onAttachment: async (_i, content) => {
        for await (const _ of content) void _;
        stored++;
      },
      appendParts: async () => {
        storedBefore = stored;
        return [zipPart()];
      },
    });
    assert.equal(storedBefore, 1);
    const parsed = await simpleParser(out);
    assert.deepEqual(
      parsed.attachments.map((a) => [a.filename, a.content.length]),
      [["attachments.zip", 22]],
    );
    assert.ok(parsed.text?.includes("本文"));
    const [segmentsIn, segmentsOut] = [await segments(raw), await segments(out)];
    assert.equal(segmentsOut.length, segmentsIn.length + 2, "one more part and its delimiter");
  });

  test("not multipart/mixed at the top: wrapped in one, the original body byte for byte inside", async () => {
    const raw = Buffer.from(
      "From: a@corp.example\r\nSubject: plain\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n本文です。\r\n",
    );
    const { out } = await separate(raw, {
      notice: undefined,
      appendParts: async () => [zipPart(), zipPart()],
    });
    const parsed = await simpleParser(out);
    assert.equal(parsed.headers.get("subject"), "plain");
    assert.equal(parsed.text?.trim(), "本文です。");
    assert.equal(parsed.attachments.length, 2);
    const outSegments = await segments(out);
    const inner = outSegments[2];
    assert.ok(inner?.kind === "part");
    assert.equal(
      inner.head.toString(),
      "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
    );
    assert.deepEqual(inner.body, Buffer.from("本文です。\r\n"));
  });

  test("headers that would forge a part are refused", async () => {
    const raw = await compose({ text: "x" });
    for (const headers of [
      "Content-Type: text/plain\r\n\r\nX-Injected: 1",
      "Content-Type: text/plain\rBare: cr",
      "日本語: x",
    ])
      await assert.rejects(
        separate(raw, { appendParts: async () => [{ headers, body: Readable.from([Buffer.from("x")]) }] }),
        { code: "invalid_part" },
      );
  });
});

describe("separation: notice text", () => {
  test("ja and en: link, recipient, files with sizes, expiry in the zone; everything escaped", () => {
    const hostile = {
      language: "en" as const,
      url: "https://gw.example.com/d/abc?x=1&y=<2>",
      recipient: '"><script>alert(1)</script>@example.net',
      files: [
        { name: "<img src=x onerror=alert(1)>.pdf", size: 2048 },
        { name: "invoice\u202Efdp.exe", size: 5 * 1024 * 1024 },
        { name: "line\r\nbreak.txt", size: 1 },
        { name: "x".repeat(1000), size: 0 },
      ],
      expiresAt: new Date("2026-12-11T01:05:00Z"),
      timeZone: "Asia/Tokyo",
    };
    const en = separationNotice(hostile);
    assert.ok(!/<script|<img/.test(en.html), en.html);
    assert.match(en.html, /href="https:\/\/gw\.example\.com\/d\/abc\?x=1&amp;y=%3C2%3E"/);
    assert.match(en.text, /Available until: 2026-12-11 10:05 \(\+09:00\)/);
    assert.match(en.text, /invoicefdp\.exe \(5\.0 MB\)/);
    assert.match(en.text, /linebreak\.txt \(1 B\)/);
    assert.ok(!en.text.includes("\u202E"));
    assert.ok(en.text.split("\n").every((l) => l.length < 200));
    const ja = separationNotice({ ...hostile, language: "ja", access: "code" });
    assert.match(ja.text, /^【添付ファイル分離のお知らせ】\n/);
    assert.match(ja.text, /ダウンロード期限: 2026-12-11 10:05 \(\+09:00\)/);
    assert.match(ja.text, /確認コード/);
    assert.throws(() => separationNotice({ ...hostile, url: "javascript:alert(1)" }), /http or https/);
    assert.equal(displayName("\u0000\u202E"), "?");
  });

  test("the Japanese notice fits ISO-2022-JP and Shift_JIS as it is", () => {
    const roundTrip = (s: string) =>
      Encoding.codeToString(
        Encoding.convert(Encoding.convert(Encoding.stringToCode(s), { to: "JIS", from: "UNICODE" }), {
          to: "UNICODE",
          from: "JIS",
        }),
      );
    for (const part of [NOTICE.text, NOTICE.html]) {
      assert.equal(roundTrip(part), part);
      assert.equal(iconv.decode(iconv.encode(part, "Shift_JIS"), "Shift_JIS"), part);
    }
  });
});

describe("separation in a worker thread (Separator)", () => {
  const dir = mkdtempSync(join(tmpdir(), "sendguard-separate-test-"));
  const separator = new Separator({ threads: 1 });
  after(async () => {
    await separator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a message file in, the rewritten file and one file per attachment out", async () => {
    const a = randomBytes(3 * 1024 * 1024);
    const b = randomBytes(1000);
    const raw = await compose({
      text: "本文",
      html: "<body><p>本文</p></body>",
      attachments: [
        { filename: "../../etc/passwd", content: a },
        { filename: "b.bin", content: b },
      ],
    });
    const input = join(dir, "in.eml");
    writeFileSync(input, raw);
    const attachmentsDir = join(dir, "files");
    mkdirSync(attachmentsDir);
    const result = await separator.separateFile({
      inputPath: input,
      outputPath: join(dir, "out.eml"),
      attachmentsDir,
      notice: NOTICE,
      language: "ja",
    });
    assert.deepEqual(
      result.attachments.map((x) => [x.filename, x.path, x.size]),
      [
        ["../../etc/passwd", join(attachmentsDir, "0.bin"), a.length],
        ["b.bin", join(attachmentsDir, "1.bin"), b.length],
      ],
    );
    assert.deepEqual(readFileSync(join(attachmentsDir, "0.bin")), a);
    assert.deepEqual(readFileSync(join(attachmentsDir, "1.bin")), b);
    const parsed = await simpleParser(readFileSync(join(dir, "out.eml")));
    assert.ok(parsed.text?.includes("添付ファイル「../../etc/passwd」はこのメールから切り離されました"));
    assert.deepEqual(result.noticeInserted, { text: true, html: true });
  });

  test("a refusal crosses the thread with its code", async () => {
    const input = join(dir, "signed.eml");
    writeFileSync(
      input,
      'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="x"\r\n\r\n--x--\r\n',
    );
    await assert.rejects(
      separator.separateFile({
        inputPath: input,
        outputPath: join(dir, "signed.out"),
        attachmentsDir: dir,
        language: "en",
      }),
      (err: unknown) => err instanceof SeparationError && err.code === "signed_or_encrypted",
    );
    assert.ok(existsSync(join(dir, "signed.out")), "created, to be discarded by the caller");
  });
});
