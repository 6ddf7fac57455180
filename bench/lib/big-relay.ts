// One large message through a gateway (or Postfix) into a CountingSink, and the peak memory of the
// processes doing it: what large-message.ts and attachments.ts measure.
import { performance } from "node:perf_hooks";
import { bigMessage } from "./big-message.js";
import { RECIPIENT, SENDER } from "./gateway.js";
import type { Arrival, CountingSink } from "./sinks.js";
import { SmtpSession } from "./smtp-client.js";
import { MB, fmt, memoryStatus, poll } from "./util.js";

const RELAY_TIMEOUT_MS = 120_000;

/** Samples the peak RSS of a set of processes (recomputed each tick) every `everyMs`. */
export class PeakSampler {
  maxSum = 0;
  maxSingle = 0;
  /** The highest VmRSS seen (maxSingle is VmHWM: the peak over the process's whole life). */
  maxRss = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly pids: () => number[]) {}

  start(everyMs = 25): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    return this;
  }

  sample(): void {
    let sum = 0;
    for (const pid of this.pids()) {
      const m = memoryStatus(pid);
      if (!m) continue;
      sum += m.rss;
      this.maxSingle = Math.max(this.maxSingle, m.hwm);
      this.maxRss = Math.max(this.maxRss, m.rss);
    }
    this.maxSum = Math.max(this.maxSum, sum);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.sample();
  }
}

export interface BigRelayOptions {
  /** The envelope and header recipient; default RECIPIENT. */
  to?: string;
  /** The arrival that ends the wait; default: one to `to` of at least the message's size. */
  arrived?: (arrival: Arrival, size: number) => boolean;
}

/** Sends a `bytes` message with one attachment to `port` and waits until the sink has it. */
export async function sendBig(
  port: number,
  sink: CountingSink,
  bytes: number,
  options: BigRelayOptions = {},
  why: () => string = () => "",
): Promise<{ intakeSeconds: number; relaySeconds: number; delivered: string; arrival: Arrival | null }> {
  const to = options.to ?? RECIPIENT;
  const arrived = options.arrived ?? ((a, size) => a.to.includes(to) && a.bytes >= size);
  const message = bigMessage(bytes, SENDER, to);
  const seen = sink.arrivals.length;
  const session = await SmtpSession.open(port);
  const started = performance.now();
  const { reply } = await session.sendStream(SENDER, to, message.chunks());
  const accepted = performance.now();
  await session.quit();
  if (reply.code !== 250)
    throw new Error(`${fmt(bytes / MB, 0)} MB message refused: ${reply.code} ${reply.text} ${why()}`.trim());
  const arrival = await poll(
    () => sink.arrivals.slice(seen).find((a) => arrived(a, message.size)),
    RELAY_TIMEOUT_MS,
    50,
  );
  return {
    intakeSeconds: (accepted - started) / 1000,
    relaySeconds: arrival ? (arrival.at - accepted) / 1000 : Number.NaN,
    delivered: arrival ? `${fmt(arrival.bytes / MB)} MB` : `not within ${RELAY_TIMEOUT_MS / 1000} s`,
    arrival: arrival ?? null,
  };
}
