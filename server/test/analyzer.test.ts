// Analyzer (server/src/pipeline/analyzer.ts): the content analysis in worker threads gives the same
// facts as on the calling thread; a thread that throws, exits or hangs gives an incomplete result,
// not an error; the bound on bytes in flight makes analyses wait their turn instead of failing.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { pino } from "pino";
import { DEFAULT_ANALYZE_LIMITS, analyzeMessage, type MessageFacts } from "../src/pipeline/analyze.js";
import { Analyzer, WeightedSemaphore, type AnalyzerOptions } from "../src/pipeline/analyzer.js";
import {
  makeCfb,
  makeDocx,
  makeEncryptedOoxml,
  makeLegacyXls,
  makePdf,
  makePptx,
  makeXlsx,
  makeZip,
} from "./fixtures/documents.js";
import { encodeIso2022Jp, encodeShiftJis } from "./fixtures/japanese.js";
import { chunks, compose } from "./fixtures/mime.js";

const MiB = 1024 * 1024;
const FAILING_WORKER = new URL("./fixtures/failing-analysis-worker.ts", import.meta.url);
const silent = pino({ level: "silent" });

function analyzer(options: Partial<AnalyzerOptions> = {}): Analyzer {
  return new Analyzer({ maxBytesInFlight: 64 * MiB, threads: 2, log: silent, poolMinBytes: 0, ...options });
}

/** The messages of analyze.test.ts, one of each kind it looks into. */
async function fixtureMessages(): Promise<[string, Buffer][]> {
  const attach = async (filename: string, content: Buffer, text = "see attached") =>
    compose({ text, attachments: [{ filename, content }] });
  const csv = encodeShiftJis("氏名,電話番号\r\n山田太郎,090-1234-5678");
  const inner = await compose({
    subject: "転送",
    text: "転送元の本文 090-9999-8888",
    attachments: [{ filename: "内訳.csv", content: encodeShiftJis("品名,金額\r\nりんご,100") }],
  });
  return [
    [
      "ISO-2022-JP body, Shift_JIS CSV",
      await compose({
        text: {
          raw: `Content-Type: text/plain; charset=ISO-2022-JP\r\n\r\n${encodeIso2022Jp("山田様 03-1234-5678").toString("latin1")}`,
        },
        attachments: [{ filename: "顧客一覧.csv", content: csv, contentType: "text/csv" }],
      }),
    ],
    [
      "HTML body",
      await compose({ html: "<p>請求書&amp;見積</p><script>x()</script><div>090-1234-5678</div>" }),
    ],
    ["docx", await attach("契約書.docx", await makeDocx(["契約者 山田太郎"], "ヘッダー", "フッター"))],
    [
      "xlsx",
      await attach(
        "名簿.xlsx",
        await makeXlsx([
          [
            ["氏名", "電話"],
            ["山田", 9012345678],
          ],
        ]),
      ),
    ],
    ["pptx", await attach("資料.pptx", await makePptx([["表紙", "社外秘"]], ["メモ"]))],
    [
      "pdf",
      await attach("請求書.pdf", makePdf([{ latin: "Invoice 090-1234-5678", japanese: "山田太郎様" }])),
    ],
    ["encrypted pdf", await attach("locked.pdf", makePdf([{ latin: "secret" }], "pw"))],
    ["encrypted OOXML", await attach("locked.xlsx", makeEncryptedOoxml())],
    ["legacy xls with a password", await attach("locked.xls", makeLegacyXls(true))],
    ["other OLE file", await attach("x.ole", makeCfb([{ name: "Contents", data: Buffer.from("x") }]))],
    [
      "nested zip with a zip-slip entry",
      await attach(
        "まとめ.zip",
        await makeZip([
          { name: "資料/顧客一覧.csv", data: csv },
          { name: "inner.zip", data: await makeZip([{ name: "内側.txt", data: "内側の本文" }]) },
          { name: "../../evil.txt", data: "root:x:0:0" },
        ]),
      ),
    ],
    [
      "AES zip",
      await attach("secret.zip", await makeZip([{ name: "顧客.csv", data: "山田" }], { password: "p@ss" })),
    ],
    [
      "corrupt zip",
      await attach("broken.zip", Buffer.concat([Buffer.from("PK\x03\x04"), Buffer.alloc(200, 65)])),
    ],
    ["attached message", await attach("fwd.eml", inner)],
  ];
}

