// Relay targets for the benchmarks. CountingSink (smtp-server, in this process) keeps no message
// data: it counts bytes and records when each message arrived and for whom. SmtpSinkProcess runs
// Postfix's smtp-sink, which throws everything away, in a separate process (no CPU taken from the
// load client in this process).
import { spawn, type ChildProcess } from "node:child_process";
import { connect } from "node:net";
import { performance } from "node:perf_hooks";
import { SMTPServer } from "smtp-server";
import { freePort, onExit, poll } from "./util.js";

export interface Arrival {
  to: string[];
  bytes: number;
  /** performance.now() when the final dot was read. */
  at: number;
  /** Date.now() at the same moment (to compare with times the gateway stored). */
  wall: number;
  /** The message itself, when the sink keeps messages this small (CountingSink's keepUpTo). */
  raw?: Buffer;
}

export class CountingSink {
  readonly arrivals: Arrival[] = [];
  private server: SMTPServer | null = null;
  port = 0;

  /** keepUpTo: messages of at most this many bytes are kept whole (notices, links); default none. */
  constructor(private readonly options: { keepUpTo?: number } = {}) {}

  async start(): Promise<this> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS", "AUTH"],
      disableReverseLookup: true,
      logger: false,
      size: 0,
      maxClients: 1000,
      onData: (stream, session, cb) => {
        let bytes = 0;
        const keepUpTo = this.options.keepUpTo ?? 0;
        const kept: Buffer[] = [];
        stream.on("data", (c: Buffer) => {
          bytes += c.length;
          if (bytes <= keepUpTo) kept.push(c);
        });
        stream.on("end", () => {
          this.arrivals.push({
            to: session.envelope.rcptTo.map((r) => r.address),
            bytes,
            at: performance.now(),
            wall: Date.now(),
            ...(bytes <= keepUpTo ? { raw: Buffer.concat(kept) } : {}),
          });
          cb();
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    this.server = server;
    const address = server.server.address();
    this.port = typeof address === "object" && address ? address.port : 0;
    return this;
  }

  /** Arrivals for one recipient. */
  to(address: string): Arrival[] {
    return this.arrivals.filter((a) => a.to.includes(address));
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}

export class SmtpSinkProcess {
  private child: ChildProcess | null = null;
  private release: () => void = () => undefined;
  port = 0;

  async start(): Promise<this> {
    this.port = await freePort();
    // As root smtp-sink must drop privileges (-u); -m raises the simultaneous-connection cap.
    const child = spawn(
      "/usr/sbin/smtp-sink",
      ["-u", "nobody", "-m", "1000", `127.0.0.1:${this.port}`, "1000"],
      {
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    this.child = child;
    this.release = onExit(() => child.kill("SIGKILL"));
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const up = await poll(
      () =>
        new Promise<boolean>((resolve) => {
          const s = connect(this.port, "127.0.0.1");
          s.once("connect", () => {
            s.destroy();
            resolve(true);
          });
          s.once("error", () => resolve(false));
        }),
      5000,
      50,
    );
    if (!up) throw new Error(`smtp-sink did not start on ${this.port}: ${stderr}`);
    return this;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    this.release();
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }
}
