// Web-download separation of a message with a 100 MB attachment (server/src/pipeline/transform/
// separate) through its worker thread, side by side with copying the same file: fs.copyFile (the
// kernel's copy) and a stream pipe (what any streaming rewrite costs at least). Each row runs in a
// fresh process (node + tsx), so its peak RSS (VmHWM) is its own; the row "on this thread" shows
// what the hand-off to a worker adds.
import { fork } from "node:child_process";
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { copyFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { separationNotice } from "../server/src/pipeline/transform/separate/notice.js";
import { separateFile } from "../server/src/pipeline/transform/separate/separate-worker.js";
import { Separator } from "../server/src/pipeline/transform/separate/separator.js";
import { bigMessage } from "./lib/big-message.js";
import { printTable } from "./lib/table.js";
import { MB, fmt, memoryStatus } from "./lib/util.js";

const CHILD_FLAG = "--separate-child";
const MESSAGE_BYTES = 100 * MB;
const RUNS = 3;
const STEPS = ["copyFile", "pipe", "separate-worker", "separate-thread"] as const;
type Step = (typeof STEPS)[number];

const LABELS: Record<Step, string> = {
  copyFile: "fs.copyFile (baseline)",
  pipe: "stream pipe read → write (baseline)",
  "separate-worker": "separation in a worker thread (Separator)",
  "separate-thread": "separation on this thread (rewriteAttachments)",
};

interface ChildResult {
  seconds: number;
  peak: number;
  /** How late the event loop of the process's main thread ran, ms: 99th percentile and worst. */
  loopP99Ms: number;
  loopMaxMs: number;
  /** Decoded bytes of the attachment written, for the separation rows. */
  attachmentBytes?: number;
}

const notice = separationNotice({
  language: "ja",
  url: "https://gw.example.com/d/0123456789abcdef0123456789abcdef",
  recipient: "partner@example.net",
  files: [{ name: "big.bin", size: 75 * MB }],
  expiresAt: new Date(),
  timeZone: "Asia/Tokyo",
});

async function step(step: Step, dir: string, run: number): Promise<ChildResult> {
  const input = join(dir, "message.eml");
  const output = join(dir, `out-${step}-${run}.eml`);
  const attachmentsDir = join(dir, `files-${step}-${run}`);
  mkdirSync(attachmentsDir);
  const task = { inputPath: input, outputPath: output, attachmentsDir, notice, language: "ja" as const };
  // a gateway keeps its pool: the thread is started (and its modules loaded) before the clock runs
  const separator = step === "separate-worker" ? await warmSeparator(dir) : null;
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const started = performance.now();
  let attachmentBytes: number | undefined;
  if (step === "copyFile") await copyFile(input, output);
  else if (step === "pipe")
    await pipeline(createReadStream(input, { highWaterMark: 64 * 1024 }), createWriteStream(output));
  else if (step === "separate-thread") attachmentBytes = (await separateFile(task)).attachments[0]?.size;
  else if (separator) attachmentBytes = (await separator.separateFile(task)).attachments[0]?.size;
  const seconds = (performance.now() - started) / 1000;
  loop.disable();
  await separator?.close();
  rmSync(output, { force: true });
  rmSync(attachmentsDir, { recursive: true, force: true });
  return {
    seconds,
    peak: memoryStatus(process.pid)?.hwm ?? Number.NaN,
    loopP99Ms: loop.percentile(99) / 1e6,
    loopMaxMs: loop.max / 1e6,
    attachmentBytes,
  };
}

async function warmSeparator(dir: string): Promise<Separator> {
  const separator = new Separator({ threads: 1 });
  const inputPath = join(dir, "warm.eml");
  await pipeline([Buffer.from("Subject: warm-up\r\n\r\nx\r\n")], createWriteStream(inputPath));
  const outputPath = join(dir, `warm-${process.pid}.eml`);
  await separator.separateFile({ inputPath, outputPath, attachmentsDir: dir, notice, language: "ja" });
  rmSync(outputPath);
  return separator;
}

function runChild(s: Step, dir: string, run: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [CHILD_FLAG, s, dir, String(run)], {
      execArgv: process.execArgv,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    let result: ChildResult | null = null;
    child.on("message", (m) => (result = m as ChildResult));
    child.on("error", reject);
    child.on("exit", (code) =>
      result ? resolve(result) : reject(new Error(`${s} child exited with ${code}`)),
    );
  });
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "sendguard-bench-separate-"));
  try {
    const message = bigMessage(MESSAGE_BYTES, "sender@corp.example", "partner@example.net");
    await pipeline(message.chunks(), createWriteStream(join(dir, "message.eml")));
    const rows: (string | number)[][] = [];
    let copySeconds = Number.NaN;
    for (const s of STEPS) {
      const runs: ChildResult[] = [];
      for (let i = 0; i < RUNS; i++) runs.push(await runChild(s, dir, i));
      runs.sort((a, b) => a.seconds - b.seconds);
      const median = runs[Math.floor(RUNS / 2)] as ChildResult;
      if (s === "copyFile") copySeconds = median.seconds;
      rows.push([
        LABELS[s],
        fmt(median.seconds, 2),
        fmt(message.size / MB / median.seconds, 0),
        fmt(median.seconds / copySeconds, 1),
        fmt(Math.max(...runs.map((r) => r.peak)) / MB, 0),
        `${fmt(median.loopP99Ms, 0)} / ${fmt(median.loopMaxMs, 0)}`,
        median.attachmentBytes === undefined ? "-" : fmt(median.attachmentBytes / MB, 1),
      ]);
    }
    printTable(
      `Separation of one ${fmt(message.size / MB, 0)} MB message (one base64 attachment) vs copying the file`,
      ["what", "seconds", "MB/s", "× copyFile", "peak RSS MB", "loop late p99 / max ms", "attachment MB"],
      rows,
      [
        `Median of ${RUNS} runs, each in a fresh process (node + tsx); peak RSS: the highest VmHWM of them (target < 200 MB).`,
        "Loop late: how late the main thread's event loop ran (monitorEventLoopDelay, 10 ms resolution) in the median run;",
        "  on a shared machine the OS's scheduling shows in it too (compare with the baselines' rows).",
        "The worker row starts its thread with a tiny message first (a gateway keeps its pool); its time is the 100 MB task alone.",
        "Separation: split, base64-decode, SHA-256 and write the attachment file, write the rewritten message (notice + placeholder).",
      ],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === CHILD_FLAG) {
  const [s, dir, n] = process.argv.slice(3) as [Step, string, string];
  step(s, dir, Number(n)).then(
    (result) => process.send?.(result, () => process.exit(0)),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
