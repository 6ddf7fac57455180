// AES-256 ZIP of one 50 MB already-compressed (random) file, stored: Sendguard's writer on its worker
// pool and on this thread, against 7-Zip (`7z a -tzip -mem=AES256 -mx0`) and zip.js with its own
// AES (the library in node_modules), from the same file in the page cache to a new file in the
// same directory. The runs take turns, so load from other processes falls on every row alike.
// Each archive made is checked with `7z t` once, so no row is fast by being wrong.
import { ZipWriter } from "@zip.js/zip.js";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  createReadStream,
  createWriteStream,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Readable, Writable } from "node:stream";
import { Separator } from "../server/src/pipeline/transform/separate/separator.js";
import { writeEncryptedZip } from "../server/src/pipeline/transform/zip/index.js";
import { printTable } from "./lib/table.js";
import { MB, cpuSeconds, fmt, onExit, percentile } from "./lib/util.js";

const FILE_BYTES = 50 * MB;
const RUNS = 5;
const PASSWORD = "bench-Pass-2026";
const SEVEN_ZIP = ["a", "-tzip", "-mem=AES256", "-mx0", `-p${PASSWORD}`];

interface Contender {
  what: string;
  write(input: string, output: string): Promise<void>;
}

function sevenZip(args: string[]): string {
  const r = spawnSync("7z", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`7z ${args.join(" ")} failed: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

async function zipJs(input: string, output: string): Promise<void> {
  const writer = new ZipWriter(Writable.toWeb(createWriteStream(output)), {
    password: PASSWORD,
    encryptionStrength: 3,
    level: 0,
    useWebWorkers: false,
  });
  await writer.add("photos.zip", Readable.toWeb(createReadStream(input)) as ReadableStream<Uint8Array>);
  await writer.close();
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "sendguard-bench-zip-"));
  const release = onExit(() => rmSync(dir, { recursive: true, force: true }));
  const workers = new Separator();
  try {
    const input = join(dir, "photos.zip");
    writeFileSync(input, randomBytes(FILE_BYTES));
    readFileSync(input); // in the page cache for every row alike
    const request = (outputPath: string) => ({
      files: [{ path: input, name: "photos.zip" }],
      password: PASSWORD,
      outputPath,
    });
    const contenders: Contender[] = [
      {
        what: "Sendguard Separator.zip (the gateway's transform thread)",
        write: async (_, output) => void (await workers.zip(request(output))),
      },
      {
        what: "Sendguard writeEncryptedZip (this thread)",
        write: async (_, output) => void (await writeEncryptedZip(request(output))),
      },
      {
        what: `7-Zip: 7z ${SEVEN_ZIP.join(" ").replace(PASSWORD, "PASS")}`,
        write: async (i, o) => void sevenZip([...SEVEN_ZIP, o, i]),
      },
      { what: "zip.js 2.x AES-256, level 0, no web workers", write: zipJs },
    ];
    const seconds = contenders.map(() => [] as number[]);
    const cpu = contenders.map(() => [] as number[]);
    const cpuNow = () => cpuSeconds(process.pid, true) ?? Number.NaN;
    const sizes = contenders.map(() => 0);
    for (let r = 0; r < RUNS + 1; r++) {
      for (const [i, c] of contenders.entries()) {
        const output = join(dir, `out-${i}.zip`);
        rmSync(output, { force: true });
        const started = performance.now();
        const cpuBefore = cpuNow();
        await c.write(input, output);
        const took = (performance.now() - started) / 1000;
        const cpuTook = cpuNow() - cpuBefore;
        if (r === 0) {
          // The first round warms up (JIT, thread start, 7z's binary) and checks each archive.
          sevenZip(["t", `-p${PASSWORD}`, output]);
          sizes[i] = statSync(output).size;
        } else {
          seconds[i]!.push(took);
          cpu[i]!.push(cpuTook);
        }
        rmSync(output, { force: true });
      }
    }
    const rate = (s: number) => FILE_BYTES / MB / s;
    const sevenMedian = rate(percentile(seconds[2]!, 50));
    printTable(
      `AES-256 ZIP of a ${FILE_BYTES / MB} MB already-compressed file, stored — target: Sendguard ≥ 7-Zip`,
      [
        { title: "writer", align: "left" },
        { title: "median MB/s", align: "right" },
        { title: "best MB/s", align: "right" },
        { title: "worst MB/s", align: "right" },
        { title: "vs 7-Zip", align: "right" },
        { title: "CPU ms", align: "right" },
        { title: "archive bytes", align: "right" },
      ],
      contenders.map((c, i) => {
        const median = rate(percentile(seconds[i]!, 50));
        return [
          c.what,
          fmt(median, 0),
          fmt(rate(Math.min(...seconds[i]!)), 0),
          fmt(rate(Math.max(...seconds[i]!)), 0),
          `${fmt(median / sevenMedian, 2)}×`,
          fmt(percentile(cpu[i]!, 50) * 1000, 0),
          sizes[i]!,
        ];
      }),
      [
        `${RUNS} timed runs per row after one warm-up round, rows taking turns; MB = 2^20 bytes of input per second.`,
        "Each row reads the same file (in the page cache) and writes a new archive beside it; 7-Zip's time includes its process start.",
        "CPU ms = median user + system time of this process's threads and of the waited-for 7z (/proc, 10 ms ticks):",
        "  on a busy machine wall-clock rates fall for every row, CPU time much less.",
        "Every archive made in the warm-up round passed `7z t` with the password.",
      ],
    );
  } finally {
    await workers.close();
    rmSync(dir, { recursive: true, force: true });
    release();
  }
}
