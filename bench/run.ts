// Runs the benchmarks in turn: `npm run bench` for all, `npm run bench -- intake due-burst` for some.
// Each prints a table with its baseline measured in the same run. Numbers only, no pass/fail.
import { spawnSync } from "node:child_process";
import { cpus, loadavg, totalmem } from "node:os";
import { performance } from "node:perf_hooks";
import { CpuShare } from "./lib/util.js";

const BENCHES: Record<string, { about: string; load: () => Promise<{ run: () => Promise<void> }> }> = {
  intake: { about: "durable SMTP intake, 1/10/50 sessions, vs Postfix", load: () => import("./intake.js") },
  "intake-dkim": {
    about:
      "released mail at steady state, 10 sessions, DKIM on, 5 KB / + 200 KB xlsx / + PDF, vs Postfix (--build=LABEL=DIR compares builds)",
    load: () => import("./intake-dkim.js"),
  },
  "large-message": {
    about: "peak RSS relaying one 100 MB message, vs idle and Postfix",
    load: () => import("./large-message.js"),
  },
  separate: {
    about:
      "web-download separation of a 100 MB attachment in a worker: peak RSS and time, vs copying the file",
    load: () => import("./separate.js"),
  },
  attachments: {
    about:
      "a 100 MB attachment end to end: released as web download and as AES-256 ZIP, then downloaded; peak RSS and time, vs relaying it unchanged",
    load: () => import("./attachments.js"),
  },
  rules: {
    about: "rule evaluation, 1,000 recipients × 20 rules, vs no rules",
    load: () => import("./rules.js"),
  },
  listing: {
    about: "one user's held messages among 100,000 (GET /api/v1/messages), vs the indexes before retention",
    load: () => import("./listing.js"),
  },
  "pii-scan": {
    about: "text and PII of a 10 MB .xlsx, vs plain unzip",
    load: () => import("./pii-scan.js"),
  },
  "due-burst": {
    about: "1,000 messages due at once → all relayed, vs Postfix",
    load: () => import("./due-burst.js"),
  },
  "zip-aes": {
    about: "AES-256 ZIP of a 50 MB already-compressed file, MB/s, vs 7-Zip and zip.js",
    load: () => import("./zip-aes.js"),
  },
  download: {
    about: "download of a 100 MB file from the download centre (one file, all as ZIP), vs express.static",
    load: () => import("./download.js"),
  },
  "outlook-send": {
    about: "Outlook: Send → handler decision, 200 recipients + 10 attachments, vs 1 recipient; bundle size",
    load: () => import("./outlook-send.js"),
  },
  "outlook-pane": {
    about:
      "Outlook: compose pane open → confirm dialog interactive, 200 recipients + 10 attachments, vs 1 recipient",
    load: () => import("./outlook-pane.js"),
  },
  "tb-confirm": {
    about: "Thunderbird: Send → confirm dialog, 200 recipients + 10 attachments, vs 1 recipient",
    load: () => import("./tb-confirm.js"),
  },
};

/** The commit measured, and whether server/ or shared/ had uncommitted changes. */
function revision(): string {
  const git = (...args: string[]) => spawnSync("git", args, { encoding: "utf8" }).stdout?.trim() ?? "";
  const head = git("rev-parse", "--short", "HEAD") || "unknown";
  const dirty = git("status", "--porcelain", "--", "server", "shared").split("\n").filter(Boolean).length;
  return dirty ? `${head} + ${dirty} uncommitted change(s) in server/ shared/` : head;
}

/** 1/5/15-minute load averages: above the core count, other work shared the machine during the run. */
function load(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
}

async function main(args: string[]): Promise<number> {
  const wanted = args.filter((a) => !a.startsWith("-"));
  const unknown = wanted.filter((w) => !(w in BENCHES));
  if (unknown.length || args.includes("--help") || args.includes("-h")) {
    if (unknown.length) console.error(`unknown benchmark: ${unknown.join(", ")}`);
    console.error(
      `usage: npm run bench [-- NAME...]\n${Object.entries(BENCHES)
        .map(([n, b]) => `  ${n.padEnd(14)} ${b.about}`)
        .join("\n")}`,
    );
    return unknown.length ? 2 : 0;
  }
  const names = wanted.length ? wanted : Object.keys(BENCHES);
  const cpu = cpus();
  console.log(
    `Sendguard benchmarks — ${revision()}, node ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GB, ${new Date().toISOString()}`,
  );
  let failed = 0;
  for (const name of names) {
    const bench = BENCHES[name];
    if (!bench) continue;
    const started = performance.now();
    const share = new CpuShare();
    console.log(`\n=== ${name}: ${bench.about} (load average before: ${load()})`);
    try {
      await (await bench.load()).run();
      const usage = share.stop();
      console.log(
        `(${name} took ${((performance.now() - started) / 1000).toFixed(0)} s; CPU of the machine ${usage.machine.toFixed(0)} %,` +
          ` of which this benchmark ${usage.ours.toFixed(0)} % and other processes ${usage.others.toFixed(0)} % (100 % = one core);` +
          ` load average after: ${load()})`,
      );
    } catch (err) {
      failed++;
      console.error(`${name} failed: ${(err as Error).stack ?? String(err)}`);
    }
  }
  return failed ? 1 : 0;
}

// Ctrl-C: exit normally so the exit hooks stop the gateways, sinks and Postfix instances started.
process.once("SIGINT", () => process.exit(130));
process.once("SIGTERM", () => process.exit(143));

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
