// analyzeMessage (server/src/pipeline/analyze.ts): body text and attachment facts of real MIME
// messages built here — Japanese charsets, Office files, PDFs, encrypted and hostile archives — and
// the bounds: zip bombs, nesting, entry counts, oversize parts, text budget, timeout, memory.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { describe, test } from "node:test";
import MailComposer from "nodemailer/lib/mail-composer";
import {
  DEFAULT_ANALYZE_LIMITS,
  analyzeMessage,
  type AttachmentFacts,
  type MessageFacts,
} from "../src/pipeline/analyze.js";
import {
  makeCfb,
  makeDocx,
  makeEncryptedOoxml,
  makeLegacyDoc,
  makeLegacyXls,
  makePdf,
  makePptx,
  makeXlsx,
  makeZip,
} from "./fixtures/documents.js";
import { encodeEucJp, encodeIso2022Jp, encodeShiftJis, encodedWordIso2022Jp } from "./fixtures/japanese.js";
import { base64Lines, chunks, compose, rawMessage } from "./fixtures/mime.js";

const MiB = 1024 * 1024;

function only(facts: MessageFacts): AttachmentFacts {
  assert.equal(facts.attachments.length, 1, JSON.stringify(facts.attachments.map((a) => a.filename)));
  return facts.attachments[0] as AttachmentFacts;
}

async function analyzeAttachment(filename: string, content: Buffer, limits = {}): Promise<AttachmentFacts> {
  const message = await compose({ text: "see attached", attachments: [{ filename, content }] });
  const facts = await analyzeMessage(chunks(message), limits);
  return only(facts);
}

const CSV_ROWS = [
  "氏名,フリガナ,電話番号,住所",
  "山田太郎,ヤマダタロウ,090-1234-5678,東京都千代田区丸の内1-1-1",
  "佐藤花子,サトウハナコ,03-1234-5678,大阪府大阪市北区梅田2-2-2",
];

// First in the file, so that the heap is not already grown by the other tests (which would hide growth).
describe("memory", () => {
  test("a 25 MB message, generated as a stream: RSS grows by less than 200 MB", async (t) => {
    // a 300 KB xlsx, an 8 MB binary and a 10 MB Shift_JIS CSV (text extracted up to the budget)
    const line = encodeShiftJis(
      "山田太郎,ヤマダタロウ,090-1234-5678,東京都千代田区丸の内1-1-1,4111111111111111\r\n",
    );
    const block = Buffer.concat(Array.from({ length: Math.ceil(65536 / line.length) }, () => line));
    const csvBlocks = Math.ceil((10 * MiB) / block.length);
    const binBlock = randomBytes(65536);
    const xlsx = await makeXlsx([
      Array.from({ length: 5000 }, (_, i) => [`氏名${i}`, 9000000000 + i, `住所${i}`]),
    ]);
    const stream = (blocks: number, b: Buffer) =>
      Readable.from(
        (function* () {
          for (let i = 0; i < blocks; i++) yield b;
        })(),
      );
    const mail = new MailComposer({
      from: "sender@example.co.jp",
      to: "rcpt@example.com",
      subject: "大きな添付",
      text: "大きな添付",
      attachments: [
        { filename: "名簿.xlsx", content: xlsx },
        { filename: "data.bin", content: stream(128, binBlock) },
        { filename: "顧客.csv", content: stream(csvBlocks, block), contentType: "text/csv" },
      ],
    });
    let size = 0;
    const source = (async function* () {
      for await (const chunk of mail.compile().createReadStream()) {
        size += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
    })();
    const before = process.memoryUsage.rss();
    let peak = before;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
    const started = performance.now();
    const facts = await analyzeMessage(source);
    const ms = performance.now() - started;
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage.rss());
    t.diagnostic(
      `${(size / 1e6).toFixed(1)} MB message: ${ms.toFixed(0)} ms, RSS +${((peak - before) / MiB).toFixed(0)} MiB`,
    );
    assert.ok(size > 25 * 1000 * 1000, `${size} bytes`);
    assert.deepEqual(facts.problems, ["text limit reached: kept 2000000 characters"]);
    assert.deepEqual(
      facts.attachments.map((a) => [a.filename, a.truncated]),
      [
        ["名簿.xlsx", false],
        ["data.bin", false],
        ["顧客.csv", true], // cut by the 2,000,000-character text budget
      ],
    );
    assert.equal(facts.attachments[2]?.size, csvBlocks * block.length);
    assert.ok(facts.attachments[0]?.text.includes("氏名4999\t9000004999\t住所4999"));
    assert.ok(peak - before < 200 * MiB, `RSS grew ${((peak - before) / MiB).toFixed(0)} MiB`);
  });
});

