// TNEF (winmail.dat): the reader (pipeline/tnef/read.ts) against samples built as Outlook writes
// them and checked by an independent decoder (Debian's tnef); hostile and truncated streams, cut at
// every byte and mutated at random, always get a result; the separation takes the files out of a
// winmail.dat, and the analysis counts them as the message's attachments.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, describe, test } from "node:test";
import MailComposer from "nodemailer/lib/mail-composer";
import { analyzeMessage } from "../src/pipeline/analyze.js";
import { bufferSource, readTnef, type TnefResult } from "../src/pipeline/tnef/read.js";
import { separateFile } from "../src/pipeline/transform/separate/separate-worker.js";
import { buildTnef, type TnefFile } from "./fixtures/tnef.js";

const XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const FILES: TnefFile[] = [
  {
    name: "見積書 2026年度.pdf",
    data: Buffer.concat([Buffer.from("binary\n"), randomBytes(5000)]),
    mime: "application/pdf",
  },
  { name: "memo.txt", data: Buffer.from("極秘: 顧客リストの件\n"), noProperties: true },
  { name: "empty.bin", data: Buffer.alloc(0) },
];
const SAMPLE = buildTnef(FILES);
const work = mkdtempSync(join(tmpdir(), "sendguard-tnef-"));
after(() => rmSync(work, { recursive: true, force: true }));

const read = (bytes: Buffer) => readTnef(bufferSource(bytes));
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** A message with a text body and `winmail` as an application/ms-tnef attachment. */
function withWinmail(winmail: Buffer): Promise<Buffer> {
  return new MailComposer({
    from: "taro@corp.example",
    to: "client@partner.example",
    subject: "見積書",
    text: "本文です。",
    attachments: [{ filename: "winmail.dat", content: winmail, contentType: "application/ms-tnef" }],
  })
    .compile()
    .build();
}

describe("TNEF reader", () => {
  test("names (UTF-16 long name, or the 8-bit title in the code page), types and bytes of each file", async () => {
    const result = await read(SAMPLE);
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.skipped, 0);
    assert.deepEqual(
      result.attachments.map((a) => [a.name, a.contentType, a.size]),
      [
        ["見積書 2026年度.pdf", "application/pdf", 5007],
        ["memo.txt", null, FILES[1]!.data.length],
        ["empty.bin", null, 0],
      ],
    );
    for (const [i, a] of result.attachments.entries())
      assert.ok(SAMPLE.subarray(a.offset, a.offset + a.size).equals(FILES[i]!.data), a.name);
  });

  test("an independent decoder (Debian's tnef) reads the same files from the sample", () => {
    const path = join(work, "winmail.dat");
    writeFileSync(path, SAMPLE);
    const out = join(work, "tnef-out");
    mkdirSync(out);
    execFileSync("tnef", ["-C", out, "-f", path]);
    const names = readdirSync(out)
      .map((n) => decodeURIComponent(n))
      .sort();
    assert.deepEqual(names, ["empty.bin", "memo.txt", "見積書 2026年度.pdf"]);
    const pdf = readdirSync(out).find((n) => n.endsWith(".pdf"))!;
    assert.ok(readFileSync(join(out, pdf)).equals(FILES[0]!.data));
  });

  test("a path in the name is dropped; a nameless file gets one; Shift_JIS titles read as Japanese", async () => {
    const result = await read(
      buildTnef([
        { name: "C:\\Users\\taro\\資料.docx", data: Buffer.from("x"), mime: XLSX_TYPE },
        { name: "", title: "", data: Buffer.from("y"), noProperties: true },
        { name: "契約書.pdf", data: Buffer.from("z"), noProperties: true },
      ]),
    );
    assert.ok(result.ok);
    assert.deepEqual(
      result.attachments.map((a) => a.name),
      ["資料.docx", "attachment-2.bin", "契約書.pdf"],
    );
  });

  test("not TNEF, cut short, or lying about lengths: a problem that says so, never an exception", async () => {
    const problem = (r: TnefResult) => (r.ok ? "ok" : r.problem);
    assert.match(problem(await read(Buffer.from("not a tnef stream"))), /not TNEF: the signature/);
    assert.match(problem(await read(Buffer.alloc(0))), /not TNEF/);
    assert.match(problem(await read(SAMPLE.subarray(0, SAMPLE.length - 1))), /^truncated: /);
    const lying = Buffer.from(SAMPLE);
    lying.writeUInt32LE(0xffffffff, 6 + 5); // the first attribute's length
    assert.match(problem(await read(lying)), /declares 4294967295 bytes/);
    const level = Buffer.from(SAMPLE);
    level[6] = 7;
    assert.match(problem(await read(level)), /has level 7/);
  });

  test("cut at every byte: each prefix gets a result within bounds", async () => {
    for (let end = 0; end <= SAMPLE.length; end += end < 400 ? 1 : 97) {
      const result = await read(SAMPLE.subarray(0, end));
      if (result.ok)
        for (const a of result.attachments) assert.ok(a.offset + a.size <= end, `prefix ${end}: ${a.name}`);
    }
  });

  test("fuzz: 3,000 mutated samples (bytes flipped, lengths replaced, pieces cut out) never throw", async () => {
    let seed = 12345;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const small = buildTnef(FILES.slice(1));
    for (let i = 0; i < 3000; i++) {
      const bytes = Buffer.from(small);
      for (let k = 0; k <= random(6); k++) {
        const at = random(bytes.length);
        if (random(3) === 0 && at + 4 <= bytes.length) bytes.writeUInt32LE(random(0x7fffffff) * 2, at);
        else bytes[at] = random(256);
      }
      const cut = random(4) === 0 ? bytes.subarray(0, random(bytes.length)) : bytes;
      const result = await read(cut);
      if (result.ok) {
        assert.ok(result.attachments.length <= 1000);
        for (const a of result.attachments) {
          assert.ok(a.offset >= 0 && a.offset + a.size <= cut.length, `mutation ${i}`);
          assert.equal(typeof a.name, "string");
        }
      } else assert.ok(result.problem.length > 0);
    }
  });

  test("bounded: too many attributes or attachments are refused by name", async () => {
    const many = buildTnef(
      Array.from({ length: 30 }, (_, i) => ({ name: `f${i}.txt`, data: Buffer.from("x") })),
    );
    const attributes = await readTnef(bufferSource(many), { attributes: 50 });
    assert.deepEqual(attributes, { ok: false, problem: "more than 50 attributes" });
    const attachments = await readTnef(bufferSource(many), { attachments: 10 });
    assert.deepEqual(attachments, { ok: false, problem: "more than 10 attachments" });
  });
});