describe("Analyzer", () => {
  const dir = mkdtempSync(join(tmpdir(), "sendguard-analyzer-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("in a thread, from memory and from a spool file: the same facts as on this thread", async () => {
    const pool = analyzer();
    try {
      for (const [name, message] of await fixtureMessages()) {
        const expected = await analyzeMessage(chunks(message));
        assert.deepEqual(
          expected.problems.filter((p) => p === "timeout"),
          [],
          name,
        );
        const file = join(dir, "message.eml");
        writeFileSync(file, message);
        assert.deepEqual(
          await pool.analyze("m", { bytes: message }, message.length),
          expected,
          `${name}: bytes`,
        );
        assert.deepEqual(await pool.analyze("m", { file }, message.length), expected, `${name}: file`);
      }
    } finally {
      await pool.close();
    }
  });

  test("the analysis limits apply in the thread as on this thread", async () => {
    const limits = { ...DEFAULT_ANALYZE_LIMITS, maxTextChars: 50, maxArchiveEntries: 3 };
    const zip = await makeZip(
      Array.from({ length: 6 }, (_, i) => ({ name: `f${i}.txt`, data: "x".repeat(30) })),
    );
    const message = await compose({ text: "本文", attachments: [{ filename: "many.zip", content: zip }] });
    const pool = analyzer({ limits });
    try {
      const facts = await pool.analyze("m", { bytes: message }, message.length);
      assert.deepEqual(facts, await analyzeMessage(chunks(message), limits));
      assert.equal(facts.attachments[0]?.children.length, 3);
    } finally {
      await pool.close();
    }
  });

  test("small messages are analysed on this thread: a broken pool does not matter to them", async () => {
    const message = await compose({ text: "山田太郎 090-1234-5678" });
    const pool = analyzer({ workerFile: FAILING_WORKER, poolMinBytes: message.length });
    try {
      const facts = await pool.analyze("m", { bytes: message }, message.length);
      assert.deepEqual(facts, await analyzeMessage(chunks(message)));
    } finally {
      await pool.close();
    }
  });

  describe("a thread that fails gives an incomplete result, and the next analysis a new thread", () => {
    const incomplete = (facts: MessageFacts) => [facts.bodyText, facts.attachments.length];
    for (const [how, problems] of [
      ["throw", [/^analysis failed: task failed on purpose \(throw\)$/]],
      ["exit", [/^analysis failed: .*exit/i]],
      ["hang", [/^timeout$/, /^analysis thread stopped after 1100 ms without an answer$/]],
    ] as const) {
      test(how, async () => {
        const pool = analyzer({
          workerFile: FAILING_WORKER,
          threads: 1,
          limits: { ...DEFAULT_ANALYZE_LIMITS, timeoutMs: 100 },
        });
        try {
          const facts = await pool.analyze("m", { bytes: Buffer.from(how) }, 10);
          assert.deepEqual(incomplete(facts), ["", 0]);
          assert.equal(facts.problems.length, problems.length, facts.problems.join(" | "));
          problems.forEach((p, i) => assert.match(facts.problems[i] ?? "", p));
          const next = await pool.analyze("m", { bytes: Buffer.from("throw") }, 10);
          assert.match(
            next.problems[0] ?? "",
            /task failed on purpose \(throw\)/,
            "a working thread answered",
          );
        } finally {
          await pool.close();
        }
      });
    }
  });

  test("beyond maxBytesInFlight analyses wait their turn, in order, and all complete", async () => {
    const message = await compose({ text: "山田太郎 090-1234-5678" });
    const expected = await analyzeMessage(chunks(message));
    const pool = analyzer({ maxBytesInFlight: MiB, threads: 4 });
    try {
      const finished: number[] = [];
      // sizes as the caller states them: 600 KiB each, so only one fits at a time
      const all = [0, 1, 2].map((i) =>
        pool.analyze(`m${i}`, { bytes: message }, 600 * 1024).then((facts) => {
          finished.push(i);
          return facts;
        }),
      );
      assert.equal(pool.bytes.queued, 2, "two wait while the first runs");
      // larger than the whole budget: runs once it has the budget to itself
      const huge = pool.analyze("huge", { bytes: message }, 10 * MiB);
      assert.equal(pool.bytes.queued, 3);
      for (const facts of [...(await Promise.all(all)), await huge]) assert.deepEqual(facts, expected);
      assert.deepEqual(finished, [0, 1, 2]);
      assert.equal(pool.bytes.queued, 0);
    } finally {
      await pool.close();
    }
  });
});

describe("WeightedSemaphore", () => {
  test("grants while units last, then in order of asking as units come back", async () => {
    const s = new WeightedSemaphore(10);
    const granted: string[] = [];
    const take = (name: string, units: number) =>
      s.acquire(units).then((n) => {
        granted.push(name);
        return n;
      });
    const a = await take("a", 6);
    const b = take("b", 6);
    const c = take("c", 1); // fits, but waits behind b: no overtaking, so b cannot starve
    await Promise.resolve();
    assert.deepEqual(granted, ["a"]);
    assert.equal(s.queued, 2);
    s.release(a);
    assert.deepEqual([await b, await c], [6, 1]);
    assert.deepEqual(granted, ["a", "b", "c"]);
  });

  test("a request larger than the capacity takes all of it, once all is free", async () => {
    const s = new WeightedSemaphore(10);
    const first = await s.acquire(3);
    const big = s.acquire(50);
    assert.equal(s.queued, 1);
    s.release(first);
    assert.equal(await big, 10);
    const after = s.acquire(1);
    assert.equal(s.queued, 1);
    s.release(10);
    assert.equal(await after, 1);
  });
});