describe("body text", () => {
  test("ISO-2022-JP text body and a Shift_JIS CSV with an RFC 2231 Japanese name", async () => {
    const body =
      "山田様\r\n\r\nいつもお世話になっております。①の件、ご確認ください。\r\n電話: 03-1234-5678\r\n";
    const message = await compose({
      subject: "見積書の送付",
      text: {
        raw: `Content-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n${encodeIso2022Jp(body).toString("latin1")}`,
      },
      attachments: [
        { filename: "顧客一覧.csv", content: encodeShiftJis(CSV_ROWS.join("\r\n")), contentType: "text/csv" },
      ],
    });
    assert.match(message.toString("latin1"), /filename\*0\*=utf-8''/, "MailComposer writes RFC 2231");
    const facts = await analyzeMessage(chunks(message, 100));
    assert.deepEqual(facts.problems, []);
    assert.equal(facts.bodyText, body.replace(/\r\n/g, "\n").trimEnd());
    const csv = only(facts);
    assert.equal(csv.filename, "顧客一覧.csv");
    assert.equal(csv.extension, "csv");
    assert.equal(csv.contentType, "text/csv");
    assert.equal(csv.size, encodeShiftJis(CSV_ROWS.join("\r\n")).length);
    assert.equal(csv.text, CSV_ROWS.join("\n"));
    assert.equal(csv.encrypted, false);
    assert.equal(csv.truncated, false);
  });

  test("HTML-only body: tags removed, script/style skipped, entities decoded, blocks on lines", async () => {
    const html =
      "<html><head><title>件名</title><style>p{color:red}</style></head><body>" +
      "<p>お客様各位</p><script>var x = '<p>隠し</p>';</script>" +
      "<div>電話&nbsp;03&#x2D;1234&#45;5678 &amp; FAX&#65306;03-1234-5679</div>" +
      "<table><tr><td>氏名</td><td>山田&#x3000;太郎</td></tr></table>" +
      "<p>住所:<br>東京都 &lt;千代田区&gt; &copy; &yen;1,000</p><!-- 社外秘 --></body></html>";
    const facts = await analyzeMessage(chunks(await compose({ html }), 37));
    assert.equal(
      facts.bodyText,
      "お客様各位\n電話 03-1234-5678 & FAX：03-1234-5679\n氏名\t山田\u3000太郎\n住所:\n東京都 <千代田区> © ¥1,000",
    );
    assert.deepEqual(facts.attachments, []);
  });

  test("multipart/alternative counts equal alternatives once, different ones both", async () => {
    const same = await analyzeMessage(
      chunks(await compose({ text: "山田太郎 090-1234-5678", html: "<p>山田太郎 <b>090-1234-5678</b></p>" })),
    );
    assert.equal(same.bodyText, "山田太郎 090-1234-5678");
    const differ = await analyzeMessage(
      chunks(
        await compose({
          text: "ご確認ください。",
          html: "<p>ご確認ください。</p><p>カード 4111-1111-1111-1111</p>",
        }),
      ),
    );
    assert.equal(differ.bodyText, "ご確認ください。\n\nご確認ください。\nカード 4111-1111-1111-1111");
  });

  test("quoted-printable and base64 bodies decode the same however the stream is cut", async () => {
    const text = `${"長い行です。".repeat(40)}\r\n=equals= sign\r\n末尾`;
    for (const textEncoding of ["quoted-printable", "base64"] as const) {
      const message = await compose({ text, textEncoding });
      for (const size of [1, 7, 76, 4096]) {
        const facts = await analyzeMessage(chunks(message, size));
        assert.equal(facts.bodyText, text.replace(/\r\n/g, "\n"), `${textEncoding}, ${size}-byte chunks`);
      }
    }
  });

  test("body text beyond maxTextChars is cut and the cut reported", async () => {
    const facts = await analyzeMessage(chunks(await compose({ text: "あ".repeat(500) })), {
      maxTextChars: 100,
    });
    assert.equal(facts.bodyText, "あ".repeat(100));
    assert.ok(
      facts.problems.some((p) => p.startsWith("text limit reached")),
      facts.problems.join(),
    );
  });
});

