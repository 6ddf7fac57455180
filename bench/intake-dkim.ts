// Released mail at steady state: 10 SMTP sessions into a gateway with a DKIM key for the sender's
// domain, no hold, and a rule that reads content — so every message accepted is also analysed,
// released at once, DKIM-signed and relayed while intake goes on. Three kinds of message: 5 KB of
// text; the same with a 200 KB .xlsx; with a 200 KB PDF (both read by the analysis: pdf.js, OOXML).
// Postfix (no DKIM, no content analysis; it relays at once) on the same messages as the baseline.
//
// Builds: this checkout's, or those named on the command line, each run from a fresh data
// directory, in rounds (A B A B …) so that a busy moment of the shared machine falls on all:
//   npm run bench -- intake-dkim --build=before=/tmp/before --build=after=. [--rounds=3]
// where /tmp/before is a built checkout (server/dist; e.g. `git worktree add /tmp/before COMMIT`,
// then `npm ci && npm run build` there).
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { makePdf, makeXlsx } from "../server/test/fixtures/documents.js";
import { base64Lines } from "../server/test/fixtures/mime.js";
import { BIN } from "../test/helpers/gateway.js";
import { BenchGateway, RECIPIENT, SENDER } from "./lib/gateway.js";
import { PostfixInstance, postfixVersion } from "./lib/postfix.js";
import { fiveKilobyteBody, runLoad, type LoadResult } from "./lib/smtp-client.js";
import { SmtpSinkProcess } from "./lib/sinks.js";
import { printTable } from "./lib/table.js";
import { CpuShare, cpuSeconds, fmt, percentile, poll } from "./lib/util.js";

const SESSIONS = 10;
const MAX_MS = 20_000;
const DRAIN_MS = 180_000;
/** The gateway as it runs after a while: its JIT warm, pdf.js loaded, threads started. */
const WARMUP: Record<string, number> = { "5 KB": 3000, "+ 200 KB .xlsx": 150, "+ 200 KB PDF": 40 };

interface Mail {
  name: string;
  count: number;
  headers?: string;
  body: Buffer;
}

const BOUNDARY = "bench-boundary-1";

function withAttachment(text: Buffer, filename: string, type: string, content: Buffer): Mail["body"] {
  return Buffer.from(
    [
      "This is a multi-part message in MIME format.",
      `--${BOUNDARY}`,
      "Content-Type: text/plain; charset=us-ascii",
      "",
      text.toString("latin1"),
      `--${BOUNDARY}`,
      `Content-Type: ${type}; name="${filename}"`,
      `Content-Disposition: attachment; filename="${filename}"`,
      "Content-Transfer-Encoding: base64",
      "",
      base64Lines(content),
      `--${BOUNDARY}--`,
      "",
    ].join("\r\n"),
    "latin1",
  );
}

async function mails(): Promise<Mail[]> {
  const text = fiveKilobyteBody();
  const multipart = `MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="${BOUNDARY}"`;
  const xlsx = await makeXlsx([
    Array.from({ length: 9000 }, (_, i) => [`顧客${i}`, 9000000000 + i, `東京都千代田区丸の内${i}`]),
  ]);
  const line = "Invoice 2026-01 item 0042 quantity 12 unit price 1,200 yen total 14,400 yen. ";
  const pdf = makePdf(
    Array.from({ length: 120 }, (_, i) => ({
      latin: `${i} ${line.repeat(20)}`,
      japanese: "請求書 山田太郎様",
    })),
  );
  return [
    { name: "5 KB", count: 2000, body: text },
    {
      name: "+ 200 KB .xlsx",
      count: 600,
      headers: multipart,
      body: withAttachment(
        text,
        "顧客一覧.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        xlsx,
      ),
    },
    {
      name: "+ 200 KB PDF",
      count: 200,
      headers: multipart,
      body: withAttachment(text, "請求書.pdf", "application/pdf", pdf),
    },
  ];
}

/** A rule that reads content and matches none of these messages: every one is analysed, none held. */
const POLICY = {
  preset: "self",
  hold: { internal: 0, semiInternal: 0, external: 0 },
  rules: [
    {
      name: "top-secret",
      when: { contentContains: ["極秘"] },
      then: { reject: { reason: "極秘の資料は送信できません / Top secret" } },
    },
  ],
};

