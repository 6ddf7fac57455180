// 1,000 held messages become due together: how long until the relay target has all of them?
// The messages are submitted with a short hold (all accepted, and their hold notices relayed, before
// the first is due). Two Sendguard rounds:
//  - live: the gateway runs on; due times are spread over the submission time, measured from the
//    first due time (first arrival) and from the latest due time (last arrival);
//  - same instant: the gateway process is paused (SIGSTOP) before the first is due and resumed
//    (SIGCONT) after the last is due, so for its scheduler all 1,000 are due in the same moment.
// Baseline: a private Postfix takes the same 1,000 messages onto its hold queue (HOLD action) and
// releases them at once (postsuper -H ALL; postqueue -f).
import { BenchGateway, RECIPIENT, SENDER } from "./lib/gateway.js";
import { PostfixInstance, postfixVersion } from "./lib/postfix.js";
import { fiveKilobyteBody, runLoad } from "./lib/smtp-client.js";
import { CountingSink, type Arrival } from "./lib/sinks.js";
import { printTable } from "./lib/table.js";
import { cpuSeconds, fmt, poll, sleep } from "./lib/util.js";

const COUNT = 1000;
const HOLD_MINUTES = 0.5;
const SESSIONS = 10;
const DELIVERY_TIMEOUT_MS = 60_000;

interface Row {
  what: string;
  /** Seconds between the first and the last due time (0 when released at once). */
  dueSpread: number;
  toFirst: number;
  toAll: number;
  /** Messages per second from the first due time (release) to the last arrival. */
  rate: number;
  received: number;
  /** Sendguard: CPU of the gateway process from the release to the last arrival, % of one core. */
  cpuPercent: number;
}

/** 13 lines, about 1 KB. */
const SMALL_BODY = fiveKilobyteBody().subarray(0, 1040);

/** Submits COUNT messages; `why` explains refusals (e.g. the gateway's first error log line). */
async function submit(port: number, why: () => string = () => ""): Promise<number> {
  const load = await runLoad({
    port,
    sessions: SESSIONS,
    count: COUNT,
    maxMs: 60_000,
    from: SENDER,
    to: RECIPIENT,
    body: SMALL_BODY,
    subject: "due burst",
  });
  if (load.accepted !== COUNT)
    throw new Error(`only ${load.accepted}/${COUNT} accepted: ${load.errors.join("; ")} ${why()}`.trim());
  return load.seconds;
}

/** Waits until `COUNT` messages for RECIPIENT arrived after index `seen`; returns them (maybe fewer). */
async function arrivals(sink: CountingSink, seen: number): Promise<Arrival[]> {
  const mine = () => sink.arrivals.slice(seen).filter((a) => a.to.includes(RECIPIENT));
  await poll(() => mine().length >= COUNT, DELIVERY_TIMEOUT_MS, 5);
  return mine();
}

async function sendguardRound(sink: CountingSink, paused: boolean, notes: string[]): Promise<Row> {
  const gateway = new BenchGateway({ relayPort: sink.port, holdMinutes: HOLD_MINUTES });
  try {
    await gateway.start();
    const seconds = await submit(gateway.smtpPort, () => {
      const first = gateway.problems()[0];
      return first ? `— gateway log: ${JSON.stringify(first).slice(0, 500)}` : "";
    });
    const drained = await poll(
      async () => (await gateway.metric("sendguard_queue_depth", { state: "notices" })) === 0,
      20_000,
      100,
    );
    const due = await gateway.heldReleaseTimes();
    const label = paused ? "same instant" : "live";
    notes.push(
      `Sendguard ${label}: ${COUNT} submitted in ${fmt(seconds)} s over ${SESSIONS} sessions; ${due.count} held; hold notices ${drained ? "all relayed" : "NOT all relayed"} ${fmt((due.first - Date.now()) / 1000)} s before the first due time.`,
    );
    if (due.count !== COUNT) throw new Error(`${due.count} groups held, expected ${COUNT}`);
    if (Date.now() > due.first)
      notes.push(
        `Sendguard ${label}: submission was not finished before the first due time; the numbers mix intake and release.`,
      );
    const seen = sink.arrivals.length;
    let from: { first: number; all: number };
    let cpuFrom: number | null = null;
    if (paused) {
      process.kill(gateway.pid, "SIGSTOP");
      try {
        await sleep(Math.max(0, due.first - Date.now() - 1000));
        await sleep(Math.max(0, due.last - Date.now() + 200));
      } finally {
        cpuFrom = cpuSeconds(gateway.pid);
        process.kill(gateway.pid, "SIGCONT");
      }
      const resumed = Date.now();
      from = { first: resumed, all: resumed };
    } else {
      from = { first: due.first, all: due.last };
      await sleep(Math.max(0, due.first - Date.now()));
      cpuFrom = cpuSeconds(gateway.pid);
    }
    const cpuSince = Date.now();
    const got = await arrivals(sink, seen);
    const cpuTo = cpuSeconds(gateway.pid);
    const cpuSpan = (Math.max(...got.map((a) => a.wall), cpuSince + 1) - cpuSince) / 1000;
    const walls = got.map((a) => a.wall);
    const problems = gateway.problems();
    if (problems.length)
      notes.push(
        `Sendguard ${label}: ${problems.length} warning/error log line(s), first: ${JSON.stringify(problems[0]).slice(0, 300)}`,
      );
    return {
      what: paused
        ? "Sendguard: all due at the same instant (SIGSTOP → SIGCONT)"
        : "Sendguard: live, due as submitted",
      dueSpread: paused ? 0 : (due.last - due.first) / 1000,
      toFirst: walls.length ? (Math.min(...walls) - from.first) / 1000 : Number.NaN,
      toAll: got.length >= COUNT ? (Math.max(...walls) - from.all) / 1000 : Number.NaN,
      rate: got.length >= COUNT ? (COUNT * 1000) / (Math.max(...walls) - from.first) : Number.NaN,
      received: got.length,
      cpuPercent: cpuFrom !== null && cpuTo !== null ? ((cpuTo - cpuFrom) / cpuSpan) * 100 : Number.NaN,
    };
  } finally {
    await gateway.stop();
  }
}