describe("charsets of text attachments", () => {
  test("undeclared: BOM, UTF-8, Shift_JIS, EUC-JP, ISO-2022-JP; declared charsets and HTML <meta>", async () => {
    const text = "顧客名簿：山田太郎（ヤマダタロウ）〒100-0001 東京都千代田区 ①②";
    const plain = text.replace(" ①②", "");
    const cases: [string, Buffer, string, string][] = [
      ["bom.csv", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]), "text/csv", text],
      ["utf8.txt", Buffer.from(text), "text/plain", text],
      ["sjis.csv", encodeShiftJis(text), "text/csv", text],
      ["euc.txt", encodeEucJp(plain), "text/plain", plain],
      ["jis.txt", encodeIso2022Jp(text), "text/plain", text],
      ["declared.txt", encodeShiftJis(text), "text/plain; charset=windows-31j", text],
      ["cp932.txt", encodeShiftJis(text), "text/plain; charset=CP932", text],
      ["declared-jis.txt", encodeIso2022Jp(text), "text/plain; charset=ISO-2022-JP", text],
      [
        "page.html",
        Buffer.concat([
          Buffer.from(
            '<html><head><meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS"></head><body><p>',
          ),
          encodeShiftJis(text),
          Buffer.from("</p></body></html>"),
        ]),
        "text/html",
        text,
      ],
    ];
    const message = await compose({
      text: "添付をご確認ください",
      attachments: cases.map(([filename, content, contentType]) => ({ filename, content, contentType })),
    });
    const facts = await analyzeMessage(chunks(message));
    assert.deepEqual(
      facts.attachments.map((a) => [a.filename, a.text]),
      cases.map(([filename, , , expected]) => [filename, expected]),
    );
  });
});

describe("attachment names", () => {
  test("RFC 2231 in Shift_JIS, RFC 2047 in ISO-2022-JP, inline image without a name", async () => {
    const sjisName = [...encodeShiftJis("請求書.pdf")]
      .map((b) => `%${b.toString(16).toUpperCase()}`)
      .join("");
    const message = rawMessage([
      { headers: ["Content-Type: text/plain; charset=us-ascii"], body: "body" },
      {
        headers: [
          "Content-Type: application/octet-stream",
          `Content-Disposition: attachment; filename*=shift_jis''${sjisName}`,
          "Content-Transfer-Encoding: base64",
        ],
        body: base64Lines(Buffer.from("x")),
      },
      {
        headers: [
          `Content-Type: application/vnd.ms-excel; name="${encodedWordIso2022Jp("社員名簿")}.XLS"`,
          "Content-Transfer-Encoding: base64",
        ],
        body: base64Lines(makeLegacyXls(false)),
      },
      {
        headers: ["Content-Type: image/png", "Content-ID: <logo@x>", "Content-Disposition: inline"],
        body: "",
      },
    ]);
    const facts = await analyzeMessage(chunks(message));
    assert.equal(facts.bodyText, "body");
    assert.deepEqual(
      facts.attachments.map((a) => [a.filename, a.extension, a.contentType]),
      [
        ["請求書.pdf", "pdf", "application/octet-stream"],
        ["社員名簿.XLS", "xls", "application/vnd.ms-excel"],
        ["", "", "image/png"],
      ],
    );
  });
});