interface Build {
  label: string;
  bin: string;
}

/** The builds named by --build=LABEL=DIR, in order; without any, this checkout's. */
function builds(args: string[]): Build[] {
  const list: Build[] = [];
  for (const arg of args) {
    const m = /^--build=([^=]+)=(.+)$/.exec(arg);
    if (m) list.push({ label: m[1] as string, bin: resolve(m[2] as string, "server/bin/sendguard.js") });
  }
  return list.length ? list : [{ label: "this checkout", bin: BIN }];
}

interface Row {
  build: string;
  round: number;
  mail: string;
  accepted: number;
  attempted: number;
  rate: number;
  latencies: number[];
  /** Recipients relayed per second while the load ran. */
  relayRate: number;
  /** Accepted but not yet relayed when the load stopped. */
  backlog: number;
  /** From the end of the load until everything accepted was relayed, s. */
  drainSeconds: number;
  cpuPercent: number;
  othersCpu: number;
  problem: string | null;
}

async function startGateway(build: Build, relayPort: number): Promise<BenchGateway> {
  const gateway = new BenchGateway({ relayPort, holdMinutes: 0, bin: build.bin });
  const keygen = gateway.gw.cli(["dkim", "keygen", "corp.example"]);
  if (keygen.status !== 0) throw new Error(`${build.label}: dkim keygen: ${keygen.stderr}`);
  const policyFile = join(gateway.dataDir, "policy.json");
  writeFileSync(policyFile, JSON.stringify(POLICY));
  const set = gateway.gw.cli(["policy", "set", "org", policyFile]);
  if (set.status !== 0) throw new Error(`${build.label}: policy set: ${set.stderr}`);
  return gateway.start();
}

/** Waits until every accepted message has been relayed (and nothing waits to be delivered). */
async function drained(gateway: BenchGateway, accepted: number): Promise<boolean> {
  const ok = await poll(
    async () => (await gateway.metric("sendguard_recipients_sent_total")) >= accepted,
    DRAIN_MS,
    100,
  );
  return ok === true;
}

async function measure(
  build: string,
  round: number,
  mail: Mail,
  port: number,
  gateway: BenchGateway | null,
  postfix: PostfixInstance | null,
): Promise<Row> {
  const sent = async () => (gateway ? await gateway.metric("sendguard_recipients_sent_total") : 0);
  const relayed = () => postfix?.countLog(/status=sent/) ?? 0;
  const sent0 = gateway ? await sent() : relayed();
  const cpu0 = gateway ? cpuSeconds(gateway.pid) : null;
  const share = new CpuShare();
  const load: LoadResult = await runLoad({
    port,
    sessions: SESSIONS,
    count: mail.count,
    maxMs: MAX_MS,
    from: SENDER,
    to: RECIPIENT,
    body: mail.body,
    headers: mail.headers,
  });
  const others = share.stop().others;
  const sent1 = gateway ? await sent() : relayed();
  const cpu1 = gateway ? cpuSeconds(gateway.pid) : null;
  const drainStart = performance.now();
  const target = sent0 + load.accepted;
  const done = gateway ? await drained(gateway, target) : await postfix?.drain(DRAIN_MS);
  const problems = [
    load.errors.length || load.accepted < mail.count
      ? `${load.accepted}/${mail.count} accepted${load.errors.length ? `: ${load.errors.join("; ")}` : " (20 s cap)"}`
      : null,
    done ? null : `not all relayed after ${DRAIN_MS / 1000} s`,
  ].filter(Boolean);
  return {
    build,
    round,
    mail: mail.name,
    accepted: load.accepted,
    attempted: mail.count,
    rate: load.accepted / load.seconds,
    latencies: load.latencies,
    relayRate: (sent1 - sent0) / load.seconds,
    backlog: target - sent1,
    drainSeconds: (performance.now() - drainStart) / 1000,
    cpuPercent: cpu0 !== null && cpu1 !== null ? ((cpu1 - cpu0) / load.seconds) * 100 : Number.NaN,
    othersCpu: others,
    problem: problems.length ? problems.join("; ") : null,
  };
}

