// A 100 MB attachment end to end through the real gateway: SMTP intake → release as a web download
// and as an AES-256 ZIP → the sink, then the recipient's download of the file from the centre;
// beside the same message relayed unchanged (an internal recipient), in the same run. Each row has
// a gateway of its own, so its peak RSS (VmHWM of the process, /proc/PID/status) is that case's.
// Every case runs twice: under `node sendguard.js` and as the launcher executed (server/bin/
// sendguard.js with the memory settings of its first line), to show what those settings do.
import { performance } from "node:perf_hooks";
import { bodyText } from "../test/helpers/fixtures.js";
import { waitFor } from "../test/helpers/gateway.js";
import { PeakSampler, sendBig } from "./lib/big-relay.js";
import { BenchGateway, SENDER } from "./lib/gateway.js";
import { CountingSink, type Arrival } from "./lib/sinks.js";
import { printTable } from "./lib/table.js";
import { MB, fmt, memoryStatus, sleep } from "./lib/util.js";

const MESSAGE_BYTES = 100 * MB;
const ADMIN = "admin@corp.example";
const PW = "correct-horse-1";
/** The copies and notices are small; the relayed 100 MB messages are only counted. */
const KEEP_UP_TO = 1 * MB;

interface Case {
  what: string;
  to: string;
  /** The copy at the sink: its size tells a rewritten copy from the notices. */
  arrived: (a: Arrival, size: number) => boolean;
  download?: boolean;
}

const CASES: Case[] = [
  {
    what: "relayed unchanged (internal recipient) — baseline",
    to: "rcpt@corp.example",
    arrived: (a, size) => a.to.includes("rcpt@corp.example") && a.bytes >= size,
  },
  {
    what: "web download (external recipient)",
    to: "rcpt@partner.example",
    arrived: (a) => a.to.includes("rcpt@partner.example") && a.raw !== undefined,
    download: true,
  },
  {
    what: "encrypted ZIP, AES-256 (rule for zip.example)",
    to: "rcpt@zip.example",
    arrived: (a, size) => a.to.includes("rcpt@zip.example") && a.bytes >= size * 0.9,
  },
];

/** How the gateway is started (TestGateway's launch), and how the table names it. */
const LAUNCHES = [
  { launch: "node", label: "node sendguard.js" },
  { launch: "launcher", label: "launcher (MALLOC_ARENA_MAX=2, --max-semi-space-size=1)" },
] as const;
type Launch = (typeof LAUNCHES)[number];

interface Row {
  launch: string;
  what: string;
  idle: number;
  peak: number;
  seconds: [number, number];
  atSink: string;
}

/** The attachments policy measured: password downloads, the password to the sender at once. */
const POLICY = {
  preset: "self",
  hold: { internal: 0, semiInternal: 0, external: 0 },
  attachments: {
    action: "web_download",
    download: { auth: "password" },
    password: { notify: "sender", delayMinutes: 0 },
  },
  rules: [
    {
      name: "zip",
      when: { recipientDomain: ["zip.example"] },
      then: { attachments: { action: "encrypt_zip" } },
    },
  ],
};

/** Signs in with the password and reads the one file to its end; returns bytes and seconds. */
async function download(link: string, password: string): Promise<{ bytes: number; seconds: number }> {
  const form = await (await fetch(link)).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(form)?.[1] ?? "";
  const signIn = await fetch(`${link}/password`, {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ csrf, password }),
  });
  const cookie = (signIn.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const list = await (await fetch(link, { headers: { Cookie: cookie } })).text();
  const fileId = /\/f\/([A-Za-z0-9_-]+)"/.exec(list)?.[1];
  if (!fileId) throw new Error(`no file listed after signing in (${signIn.status})`);
  const started = performance.now();
  const res = await fetch(`${link}/f/${fileId}`, { headers: { Cookie: cookie } });
  if (res.status !== 200 || !res.body) throw new Error(`GET the file: ${res.status}`);
  let bytes = 0;
  for await (const chunk of res.body) bytes += (chunk as Uint8Array).byteLength;
  return { bytes, seconds: (performance.now() - started) / 1000 };
}

