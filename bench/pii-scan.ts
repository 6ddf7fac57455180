// What it costs to look inside a message for the policy rules: a 10 MB .xlsx customer list
// (shared strings with Japanese names and addresses, numeric cells with phone and card numbers)
// in a MIME message, through analyzeMessage (server/src/pipeline/analyze.ts), then countPii over
// the text it kept. Baselines in the same run, on the same bytes: reading the message file,
// splitting the MIME and decoding base64 (mailsplit), inflating every entry of the .xlsx to nowhere
// (zip.js, the library the analyser uses, and Info-ZIP's `unzip -p > /dev/null`). The difference
// between "inflate" and "analyzeMessage" is the cost of extraction itself. (The analyser takes the
// central directory from zip.js and inflates with node:zlib: the zip.js getData row shows why.)
//
// Each row runs in a fresh child process (this same file, forked with --pii-scan-child) so its peak
// RSS (VmHWM) is its own; "growth" is the peak less the RSS just before the measured work began.
import { Splitter } from "@zone-eu/mailsplit";
import { Uint8ArrayReader, Uint8ArrayWriter, ZipReader, ZipWriter } from "@zip.js/zip.js";
import { fork, spawnSync } from "node:child_process";
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInflateRaw } from "node:zlib";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { analyzeMessage, type AnalyzeLimits, type MessageFacts } from "../server/src/pipeline/analyze.js";
import { printTable } from "./lib/table.js";
import { MB, fmt, memoryStatus } from "./lib/util.js";

const XLSX_TARGET_BYTES = 10 * MB;
const CHILD_FLAG = "--pii-scan-child";

// ---- the workbook ---------------------------------------------------------------------------------

const SURNAMES =
  "佐藤 鈴木 高橋 田中 伊藤 渡辺 山本 中村 小林 加藤 吉田 山田 佐々木 山口 松本 井上 木村 林 斎藤 清水 山崎 森 池田 橋本 阿部 石川 山下 中島 石井 小川 前田 岡田 長谷川 藤田 後藤 近藤 村上 遠藤 青木 坂本".split(
    " ",
  );
const GIVEN =
  "太郎 花子 一郎 美咲 健太 陽子 翔太 さくら 大輔 由美 拓也 愛 直樹 恵子 誠 真由美 亮 明美 学 裕子 蓮 結衣 悠斗 葵 湊 陽菜 大和 凛 樹 芽依".split(
    " ",
  );
const PLACES: [string, string[]][] = [
  ["東京都", ["千代田区", "中央区", "港区", "新宿区", "渋谷区", "世田谷区", "八王子市", "町田市"]],
  ["大阪府", ["大阪市北区", "大阪市中央区", "堺市堺区", "豊中市", "吹田市"]],
  ["神奈川県", ["横浜市西区", "川崎市中原区", "相模原市中央区", "藤沢市"]],
  ["愛知県", ["名古屋市中区", "豊田市", "岡崎市"]],
  ["福岡県", ["福岡市博多区", "北九州市小倉北区", "久留米市"]],
  ["北海道", ["札幌市中央区", "旭川市", "函館市"]],
];
const TOWNS = "本町 栄町 緑町 旭町 幸町 末広町 昭和町 新町 元町 中央 桜台 若葉 青葉台 泉 東 西 南 北".split(
  " ",
);

/** A deterministic pseudo-random generator, so every run builds the same workbook. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function luhnComplete(prefix: string): string {
  let sum = 0;
  for (let i = 0; i < prefix.length; i++) {
    let d = Number(prefix[prefix.length - 1 - i]);
    if (i % 2 === 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return prefix + ((10 - (sum % 10)) % 10);
}

const XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
const SML = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships";

const COLUMNS = [
  "顧客ID",
  "氏名",
  "郵便番号",
  "住所",
  "電話番号",
  "携帯電話",
  "メール",
  "カード番号",
  "生年月日",
  "備考",
];

interface Workbook {
  xlsx: Buffer;
  rows: number;
  xmlBytes: number;
}

/**
 * Builds the .xlsx: one sheet, `rows` customers. Strings go to sharedStrings.xml (names repeat,
 * addresses and mobile numbers are unique); customer ID, landline (leading 0 dropped, as Excel
 * stores a typed-in number), card number and birth date (a date serial) are numeric cells.
 */