export async function run(args: string[] = process.argv.slice(2)): Promise<void> {
  const list = builds(args);
  const rounds = Number(/^--rounds=(\d+)$/.exec(args.find((a) => a.startsWith("--rounds=")) ?? "")?.[1] ?? 2);
  const messages = await mails();
  const sink = await new SmtpSinkProcess().start();
  const rows: Row[] = [];
  const notes: string[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const build of list) {
        const gateway = await startGateway(build, sink.port);
        try {
          for (const mail of messages) {
            const warm = await runLoad({
              port: gateway.smtpPort,
              sessions: SESSIONS,
              count: WARMUP[mail.name] ?? 100,
              maxMs: MAX_MS,
              from: SENDER,
              to: RECIPIENT,
              body: mail.body,
              headers: mail.headers,
            });
            if (warm.errors.length) throw new Error(`${build.label} warm-up: ${warm.errors.join("; ")}`);
          }
          await drained(gateway, await gateway.metric("sendguard_messages_accepted_total"));
          for (const mail of messages) {
            spawnSync("sync");
            rows.push(await measure(build.label, round, mail, gateway.smtpPort, gateway, null));
          }
          const problems = gateway.problems();
          if (problems.length)
            notes.push(
              `${build.label}, round ${round}: ${problems.length} warning/error line(s), first: ${JSON.stringify(problems[0]).slice(0, 300)}`,
            );
        } finally {
          await gateway.stop();
        }
      }
      const postfix = await new PostfixInstance({ relayPort: sink.port }).start();
      try {
        for (const mail of messages) {
          await runLoad({
            port: postfix.port,
            sessions: SESSIONS,
            count: Math.min(WARMUP[mail.name] ?? 100, 1000),
            maxMs: MAX_MS,
            from: SENDER,
            to: RECIPIENT,
            body: mail.body,
            headers: mail.headers,
          });
        }
        await postfix.drain(DRAIN_MS);
        for (const mail of messages) {
          spawnSync("sync");
          rows.push(await measure(`Postfix ${postfixVersion()}`, round, mail, postfix.port, null, postfix));
        }
      } finally {
        await postfix.stop();
      }
    }
  } finally {
    await sink.stop();
  }
  for (const r of rows) if (r.problem) notes.push(`${r.build}, round ${r.round}, ${r.mail}: ${r.problem}`);
  printTable(
    `Released mail at steady state, ${SESSIONS} sessions (node client, pipelined): DKIM key for the sender's domain, hold 0, a content rule`,
    [
      { title: "mail", align: "left" },
      { title: "build", align: "left" },
      { title: "round", align: "right" },
      { title: "accepted", align: "right" },
      { title: "intake msgs/s", align: "right" },
      { title: "p50/p99 ms", align: "right" },
      { title: "relayed/s", align: "right" },
      { title: "backlog", align: "right" },
      { title: "drain s", align: "right" },
      { title: "SG CPU %", align: "right" },
      { title: "others CPU %", align: "right" },
    ],
    messages.flatMap((mail) =>
      rows
        .filter((r) => r.mail === mail.name)
        .map((r) => [
          r.mail,
          r.build,
          r.round,
          `${r.accepted}/${r.attempted}`,
          fmt(r.rate),
          r.latencies.length
            ? `${fmt(percentile(r.latencies, 50))} / ${fmt(percentile(r.latencies, 99))}`
            : "-",
          fmt(r.relayRate),
          r.backlog,
          fmt(r.drainSeconds),
          fmt(r.cpuPercent, 0),
          fmt(r.othersCpu, 0),
        ]),
    ),
    [
      "Every message is analysed (a contentContains rule that matches none), released at once and relayed DKIM-signed",
      "  to one smtp-sink process; Postfix relays the same messages unsigned and unanalysed.",
      "relayed/s: recipients relayed per second while the load ran; backlog: accepted but not yet relayed when it",
      "  stopped; drain s: from then until all were relayed. Steady state: relayed/s ≈ intake msgs/s, small backlog.",
      "SG CPU % = gateway process CPU time (all its threads) / run time (100 = one core; the machine has 2).",
      "others CPU %: processes outside this benchmark during the run (of 200 %): well above 0 means a shared machine.",
      "Each build starts from a fresh data directory and is warmed up with each kind of message first.",
      ...notes,
    ],
  );
}