async function postfixRound(sink: CountingSink, notes: string[]): Promise<Row> {
  const postfix = new PostfixInstance({ relayPort: sink.port, holdPort: true });
  try {
    await postfix.start();
    const seconds = await submit(postfix.holdPort);
    const held = await poll(() => postfix.queued() >= COUNT, 20_000, 200);
    notes.push(
      `Postfix: ${COUNT} submitted in ${fmt(seconds)} s over ${SESSIONS} sessions; ${held ? COUNT : postfix.queued()} on its hold queue before the release.`,
    );
    const seen = sink.arrivals.length;
    const released = Date.now();
    await postfix.releaseHoldAndFlush();
    const got = await arrivals(sink, seen);
    const walls = got.map((a) => a.wall);
    return {
      what: `Postfix ${postfixVersion()}: hold queue released at once`,
      dueSpread: 0,
      toFirst: walls.length ? (Math.min(...walls) - released) / 1000 : Number.NaN,
      toAll: got.length >= COUNT ? (Math.max(...walls) - released) / 1000 : Number.NaN,
      rate: got.length >= COUNT ? (COUNT * 1000) / (Math.max(...walls) - released) : Number.NaN,
      received: got.length,
      cpuPercent: Number.NaN,
    };
  } finally {
    await postfix.stop();
  }
}

export async function run(): Promise<void> {
  const sink = await new CountingSink().start();
  const rows: Row[] = [];
  const notes: string[] = [];
  try {
    rows.push(await sendguardRound(sink, false, notes));
    rows.push(await sendguardRound(sink, true, notes));
    rows.push(await postfixRound(sink, notes));
  } finally {
    await sink.stop();
  }
  printTable(
    `${COUNT} held messages due at once → all handed to the relay target — target: all within 5 s`,
    [
      { title: "case", align: "left" },
      { title: "due spread s", align: "right" },
      { title: "due → first s", align: "right" },
      { title: "due → all s", align: "right" },
      { title: "msgs/s", align: "right" },
      { title: "received", align: "right" },
      { title: "SG CPU %", align: "right" },
    ],
    rows.map((r) => [
      r.what,
      fmt(r.dueSpread, 2),
      fmt(r.toFirst, 2),
      fmt(r.toAll, 2),
      fmt(r.rate, 0),
      `${r.received}/${COUNT}`,
      fmt(r.cpuPercent, 0),
    ]),
    [
      `Messages of about 1 KB, ${SESSIONS} sessions, Sendguard holdMinutes ${HOLD_MINUTES}; relay target: an smtp-server sink in the`,
      "  benchmark process that counts bytes and notes arrival times. Sendguard relay defaults (5 connections, 20 in flight).",
      "due → first: from the first due time (release) to the first message at the sink; due → all: from the LATEST due",
      "  time (release) to the last of the 1,000 at the sink. msgs/s: 1,000 / (first due → last arrival).",
      "SG CPU %: gateway process CPU time / wall time from the (first) due time to the last arrival; 100 = one core of 2.",
      ...notes,
    ],
  );
}