async function buildWorkbook(rows: number): Promise<Workbook> {
  const rnd = random(20260101);
  const pick = <T>(list: T[]): T => list[Math.floor(rnd() * list.length)] as T;
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 10)).join("");
  const shared: string[] = [];
  const index = new Map<string, number>();
  const s = (text: string) => {
    let i = index.get(text);
    if (i === undefined) {
      i = shared.length;
      shared.push(text);
      index.set(text, i);
    }
    return `<c t="s"><v>${i}</v></c>`;
  };
  const n = (value: string | number) => `<c><v>${value}</v></c>`;
  const sheet: string[] = [`${XML_HEAD}<worksheet xmlns="${SML}"><sheetData>`];
  sheet.push(`<row r="1">${COLUMNS.map(s).join("")}</row>`);
  for (let r = 0; r < rows; r++) {
    const [pref, cities] = pick(PLACES);
    const address = `${pref}${pick(cities)}${pick(TOWNS)}${1 + Math.floor(rnd() * 9)}-${1 + Math.floor(rnd() * 30)}-${1 + Math.floor(rnd() * 20)}`;
    const mobile = `0${pick(["70", "80", "90"])}-${digits(4)}-${digits(4)}`;
    const cells = [
      n(100000 + r),
      s(`${pick(SURNAMES)} ${pick(GIVEN)}`),
      s(`${digits(3)}-${digits(4)}`),
      s(address),
      n(`${pick(["3", "6", "45", "52", "92", "11"])}${digits(7)}`.slice(0, 9)),
      s(mobile),
      s(`user${r}@example.jp`),
      n(luhnComplete(`4${digits(14)}`)),
      n(20000 + Math.floor(rnd() * 15000)),
      r % 10 === 0 ? s(`要連絡 ${mobile}`) : "",
    ];
    sheet.push(`<row r="${r + 2}">${cells.join("")}</row>`);
  }
  sheet.push("</sheetData></worksheet>");
  const esc = (t: string) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const sst = `${XML_HEAD}<sst xmlns="${SML}" count="${shared.length}" uniqueCount="${shared.length}">${shared.map((t) => `<si><t>${esc(t)}</t></si>`).join("")}</sst>`;
  const sheetXml = sheet.join("");
  const files: [string, string][] = [
    [
      "[Content_Types].xml",
      `${XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`,
    ],
    [
      "_rels/.rels",
      `${XML_HEAD}<Relationships xmlns="${PKG_REL}"><Relationship Id="rId1" Type="${REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
    ],
    [
      "xl/workbook.xml",
      `${XML_HEAD}<workbook xmlns="${SML}" xmlns:r="${REL}"><sheets><sheet name="顧客" sheetId="1" r:id="rId1"/></sheets></workbook>`,
    ],
    [
      "xl/_rels/workbook.xml.rels",
      `${XML_HEAD}<Relationships xmlns="${PKG_REL}"><Relationship Id="rId1" Type="${REL}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="${REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>`,
    ],
    ["xl/sharedStrings.xml", sst],
    ["xl/worksheets/sheet1.xml", sheetXml],
  ];
  const writer = new ZipWriter(new Uint8ArrayWriter(), { useWebWorkers: false, level: 6 });
  let xmlBytes = 0;
  for (const [name, text] of files) {
    const data = new TextEncoder().encode(text);
    xmlBytes += data.length;
    await writer.add(name, new Uint8ArrayReader(data));
  }
  return { xlsx: Buffer.from(await writer.close()), rows, xmlBytes };
}

/** Rows needed for a workbook of about XLSX_TARGET_BYTES, from a small sample's size per row. */
async function workbookOfTargetSize(): Promise<Workbook> {
  const sample = await buildWorkbook(5000);
  const rows = Math.round((XLSX_TARGET_BYTES / sample.xlsx.length) * 5000);
  return buildWorkbook(rows);
}

/** Writes the .xlsx and a MIME message carrying it (base64, 76-character lines) into `dir`. */
function writeMessage(dir: string, xlsx: Buffer): Promise<void> {
  const boundary = "pii-scan-bench-boundary";
  const name = "顧客リスト.xlsx";
  const head = [
    "From: <sales@corp.example>",
    "To: <partner@example.com>",
    "Subject: =?UTF-8?B?" + Buffer.from("顧客リスト送付").toString("base64") + "?=",
    "MIME-Version: 1.0",
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    "",
    `--${boundary}`,
    "Content-Type: text/plain; charset=UTF-8",
    "Content-Transfer-Encoding: 8bit",
    "",
    "お世話になっております。顧客リストを送付いたします。担当 山田 03-1234-5678",
    "",
    `--${boundary}`,
    `Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet; name="=?UTF-8?B?${Buffer.from(name).toString("base64")}?="`,
    "Content-Transfer-Encoding: base64",
    `Content-Disposition: attachment; filename*=UTF-8''${encodeURIComponent(name)}`,
    "",
    "",
  ].join("\r\n");
  const out = createWriteStream(join(dir, "message.eml"));
  out.write(head);
  const b64 = xlsx.toString("base64");
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  out.write(lines.join("\r\n"));
  out.write(`\r\n--${boundary}--\r\n`);
  return new Promise((resolve, reject) => {
    out.on("error", reject);
    out.end(resolve);
  });
}

// ---- the measured steps (in the child) ----------------------------------------------------------

interface ChildResult {
  seconds: number;
  /** VmHWM at the end, bytes. */
  peak: number;
  /** RSS just before the measured work, bytes. */
  before: number;
  note: string;
  /** Extra rows measured in the same child (countPii over the text just extracted). */
  extra?: { step: string; seconds: number; note: string }[];
}

type Step = "read" | "mime" | "inflate-zlib" | "inflate-zipjs" | "analyze" | "analyze-all";

const UNLIMITED_TEXT: Partial<AnalyzeLimits> = {
  maxTextChars: 1e9,
  maxExpandedBytes: 4 * 1024 * MB,
  timeoutMs: 600_000,
};

function allText(facts: MessageFacts): string {
  const parts = [facts.bodyText];
  const walk = (list: MessageFacts["attachments"]) => {
    for (const a of list) {
      parts.push(a.text);
      walk(a.children);
    }
  };
  walk(facts.attachments);
  return parts.join("\n");
}

type CountPii = (text: string) => Record<string, number>;

/** countPii from @sendguard/shared (shared/src/rules/pii.ts) when it is there. */
async function loadCountPii(): Promise<CountPii | null> {
  try {
    const shared = (await import("../shared/src/index.js")) as { countPii?: CountPii };
    return typeof shared.countPii === "function" ? shared.countPii : null;
  } catch {
    return null;
  }
}

async function measure(step: Step, dir: string): Promise<ChildResult> {
  const message = join(dir, "message.eml");
  const countPii = step.startsWith("analyze") ? await loadCountPii() : null;
  const before = process.memoryUsage.rss();
  const started = performance.now();
  let note: string;
  let extra: ChildResult["extra"];
  if (step === "read") {
    let bytes = 0;
    for await (const chunk of createReadStream(message)) bytes += (chunk as Buffer).length;
    note = `${fmt(bytes / MB)} MB read`;
  } else if (step === "mime") {
    let decoded = 0;
    const splitter = new Splitter();
    createReadStream(message).pipe(splitter);
    let decoder: NodeJS.ReadWriteStream | null = null;
    const ends: Promise<void>[] = [];
    for await (const chunk of splitter as AsyncIterable<{
      type: string;
      multipart?: string | false;
      value?: Buffer;
      getDecoder?: () => NodeJS.ReadWriteStream;
    }>) {
      if (chunk.type === "node") {
        decoder?.end();
        decoder = chunk.multipart ? null : (chunk.getDecoder?.() ?? null);
        if (decoder) {
          const d = decoder;
          d.on("data", (b: Buffer) => (decoded += b.length));
          ends.push(new Promise((resolve) => d.on("end", () => resolve())));
        }
      } else if (chunk.type === "body" && decoder && chunk.value) decoder.write(chunk.value);
    }
    decoder?.end();
    await Promise.all(ends);
    note = `${fmt(decoded / MB)} MB decoded`;
  } else if (step === "inflate-zlib" || step === "inflate-zipjs") {
    const xlsx = readFileSync(join(dir, "book.xlsx"));
    const reader = new ZipReader(new Uint8ArrayReader(xlsx), { useWebWorkers: false });
    let inflated = 0;
    for (const entry of await reader.getEntries()) {
      if (entry.directory) continue;
      if (step === "inflate-zipjs") {
        await entry.getData(new WritableStream({ write: (c: Uint8Array) => void (inflated += c.length) }));
        continue;
      }
      // what the analyser does: the central directory from zip.js, the data through node:zlib
      const start =
        entry.offset + 30 + xlsx.readUInt16LE(entry.offset + 26) + xlsx.readUInt16LE(entry.offset + 28);
      const raw = xlsx.subarray(start, start + entry.compressedSize);
      if (entry.compressionMethod === 0) inflated += raw.length;
      else {
        await new Promise<void>((resolve, reject) => {
          const inflater = createInflateRaw({ chunkSize: 256 * 1024 });
          inflater.on("data", (c: Buffer) => (inflated += c.length));
          inflater.on("end", resolve);
          inflater.on("error", reject);
          inflater.end(raw);
        });
      }
    }
    await reader.close();
    note = `${fmt(inflated / MB)} MB inflated`;
  } else {
    const facts = await analyzeMessage(createReadStream(message), step === "analyze" ? {} : UNLIMITED_TEXT);
    const text = allText(facts);
    const a = facts.attachments[0];
    note = `${fmt(text.length / 1e6, 2)} M chars kept${a?.truncated ? ", truncated" : ""}${facts.problems.length ? `; ${facts.problems.join("; ")}` : ""}`;
    const seconds = (performance.now() - started) / 1000;
    if (countPii) {
      const t0 = performance.now();
      const counts = countPii(text);
      extra = [
        {
          step: `countPii over that text`,
          seconds: (performance.now() - t0) / 1000,
          note: Object.entries(counts)
            .map(([k, v]) => `${k} ${v}`)
            .join(", "),
        },
      ];
    } else {
      extra = [
        { step: "countPii", seconds: Number.NaN, note: "TODO: countPii not found in @sendguard/shared" },
      ];
    }
    return { seconds, peak: memoryStatus(process.pid)?.hwm ?? 0, before, note, extra };
  }
  const seconds = (performance.now() - started) / 1000;
  return { seconds, peak: memoryStatus(process.pid)?.hwm ?? 0, before, note, extra };
}

const RUNS = 3;

/** The step RUNS times, each in a fresh process: the run with the median time (its peak RSS, its extras). */
async function runMedian(step: Step, dir: string): Promise<ChildResult> {
  const runs: ChildResult[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await runChild(step, dir));
  runs.sort((a, b) => a.seconds - b.seconds);
  const median = runs[Math.floor(runs.length / 2)] as ChildResult;
  const extraSeconds = (i: number) =>
    runs.map((r) => r.extra?.[i]?.seconds ?? Number.NaN).sort((a, b) => a - b)[Math.floor(runs.length / 2)];
  return {
    ...median,
    peak: Math.max(...runs.map((r) => r.peak)),
    extra: median.extra?.map((e, i) => ({ ...e, seconds: extraSeconds(i) ?? e.seconds })),
  };
}

function runChild(step: Step, dir: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [CHILD_FLAG, step, dir], {
      execArgv: process.execArgv,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    let result: ChildResult | null = null;
    child.on("message", (m) => (result = m as ChildResult));
    child.on("error", reject);
    child.on("exit", (code) =>
      result ? resolve(result) : reject(new Error(`${step} child exited with ${code} and no result`)),
    );
  });
}

/** `unzip -p` of the same .xlsx to /dev/null (median of RUNS), with its max RSS from /usr/bin/time. */
function unzipBaseline(xlsx: string): { seconds: number; peak: number } | null {
  const runs: { seconds: number; peak: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const r = spawnSync("/usr/bin/time", ["-f", "%M", "sh", "-c", `unzip -p '${xlsx}' > /dev/null`], {
      encoding: "utf8",
    });
    if (r.error || r.status !== 0) return null;
    const kb = Number(/(\d+)\s*$/.exec(r.stderr.trim())?.[1] ?? Number.NaN);
    runs.push({ seconds: (performance.now() - started) / 1000, peak: kb * 1024 });
  }
  runs.sort((a, b) => a.seconds - b.seconds);
  return runs[Math.floor(runs.length / 2)] ?? null;
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "sendguard-pii-scan-"));
  try {
    const t0 = performance.now();
    const book = await workbookOfTargetSize();
    const xlsxPath = join(dir, "book.xlsx");
    await new Promise<void>((resolve, reject) => {
      const out = createWriteStream(xlsxPath);
      out.on("error", reject);
      out.end(book.xlsx, resolve);
    });
    await writeMessage(dir, book.xlsx);
    const messageBytes = statSync(join(dir, "message.eml")).size;
    console.log(
      `workbook: ${book.rows.toLocaleString("en")} rows, ${fmt(book.xlsx.length / MB)} MB .xlsx (${fmt(book.xmlBytes / MB)} MB of XML), ` +
        `message ${fmt(messageBytes / MB)} MB; built in ${fmt((performance.now() - t0) / 1000)} s`,
    );
    const rows: (string | number)[][] = [];
    const row = (step: string, seconds: number, inputBytes: number, r: ChildResult | null, note: string) =>
      rows.push([
        step,
        fmt(seconds, 2),
        Number.isFinite(seconds) && inputBytes ? fmt(inputBytes / MB / seconds) : "-",
        r ? fmt(r.peak / MB, 0) : "-",
        r ? fmt((r.peak - r.before) / MB, 0) : "-",
        note,
      ]);
    const steps: [Step, string, number][] = [
      ["read", "read message file (baseline)", messageBytes],
      ["mime", "MIME split + base64 decode (mailsplit, baseline)", messageBytes],
      ["inflate-zlib", "inflate all .xlsx entries (node:zlib as the analyser, baseline)", book.xmlBytes],
      ["inflate-zipjs", "inflate all .xlsx entries (zip.js getData, baseline)", book.xmlBytes],
    ];
    for (const [step, label, bytes] of steps) {
      const r = await runMedian(step, dir);
      row(label, r.seconds, bytes, r, r.note);
    }
    const unzip = unzipBaseline(xlsxPath);
    if (unzip) {
      rows.push([
        "unzip -p book.xlsx > /dev/null (Info-ZIP, baseline)",
        fmt(unzip.seconds, 2),
        fmt(book.xmlBytes / MB / unzip.seconds),
        fmt(unzip.peak / MB, 0),
        "-",
        "separate process",
      ]);
    }
    for (const [step, label] of [
      ["analyze", "analyzeMessage, default limits"],
      ["analyze-all", "analyzeMessage, text/expansion limits raised"],
    ] as const) {
      const r = await runMedian(step, dir);
      row(label, r.seconds, messageBytes, r, r.note);
      for (const e of r.extra ?? []) rows.push([`  ${e.step}`, fmt(e.seconds, 2), "-", "-", "-", e.note]);
    }
    printTable(
      "Looking inside a 10 MB .xlsx in a message: analyzeMessage vs reading/inflating the same bytes",
      [
        "step",
        { title: "time (s)", align: "right" },
        { title: "MB/s", align: "right" },
        { title: "peak RSS (MB)", align: "right" },
        { title: "growth (MB)", align: "right" },
        "result",
      ],
      rows,
      [
        "MB/s: of the message for read/MIME/analyze, of the inflated XML for the inflate baselines.",
        `Each row: the median time of ${RUNS} runs, each in a fresh process (node + tsx); peak RSS: the highest of them;`,
        "growth = peak RSS less the RSS just before the step.",
        "Default limits keep 2,000,000 characters of text: extraction stops there, so that row is the gateway's cost.",
        "countPii runs in the analyze process, over the text that row kept (body + attachments).",
      ],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === CHILD_FLAG) {
  const [step, dir] = process.argv.slice(3) as [Step, string];
  measure(step, dir).then(
    (r) => process.send?.(r, () => process.exit(0)),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