describe("documents", () => {
  test(".docx: paragraphs, runs, header and footer; tab stops are not tabs", async () => {
    const docx = await makeDocx(
      ["山田太郎 090-1234-5678", "マイナンバー 1234 5678 9012"],
      "社外秘",
      "株式会社サンプル",
    );
    const a = await analyzeAttachment("契約書.docx", docx);
    assert.equal(
      a.text,
      "山田太郎 090-1234-5678\nマイナンバー 1234 5678 9012\n\n社外秘\n\n株式会社サンプル\tp.1",
    );
    assert.equal(a.contentType, "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
    assert.deepEqual([a.encrypted, a.truncated, a.problems, a.children], [false, false, [], []]);
  });

  test(".xlsx: rows of shared strings, inline strings and numeric cells; readings left out", async () => {
    const rows = [
      ["氏名", "電話", "カード番号", "住所"],
      ["山田太郎", 9012345678, 4111111111111111, "東京都千代田区"],
      ["佐藤花子", "03-1234-5678", 5555555555554444, "大阪府大阪市"],
    ];
    const phonetic = (s: string) => (s === "山田太郎" ? "ヤマダタロウ" : null);
    const shared = await analyzeAttachment(
      "名簿.xlsx",
      await makeXlsx([rows, [["二枚目", 42]]], { phonetic }),
    );
    const expected =
      "氏名\t電話\tカード番号\t住所\n山田太郎\t9012345678\t4111111111111111\t東京都千代田区\n" +
      "佐藤花子\t03-1234-5678\t5555555555554444\t大阪府大阪市\n\n二枚目\t42";
    assert.equal(shared.text, expected);
    const inline = await analyzeAttachment(
      "名簿.xlsx",
      await makeXlsx([rows, [["二枚目", 42]]], { inline: true }),
    );
    assert.equal(inline.text, expected);
  });

  test(".pptx: slides in document order, then speaker notes", async () => {
    const slides = Array.from({ length: 11 }, (_, i) => [`スライド${i + 1}`, `本文${i + 1}`]);
    const a = await analyzeAttachment("提案.pptx", await makePptx(slides, ["発表者メモ"]));
    const expected = [...slides.map((s) => s.join("\n")), "発表者メモ"].join("\n\n");
    assert.equal(a.text, expected);
  });

  test(".pdf: text of every page, Japanese through the Adobe-Japan1 CMaps", async () => {
    const pdf = makePdf([{ latin: "Invoice 090-1234-5678", japanese: "山田太郎様" }, { latin: "Page (2)" }]);
    const a = await analyzeAttachment("請求書.pdf", pdf);
    assert.equal(a.text, "Invoice 090-1234-5678\n山田太郎様\nPage (2)");
    assert.deepEqual([a.encrypted, a.truncated, a.problems], [false, false, []]);
  });

  test("a renamed file is recognised by its bytes: a .docx sent as .dat", async () => {
    const a = await analyzeAttachment("data.dat", await makeDocx(["中身は文書"]));
    assert.equal(a.text, "中身は文書");
    assert.deepEqual(a.children, []);
  });

  test("an attached message: its body as text, its attachments as children", async () => {
    const inner = await compose({
      subject: "転送",
      text: "転送元の本文 090-9999-8888",
      attachments: [{ filename: "内訳.csv", content: encodeShiftJis("品名,金額\r\nりんご,100") }],
    });
    const a = await analyzeAttachment("fwd.eml", inner);
    assert.equal(a.contentType, "message/rfc822");
    assert.equal(a.text, "転送元の本文 090-9999-8888");
    assert.deepEqual(
      a.children.map((c) => [c.filename, c.text]),
      [["内訳.csv", "品名,金額\nりんご,100"]],
    );
  });
});

describe("encryption", () => {
  test("AES and ZipCrypto zips: the archive and each encrypted entry", async () => {
    for (const zipCrypto of [false, true]) {
      const zip = await makeZip(
        [
          { name: "顧客.csv", data: "山田,090-1234-5678" },
          { name: "readme.txt", data: "password by phone", options: { password: "" } },
        ],
        { password: "p@ss", zipCrypto },
      );
      const a = await analyzeAttachment("secret.zip", zip);
      assert.equal(a.encrypted, true, zipCrypto ? "ZipCrypto" : "AES");
      assert.deepEqual(
        a.children.map((c) => [c.filename, c.encrypted, c.text]),
        [
          ["顧客.csv", true, ""],
          ["readme.txt", false, "password by phone"],
        ],
      );
      assert.equal(a.truncated, false);
    }
  });

  test("encrypted PDF (RC4, user password), encrypted OOXML, legacy .doc/.xls with a password", async () => {
    const cases: [string, Buffer, boolean][] = [
      ["locked.pdf", makePdf([{ latin: "secret 090-1234-5678" }], "pw"), true],
      ["open.pdf", makePdf([{ latin: "public" }]), false],
      ["locked.xlsx", makeEncryptedOoxml(), true],
      ["locked.docx", makeEncryptedOoxml(), true],
      ["locked.doc", makeLegacyDoc(true), true],
      ["open.doc", makeLegacyDoc(false), false],
      ["locked.xls", makeLegacyXls(true), true],
      ["open.xls", makeLegacyXls(false), false],
      ["other.ole", makeCfb([{ name: "Contents", data: Buffer.from("x") }]), false],
    ];
    for (const [name, content, encrypted] of cases) {
      const a = await analyzeAttachment(name, content);
      assert.equal(a.encrypted, encrypted, name);
      assert.equal(a.text.includes("secret"), false, name);
      assert.deepEqual(a.problems, [], name);
    }
  });

  test("RAR and 7z with encrypted headers", async () => {
    // RAR5: signature, then an archive encryption header (CRC32, size, type 4)
    const rar5 = Buffer.concat([
      Buffer.from("Rar!\x1a\x07\x01\x00", "latin1"),
      Buffer.from([1, 2, 3, 4, 0x05, 0x04, 0x00, 0, 0, 0]),
    ]);
    // RAR4: signature, MAIN_HEAD with MHD_PASSWORD
    const rar4 = Buffer.concat([
      Buffer.from("Rar!\x1a\x07\x00", "latin1"),
      Buffer.from([0, 0, 0x73, 0x80, 0x00, 13, 0, 0, 0, 0, 0, 0, 0]),
    ]);
    const plain4 = Buffer.concat([
      Buffer.from("Rar!\x1a\x07\x00", "latin1"),
      Buffer.from([0, 0, 0x73, 0x00, 0x00, 13, 0, 0, 0, 0, 0, 0, 0]),
    ]);
    // 7z: start header pointing at an encoded header whose coder is AES (06F10701)
    const next = Buffer.from([
      0x17, 0x06, 0x00, 0x01, 0x09, 0x20, 0x00, 0x0b, 0x01, 0x01, 0x24, 0x06, 0xf1, 0x07, 0x01,
    ]);
    const start = Buffer.alloc(32);
    Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0, 4]).copy(start);
    start.writeBigUInt64LE(16n, 12);
    start.writeBigUInt64LE(BigInt(next.length), 20);
    const sevenZip = Buffer.concat([start, Buffer.alloc(16), next]);
    for (const [name, content, encrypted] of [
      ["a.rar", rar5, true],
      ["b.rar", rar4, true],
      ["c.rar", plain4, false],
      ["d.7z", sevenZip, true],
    ] as const) {
      assert.equal((await analyzeAttachment(name, content)).encrypted, encrypted, name);
    }
  });
});