/** The link in the copy and the password in the sender's notice (among the arrivals from `since` on). */
async function linkAndPassword(
  sink: CountingSink,
  copy: Arrival,
  since: number,
): Promise<{ link: string; password: string }> {
  const text = await bodyText(copy.raw ?? Buffer.alloc(0));
  const link = /(http:\/\/\S+\/d\/[A-Za-z0-9_-]+)/.exec(text)?.[1];
  if (!link) throw new Error("no download link in the copy");
  const password = await waitFor(
    async () => {
      for (const a of sink.arrivals.slice(since).filter((a) => a.to.includes(SENDER))) {
        const found = /(?:パスワード|Password): (\S+)/.exec(await bodyText(a.raw ?? Buffer.alloc(0)))?.[1];
        if (found) return found;
      }
      return undefined;
    },
    30_000,
    "the password notice",
  );
  return { link: link.replace("localhost", "127.0.0.1"), password };
}

async function measure(sink: CountingSink, c: Case, launch: Launch): Promise<Row[]> {
  const gateway = new BenchGateway({
    launch: launch.launch,
    relayPort: sink.port,
    holdMinutes: 0,
    config: { smtp: { maxMessageBytes: 120 * MB } },
  });
  gateway.gw.addUser(ADMIN, PW, "--role", "admin");
  try {
    await gateway.start();
    const admin = await gateway.gw.token(ADMIN, PW);
    const set = await gateway.gw.api(admin, "PUT", "/admin/policies/org", POLICY);
    if (set.status !== 200) throw new Error(`policy: ${set.status} ${JSON.stringify(set.body)}`);
    await sleep(2000); // let start-up settle
    const idle = memoryStatus(gateway.pid)?.rss ?? Number.NaN;
    const since = sink.arrivals.length;
    const sampler = new PeakSampler(() => [gateway.pid]).start();
    const result = await sendBig(
      gateway.smtpPort,
      sink,
      MESSAGE_BYTES,
      { to: c.to, arrived: c.arrived },
      () => JSON.stringify(gateway.problems()[0] ?? "").slice(0, 500),
    );
    sampler.stop();
    const rows: Row[] = [
      {
        launch: launch.label,
        what: c.what,
        idle,
        peak: sampler.maxSingle,
        seconds: [result.intakeSeconds, result.relaySeconds],
        atSink: result.delivered,
      },
    ];
    if (c.download && result.arrival) {
      const { link, password } = await linkAndPassword(sink, result.arrival, since);
      const during = new PeakSampler(() => [gateway.pid]).start();
      const got = await download(link, password);
      during.stop();
      rows.push({
        launch: "",
        what: "  … then its download from the centre (one file)",
        idle: Number.NaN,
        peak: during.maxRss,
        seconds: [Number.NaN, got.seconds],
        atSink: `${fmt(got.bytes / MB)} MB at ${fmt(got.bytes / MB / got.seconds, 0)} MB/s`,
      });
    }
    for (const p of gateway.problems()) console.log(`${c.what}: ${JSON.stringify(p).slice(0, 300)}`);
    return rows;
  } finally {
    await gateway.stop();
  }
}

export async function run(): Promise<void> {
  const sink = await new CountingSink({ keepUpTo: KEEP_UP_TO }).start();
  const rows: Row[] = [];
  try {
    // Alternating, so load from other processes falls on both ways alike.
    for (const c of CASES) for (const launch of LAUNCHES) rows.push(...(await measure(sink, c, launch)));
  } finally {
    await sink.stop();
  }
  printTable(
    `A ${MESSAGE_BYTES / MB} MB attachment through the gateway, by attachment action — target peak RSS < 200 MB`,
    [
      { title: "started as", align: "left" },
      { title: "case", align: "left" },
      { title: "RSS idle MB", align: "right" },
      { title: "peak RSS MB", align: "right" },
      { title: "intake s", align: "right" },
      { title: "release → sink s", align: "right" },
      { title: "at the sink", align: "right" },
    ],
    rows.map((r) => [
      r.launch,
      r.what,
      fmt(r.idle / MB),
      fmt(r.peak / MB),
      fmt(r.seconds[0], 2),
      fmt(r.seconds[1], 2),
      r.atSink,
    ]),
    [
      "One gateway per case (holdMinutes 0, smtp.maxMessageBytes 120 MB), relaying to a sink that counts bytes and keeps",
      `  only messages up to ${KEEP_UP_TO / MB} MB (the web-download copy, the password notice).`,
      "peak = VmHWM of the gateway process (which includes start-up); idle = VmRSS 2 s after start.",
      "intake s = the client's DATA until the 250 reply; release → sink s = 250 until the sink has the copy (hold 0:",
      "  separation, storing in the centre or zipping, rewriting, relaying). Download: s = the file's GET to its last byte,",
      "  peak = the highest VmRSS sampled (every 25 ms) during it.",
    ],
  );
}
