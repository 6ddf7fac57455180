// The real gateway (`sendguard start`) as a child process, through the test helper TestGateway,
// plus what benchmarks need on top: its PID (for /proc sampling) and its Prometheus metrics.
import { rmSync } from "node:fs";
import { TestGateway } from "../../test/helpers/gateway.js";
import { findProcesses, onExit } from "./util.js";

export const SENDER = "sender@corp.example";
export const RECIPIENT = "rcpt@partner.example";

export interface BenchGatewayOptions {
  relayPort: number;
  holdMinutes: number;
  /** Merged into the generated config (after the bench defaults). */
  config?: Record<string, unknown>;
  /** Another build's server/bin/sendguard.js (a before/after comparison); default this checkout's. */
  bin?: string;
  /** "launcher": sendguard.js executed, with its first line's memory settings (TestGateway). */
  launch?: "node" | "launcher";
}

export class BenchGateway {
  readonly gw: TestGateway;
  pid = 0;
  private release: () => boolean | void = () => undefined;

  constructor(options: BenchGatewayOptions) {
    this.gw = new TestGateway({
      relayPort: options.relayPort,
      config: {
        smtp: { trustedNetworks: ["127.0.0.0/8"] },
        organization: { internalDomains: ["corp.example"], holdMinutes: options.holdMinutes },
      },
      // Only what problems() reads: pino levels 40 (warn) to 60 (fatal).
      keepLog: (line) => /"level":[456]0\b/.test(line),
      bin: options.bin,
      launch: options.launch,
    });
    // Deep-merged, so a benchmark can change one key (e.g. smtp.maxMessageBytes) and keep the rest.
    // The relay keeps its defaults (5 connections, 20 concurrent deliveries).
    if (options.config) this.gw.patchConfig(options.config);
  }

  get smtpPort(): number {
    return this.gw.ports.smtp;
  }

  get dataDir(): string {
    return this.gw.dataDir;
  }

  async start(): Promise<this> {
    await this.gw.start();
    const pids = findProcesses([this.gw.bin, this.gw.configFile]);
    const pid = pids[pids.length - 1];
    if (pid === undefined) throw new Error("cannot find the gateway process in /proc");
    this.pid = pid;
    this.release();
    this.release = onExit(() => {
      process.kill(pid, "SIGKILL");
      rmSync(this.gw.dataDir, { recursive: true, force: true });
    });
    return this;
  }

  /** Stops the gateway and removes its data dir (spool, database): the runs write hundreds of MB. */
  async stop(): Promise<void> {
    this.release();
    await this.gw.stop();
    rmSync(this.gw.dataDir, { recursive: true, force: true });
  }

  /** Sum of the samples of one metric whose labels contain every given `key="value"`. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const res = await fetch(`${this.gw.httpUrl}/metrics`);
    const text = await res.text();
    let sum = 0;
    for (const line of text.split("\n")) {
      if (!line.startsWith(name)) continue;
      const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
      if (!m || m[1] !== name) continue;
      const labelText = m[2] ?? "";
      if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) sum += Number(m[3]);
    }
    return sum;
  }

  /**
   * Release times of the delivery batches still held, read from the gateway's database (read-only;
   * SQLite WAL lets this run beside the gateway). Builds before the rename to "batches" call the
   * table "groups"; a baseline build may be one of them.
   */
  async heldReleaseTimes(): Promise<{ count: number; first: number; last: number }> {
    const [table] = await this.gw.query<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('batches', 'groups') ORDER BY name",
    );
    const [row] = await this.gw.query<{ count: number; first: number; last: number }>(
      `SELECT count(*) AS count, min(release_at) AS first, max(release_at) AS last FROM ${table?.name ?? "batches"} WHERE status = 'held'`,
    );
    return row ?? { count: 0, first: 0, last: 0 };
  }

  /** Log lines at level warn or above (pino: 40 warn, 50 error, 60 fatal). */
  problems(): Record<string, unknown>[] {
    return this.gw.logLines.filter((l) => typeof l.level === "number" && l.level >= 40);
  }
}