describe("archives", () => {
  test("zip entries with facts and text; Shift_JIS names; nested zip; zip slip reported", async () => {
    const inner = await makeZip([{ name: "内側.txt", data: "内側の本文" }]);
    const zip = await makeZip(
      [
        { name: "資料/顧客一覧.csv", data: encodeShiftJis(CSV_ROWS.join("\r\n")) },
        { name: "資料/契約書.docx", data: await makeDocx(["契約者 山田太郎"]) },
        { name: "inner.zip", data: inner },
        { name: "../../evil.txt", data: "root:x:0:0" },
      ],
      { encodeName: encodeShiftJis },
    );
    const a = await analyzeAttachment("まとめ.zip", zip);
    assert.deepEqual(
      a.children.map((c) => [c.filename, c.extension, c.contentType, c.text]),
      [
        ["資料/顧客一覧.csv", "csv", "text/csv", CSV_ROWS.join("\n")],
        [
          "資料/契約書.docx",
          "docx",
          "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          "契約者 山田太郎",
        ],
        ["inner.zip", "zip", "application/zip", ""],
        ["../../evil.txt", "txt", "text/plain", "root:x:0:0"],
      ],
    );
    assert.deepEqual(
      a.children[2]?.children.map((c) => [c.filename, c.text]),
      [["内側.txt", "内側の本文"]],
    );
    assert.deepEqual(a.problems, ["unsafe entry path: ../../evil.txt"]);
    assert.equal(a.children[0]?.size, encodeShiftJis(CSV_ROWS.join("\r\n")).length);
  });

  test("nesting deeper than maxArchiveDepth is not opened", async () => {
    const level3 = await makeZip([{ name: "deep.txt", data: "深い" }]);
    const level2 = await makeZip([{ name: "level3.zip", data: level3 }]);
    const level1 = await makeZip([{ name: "level2.zip", data: level2 }]);
    const a = await analyzeAttachment("level1.zip", level1);
    const l2 = a.children[0] as AttachmentFacts;
    const l3 = l2.children[0] as AttachmentFacts;
    assert.equal(l3.filename, "level3.zip");
    assert.deepEqual(l3.problems, [`nesting deeper than ${DEFAULT_ANALYZE_LIMITS.maxArchiveDepth}`]);
    assert.equal(l3.truncated, true);
    assert.deepEqual(l3.children, []);
    const deeper = await analyzeAttachment("level1.zip", level1, { maxArchiveDepth: 3 });
    assert.equal(deeper.children[0]?.children[0]?.children[0]?.text, "深い");
  });

  test("zip bomb: 200 MB of zeros in a nested zip stops at maxExpandedBytes, fast and small", async (t) => {
    const zeros = new Uint8Array(20 * MiB);
    const files = Array.from({ length: 10 }, (_, i) => ({ name: `zeros${i}.bin`, data: zeros }));
    const inner = await makeZip(files, { level: 9 });
    assert.ok(inner.length < 400 * 1024, `inner zip ${inner.length} bytes`);
    const outer = await makeZip([
      { name: "bomb.zip", data: inner },
      { name: "after.txt", data: "後" },
    ]);
    const rssBefore = process.memoryUsage.rss();
    let peak = rssBefore;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
    const started = performance.now();
    const facts = await analyzeMessage(
      chunks(await compose({ attachments: [{ filename: "bomb.zip", content: outer }] })),
    );
    const ms = performance.now() - started;
    clearInterval(timer);
    const a = only(facts);
    const bomb = a.children[0] as AttachmentFacts;
    assert.ok(bomb.problems.includes("zip bomb: expanded bytes over limit"), bomb.problems.join());
    assert.ok(facts.problems.includes("zip bomb: expanded bytes over limit"));
    assert.equal(bomb.truncated, true);
    assert.equal(a.truncated, true);
    // the entry after the bomb is still listed, not inflated
    assert.equal(a.children[1]?.filename, "after.txt");
    assert.equal(a.children[1]?.truncated, true);
    t.diagnostic(`zip bomb: ${ms.toFixed(0)} ms, RSS +${((peak - rssBefore) / MiB).toFixed(0)} MiB`);
    assert.ok(ms < 8000, `${ms.toFixed(0)} ms`);
    assert.ok(peak - rssBefore < 200 * MiB, `RSS grew ${((peak - rssBefore) / MiB).toFixed(0)} MiB`);
  });

  test("PDF bomb: a content stream inflating to 300 MB is counted, not handed to pdf.js", async (t) => {
    const bomb = makePdf([{ latin: "hidden", padding: 300 * MiB }]);
    assert.ok(bomb.length < 1024 * 1024, `${bomb.length} bytes`);
    const rssBefore = process.memoryUsage.rss();
    let peak = rssBefore;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
    const started = performance.now();
    const a = await analyzeAttachment("bomb.pdf", bomb);
    const ms = performance.now() - started;
    clearInterval(timer);
    t.diagnostic(`PDF bomb: ${ms.toFixed(0)} ms, RSS +${((peak - rssBefore) / MiB).toFixed(0)} MiB`);
    assert.deepEqual(a.problems, [`streams larger than ${25 * MiB} bytes once inflated: text not extracted`]);
    assert.deepEqual([a.text, a.truncated], ["", true]);
    assert.ok(peak - rssBefore < 200 * MiB, `RSS grew ${((peak - rssBefore) / MiB).toFixed(0)} MiB`);
    // a modest compressed page is read as usual
    const fine = await analyzeAttachment(
      "fine.pdf",
      makePdf([{ latin: "visible 03-1234-5678", padding: 1000 }]),
    );
    assert.deepEqual([fine.text, fine.truncated, fine.problems], ["visible 03-1234-5678", false, []]);
  });

  test("more entries than maxArchiveEntries: listed up to the limit, reported", async () => {
    const zip = await makeZip(Array.from({ length: 30 }, (_, i) => ({ name: `f${i}.txt`, data: `${i}` })));
    const a = await analyzeAttachment("many.zip", zip, { maxArchiveEntries: 10 });
    assert.equal(a.children.length, 10);
    assert.equal(a.truncated, true);
    assert.deepEqual(a.problems, ["too many archive entries (over 10)"]);
  });

  test("a corrupt zip is a problem, not a failure", async () => {
    const good = await makeZip([{ name: "a.txt", data: "a".repeat(1000) }]);
    const truncatedZip = good.subarray(0, good.length - 30);
    const garbage = Buffer.concat([Buffer.from("PK\x03\x04", "latin1"), Buffer.alloc(200, 0x41)]);
    for (const content of [truncatedZip, garbage]) {
      const a = await analyzeAttachment("broken.zip", content);
      assert.equal(a.problems.length, 1, a.problems.join());
      assert.match(a.problems[0] as string, /^corrupt zip: /);
      assert.deepEqual(a.children, []);
    }
    // a damaged entry inside a sound archive
    const damaged = Buffer.from(
      await makeZip([{ name: "b.txt", data: "b".repeat(5000) + "x".repeat(5000) }]),
    );
    damaged.fill(0xff, 40, 60);
    const b = await analyzeAttachment("damaged.zip", damaged);
    assert.match(b.children[0]?.problems[0] ?? "", /^corrupt zip entry: /);
  });
});