/** Separates a message with `winmail` as its attachment, the stored files' way (openTnef). */
async function separated(winmail: Buffer) {
  const dir = mkdtempSync(join(work, "sep-"));
  const input = join(dir, "in.eml");
  writeFileSync(input, await withWinmail(winmail));
  const result = await separateFile({
    inputPath: input,
    outputPath: join(dir, "out.eml"),
    attachmentsDir: dir,
    language: "ja",
    openTnef: true,
  });
  return { dir, result };
}

describe("winmail.dat in a message", () => {
  test("the separation hands back the files inside it, each stored on its own", async () => {
    const { dir, result } = await separated(SAMPLE);
    assert.deepEqual(
      result.attachments.map((a) => [a.filename, a.contentType, a.size]),
      [
        ["見積書 2026年度.pdf", "application/pdf", 5007],
        ["memo.txt", "text/plain", FILES[1]!.data.length],
        ["empty.bin", "application/octet-stream", 0],
      ],
    );
    for (const [i, a] of result.attachments.entries()) {
      const stored = readFileSync(a.path);
      assert.ok(stored.equals(FILES[i]!.data), a.filename);
      assert.equal(a.sha256, sha(stored));
    }
    assert.ok(!readdirSync(dir).includes("0.bin"), "the winmail.dat itself is not kept");
  });

  test("an unreadable winmail.dat stays one attachment, as it came", async () => {
    const broken = SAMPLE.subarray(0, 200);
    const { result } = await separated(broken);
    assert.deepEqual(
      result.attachments.map((a) => a.filename),
      ["winmail.dat"],
    );
    assert.ok(readFileSync(result.attachments[0]!.path).equals(broken));
  });

  test("the analysis counts, names and reads the files inside it; an unreadable one is a gap", async () => {
    const facts = await analyzeMessage(Readable.from([await withWinmail(SAMPLE)]));
    assert.deepEqual(
      facts.attachments.map((a) => [a.filename, a.extension, a.size]),
      [
        ["見積書 2026年度.pdf", "pdf", 5007],
        ["memo.txt", "txt", FILES[1]!.data.length],
        ["empty.bin", "bin", 0],
      ],
    );
    assert.match(facts.attachments[1]!.text, /顧客リスト/);
    // cut inside the first file's title: no file of it is readable
    const broken = await analyzeMessage(Readable.from([await withWinmail(SAMPLE.subarray(0, 120))]));
    assert.deepEqual(
      broken.attachments.map((a) => a.filename),
      ["winmail.dat"],
    );
    assert.match(broken.attachments[0]!.problems.join("\n"), /^unreadable winmail\.dat: truncated/);
  });
});
