// Peak memory of the gateway process while it accepts and relays one 100 MB message (generated on
// the fly and streamed), sampled from /proc/PID/status (VmHWM = peak RSS over the process life).
// Baselines in the same run: the same gateway idle, and a private Postfix relaying the same message.
// A second Sendguard row has a DKIM key for the sender domain, so the relay signs the message.
import { PeakSampler, sendBig } from "./lib/big-relay.js";
import { BenchGateway } from "./lib/gateway.js";
import { PostfixInstance, postfixVersion } from "./lib/postfix.js";
import { CountingSink } from "./lib/sinks.js";
import { printTable } from "./lib/table.js";
import { MB, descendants, fmt, memoryStatus, sleep } from "./lib/util.js";

const MESSAGE_BYTES = 100 * MB;
const MAX_MESSAGE_BYTES = 120 * MB;

interface Row {
  what: string;
  idleRss: number;
  peak: number;
  intakeSeconds: number;
  relaySeconds: number;
  delivered: string;
}

async function sendguardRow(
  sink: CountingSink,
  dkim: boolean,
): Promise<{ idle: Row; loaded: Row; problems: string[] }> {
  const gateway = new BenchGateway({
    relayPort: sink.port,
    holdMinutes: 0,
    config: { smtp: { maxMessageBytes: MAX_MESSAGE_BYTES } },
  });
  if (dkim) {
    const r = gateway.gw.cli(["dkim", "keygen", "corp.example", "--selector", "bench"]);
    if (r.status !== 0) throw new Error(`dkim keygen failed: ${r.stderr}`);
  }
  try {
    await gateway.start();
    await sleep(2000); // let start-up settle (scheduler start, first GC)
    const idle = memoryStatus(gateway.pid);
    if (!idle) throw new Error("gateway process vanished");
    const sampler = new PeakSampler(() => [gateway.pid]).start();
    const result = await sendBig(gateway.smtpPort, sink, MESSAGE_BYTES, {}, () => {
      const first = gateway.problems()[0];
      return first ? `— gateway log: ${JSON.stringify(first).slice(0, 500)}` : "";
    });
    sampler.stop();
    const after = memoryStatus(gateway.pid);
    const label = dkim ? "Sendguard, DKIM key for corp.example" : "Sendguard (no DKIM key)";
    const problems = gateway.problems().map((p) => `${label}: ${JSON.stringify(p).slice(0, 300)}`);
    return {
      idle: {
        what: `Sendguard idle (${dkim ? "DKIM" : "no DKIM"}), 2 s after start`,
        idleRss: idle.rss,
        peak: idle.hwm,
        intakeSeconds: Number.NaN,
        relaySeconds: Number.NaN,
        delivered: "-",
      },
      loaded: {
        what: label,
        idleRss: idle.rss,
        peak: Math.max(after?.hwm ?? 0, sampler.maxSingle),
        ...result,
      },
      problems,
    };
  } finally {
    await gateway.stop();
  }
}

export async function run(): Promise<void> {
  const sink = await new CountingSink().start();
  const rows: Row[] = [];
  const notes: string[] = [];
  try {
    const plain = await sendguardRow(sink, false);
    const signed = await sendguardRow(sink, true);
    rows.push(plain.idle, plain.loaded, signed.loaded);
    notes.push(...plain.problems, ...signed.problems);

    const postfix = new PostfixInstance({ relayPort: sink.port, messageSizeLimit: MAX_MESSAGE_BYTES });
    try {
      await postfix.start();
      await sleep(1000);
      const master = postfix.masterPid();
      const family = () => [master, ...descendants(master)];
      const idle = new PeakSampler(family);
      idle.sample();
      const sampler = new PeakSampler(family).start();
      const result = await sendBig(postfix.port, sink, MESSAGE_BYTES);
      sampler.stop();
      rows.push({
        what: `Postfix ${postfixVersion()}: largest process`,
        idleRss: Number.NaN,
        peak: sampler.maxSingle,
        ...result,
      });
      rows.push({
        what: `Postfix: all its processes together`,
        idleRss: idle.maxSum,
        peak: sampler.maxSum,
        ...result,
      });
    } finally {
      await postfix.stop();
    }
  } finally {
    await sink.stop();
  }
  printTable(
    `Peak RSS accepting and relaying one ${MESSAGE_BYTES / MB} MB message (base64 lines of 76 chars) — target < 200 MB`,
    [
      { title: "process", align: "left" },
      { title: "RSS idle MB", align: "right" },
      { title: "peak RSS MB", align: "right" },
      { title: "intake s", align: "right" },
      { title: "relay s", align: "right" },
      { title: "at the sink", align: "right" },
    ],
    rows.map((r) => [
      r.what,
      fmt(r.idleRss / MB),
      fmt(r.peak / MB),
      fmt(r.intakeSeconds, 2),
      fmt(r.relaySeconds, 2),
      r.delivered,
    ]),
    [
      "Sendguard: holdMinutes 0, smtp.maxMessageBytes 120 MB, relay to a sink that counts bytes and keeps nothing.",
      "  peak = VmHWM of the gateway process (node), which includes its start-up; idle = VmRSS 2 s after start.",
      "Postfix: a private instance relaying to the same sink; largest process = max VmHWM over master and its children,",
      "  all together = the highest sum of VmRSS over them, sampled every 25 ms (idle column: before the message).",
      "intake s = client's DATA until the 250 reply; relay s = 250 until the sink has read the whole message.",
      ...notes,
    ],
  );
}