describe("bounds", () => {
  test("an attachment over maxAttachmentBytes: facts only, encryption still seen", async () => {
    const csv = encodeShiftJis(CSV_ROWS.join("\r\n").repeat(100));
    const a = await analyzeAttachment("big.csv", csv, { maxAttachmentBytes: 1000 });
    assert.deepEqual([a.size, a.text, a.truncated], [csv.length, "", true]);
    assert.match(a.problems[0] ?? "", /^larger than 1000 bytes/);
    const zip = await makeZip([{ name: "x.bin", data: randomBytes(300_000) }], { password: "pw" });
    const z = await analyzeAttachment("big.zip", zip, { maxAttachmentBytes: 100_000 });
    assert.deepEqual([z.size, z.encrypted, z.truncated], [zip.length, true, true]);
    const pdf = makePdf([{ latin: "x".repeat(200_000) }], "pw");
    const p = await analyzeAttachment("big.pdf", pdf, { maxAttachmentBytes: 100_000 });
    assert.deepEqual([p.encrypted, p.truncated], [true, true]);
  });

  test("text budget is shared by body and attachments", async () => {
    const message = await compose({
      text: "本".repeat(60),
      attachments: [
        { filename: "a.txt", content: "a".repeat(30) },
        { filename: "b.txt", content: "b".repeat(30) },
      ],
    });
    const facts = await analyzeMessage(chunks(message), { maxTextChars: 100 });
    assert.equal(facts.bodyText.length, 60);
    assert.deepEqual(
      facts.attachments.map((a) => [a.text, a.truncated]),
      [
        ["a".repeat(30), false],
        ["b".repeat(10), true],
      ],
    );
  });

  test("timeout in a large archive: the look stops, the facts found so far come back", async () => {
    const zeros = new Uint8Array(50 * MiB);
    const bomb = await makeZip(
      Array.from({ length: 8 }, (_, i) => ({ name: `z${i}.bin`, data: zeros })),
      { level: 1 },
    );
    const message = await compose({ text: "本文", attachments: [{ filename: "big.zip", content: bomb }] });
    const started = performance.now();
    const facts = await analyzeMessage(chunks(message), { timeoutMs: 100, maxExpandedBytes: 4096 * MiB });
    const ms = performance.now() - started;
    assert.ok(ms < 1000, `${ms.toFixed(0)} ms`);
    assert.deepEqual(facts.problems, ["timeout"]);
    assert.equal(facts.bodyText, "本文");
    const a = only(facts);
    assert.equal(a.truncated, true);
    assert.ok(a.children.length < 8, `${a.children.length} children`);
  });

  test("timeout: what was found so far comes back with problems += timeout", async () => {
    const message = await compose({
      text: "最初の本文",
      attachments: Array.from({ length: 50 }, (_, i) => ({ filename: `f${i}.txt`, content: `file ${i}` })),
    });
    async function* slow(): AsyncIterable<Buffer> {
      for (let i = 0; i < message.length; i += 512) {
        yield message.subarray(i, i + 512);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    const started = performance.now();
    const facts = await analyzeMessage(slow(), { timeoutMs: 300 });
    const ms = performance.now() - started;
    assert.ok(ms < 1000, `${ms.toFixed(0)} ms`);
    assert.ok(facts.problems.includes("timeout"));
    assert.equal(facts.bodyText, "最初の本文");
    assert.ok(facts.attachments.length > 0 && facts.attachments.length < 50, `${facts.attachments.length}`);
  });
});
