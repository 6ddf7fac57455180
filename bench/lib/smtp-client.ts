// A small SMTP client for load: one persistent session per connection, MAIL/RCPT/DATA sent in one
// write when the server offers PIPELINING (RFC 2920), latency taken per message by the client from
// MAIL FROM to the reply to the final dot. Also streams one huge message with back-pressure.
import { connect, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";

export interface Reply {
  code: number;
  text: string;
}

export class SmtpSession {
  private buffer = "";
  private lines: string[] = [];
  private readonly ready: Reply[] = [];
  private readonly waiters: { resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | null = null;
  pipelining = false;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on("data", (d: Buffer) => this.onData(d.toString("latin1")));
    socket.on("error", (err) => this.fail(err));
    socket.on("close", () => this.fail(new Error("connection closed")));
  }

  static async open(port: number, ehloName = "bench.client"): Promise<SmtpSession> {
    const socket = connect(port, "127.0.0.1");
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    const session = new SmtpSession(socket);
    const greeting = await session.reply();
    if (greeting.code !== 220) throw new Error(`greeting: ${greeting.code} ${greeting.text}`);
    session.socket.write(`EHLO ${ehloName}\r\n`);
    const ehlo = await session.reply();
    if (ehlo.code !== 250) throw new Error(`EHLO: ${ehlo.code} ${ehlo.text}`);
    session.pipelining = /^PIPELINING$/im.test(ehlo.text);
    return session;
  }

  private onData(text: string): void {
    this.buffer += text;
    let nl: number;
    while ((nl = this.buffer.indexOf("\n")) !== -1) {
      const line = this.buffer.slice(0, nl).replace(/\r$/, "");
      this.buffer = this.buffer.slice(nl + 1);
      this.lines.push(line.slice(4));
      if (line[3] !== "-") {
        const reply = { code: Number(line.slice(0, 3)), text: this.lines.join("\n") };
        this.lines = [];
        const waiter = this.waiters.shift();
        if (waiter) waiter.resolve(reply);
        else this.ready.push(reply);
      }
    }
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  reply(): Promise<Reply> {
    const queued = this.ready.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private async envelope(from: string, to: string): Promise<Reply | null> {
    const commands = [`MAIL FROM:<${from}>\r\n`, `RCPT TO:<${to}>\r\n`, "DATA\r\n"];
    const replies: Reply[] = [];
    if (this.pipelining) {
      this.socket.write(commands.join(""));
      for (let i = 0; i < commands.length; i++) replies.push(await this.reply());
    } else {
      for (const c of commands) {
        this.socket.write(c);
        const r = await this.reply();
        replies.push(r);
        if (r.code >= 400) break;
      }
    }
    const bad = replies.find((r, i) => (i < 2 ? r.code !== 250 : r.code !== 354));
    if (bad) {
      // A pipelined DATA may have been accepted after a refused RCPT only if the server is broken;
      // RSET puts the session back in a known state either way.
      if (replies[2]?.code === 354) {
        this.socket.write(".\r\n");
        await this.reply();
      }
      this.socket.write("RSET\r\n");
      await this.reply();
      return bad;
    }
    return null;
  }

  /** Sends one message whose data is already dot-stuffed and ends with CRLF; returns the final reply and ms. */
  async send(from: string, to: string, data: Buffer[]): Promise<{ reply: Reply; ms: number }> {
    const started = performance.now();
    const refused = await this.envelope(from, to);
    if (refused) return { reply: refused, ms: performance.now() - started };
    this.socket.cork();
    for (const part of data) this.socket.write(part);
    this.socket.write(".\r\n");
    this.socket.uncork();
    const reply = await this.reply();
    return { reply, ms: performance.now() - started };
  }

  /** Streams a message from `chunks` (dot-stuffed, ending with CRLF), waiting for 'drain' as needed. */
  async sendStream(
    from: string,
    to: string,
    chunks: Iterable<Buffer>,
  ): Promise<{ reply: Reply; ms: number; bytes: number }> {
    const started = performance.now();
    const refused = await this.envelope(from, to);
    if (refused) return { reply: refused, ms: performance.now() - started, bytes: 0 };
    let bytes = 0;
    for (const chunk of chunks) {
      if (this.failure) throw this.failure;
      bytes += chunk.length;
      if (!this.socket.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            this.socket.off("drain", done);
            this.socket.off("close", done);
            resolve();
          };
          this.socket.on("drain", done);
          this.socket.on("close", done);
        });
      }
    }
    this.socket.write(".\r\n");
    const reply = await this.reply();
    return { reply, ms: performance.now() - started, bytes };
  }

  async quit(): Promise<void> {
    if (!this.failure) {
      this.socket.write("QUIT\r\n");
      await this.reply().catch(() => undefined);
    }
    this.socket.destroy();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** The body used for the intake benchmark: 5,120 bytes of 80-byte lines (78 characters + CRLF). */
export function fiveKilobyteBody(): Buffer {
  const lines: string[] = [];
  for (let i = 0; i < 64; i++)
    lines.push(
      `${String(i).padStart(2, "0")}${"abcdefghijklmnopqrstuvwxyz0123456789".repeat(3)}`.slice(0, 78),
    );
  return Buffer.from(lines.map((l) => `${l}\r\n`).join(""), "latin1");
}

function simpleHeader(from: string, to: string, n: number, subject = "bench", extra = ""): Buffer {
  return Buffer.from(
    [
      `From: <${from}>`,
      `To: <${to}>`,
      `Subject: ${subject} ${n}`,
      `Date: ${new Date().toUTCString().replace("GMT", "+0000")}`,
      `Message-ID: <bench.${process.pid}.${Date.now()}.${n}@corp.example>${extra ? `\r\n${extra}` : ""}`,
      "",
      "",
    ].join("\r\n"),
    "latin1",
  );
}

export interface LoadOptions {
  port: number;
  sessions: number;
  /** Messages in total, over all sessions. */
  count: number;
  /** No new message is started after this many ms (the run stays bounded even if the server is slow). */
  maxMs: number;
  from: string;
  to: string;
  /** Message n is simpleHeader(from, to, n, subject, headers) followed by this body. */
  body: Uint8Array;
  subject?: string;
  /** More header fields (CRLF-separated, without the last CRLF), e.g. MIME-Version and Content-Type. */
  headers?: string;
}

export interface LoadResult {
  accepted: number;
  refused: number;
  errors: string[];
  seconds: number;
  /** Per accepted message, ms from MAIL FROM to the reply to the final dot. */
  latencies: number[];
}

/**
 * Runs `count` messages over `sessions` persistent sessions, in a worker thread of its own: the
 * benchmark's main thread (polling /proc, reading metrics, its garbage collection) would otherwise
 * delay reading the replies and add its pauses to the server's latency.
 */
export function runLoad(opts: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    // The worker is TypeScript too: it registers tsx's loader before importing it.
    const entry = JSON.stringify(new URL("./load-worker.ts", import.meta.url).href);
    const boot = `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${entry}); })`;
    const worker = new Worker(boot, { eval: true, workerData: opts });
    worker.once("message", (result: LoadResult) => resolve(result));
    worker.once("error", reject);
    worker.once("exit", (code) => code !== 0 && reject(new Error(`load worker exited with ${code}`)));
  });
}

/** runLoad's work, on the calling thread (load-worker.ts). */
export async function runLoadHere(opts: LoadOptions): Promise<LoadResult> {
  const result: LoadResult = { accepted: 0, refused: 0, errors: [], seconds: 0, latencies: [] };
  const body = Buffer.from(opts.body);
  const sessions = await Promise.all(
    Array.from({ length: opts.sessions }, () => SmtpSession.open(opts.port)),
  );
  let next = 0;
  const started = performance.now();
  const deadline = started + opts.maxMs;
  await Promise.all(
    sessions.map(async (session) => {
      try {
        while (next < opts.count && performance.now() < deadline) {
          const n = next++;
          const message = [simpleHeader(opts.from, opts.to, n, opts.subject, opts.headers), body];
          const { reply, ms } = await session.send(opts.from, opts.to, message);
          if (reply.code === 250) {
            result.accepted++;
            result.latencies.push(ms);
          } else {
            result.refused++;
            if (result.errors.length < 5) result.errors.push(`${reply.code} ${reply.text}`);
          }
        }
      } catch (err) {
        if (result.errors.length < 5) result.errors.push((err as Error).message);
      }
    }),
  );
  result.seconds = (performance.now() - started) / 1000;
  await Promise.all(sessions.map((s) => s.quit()));
  return result;
}
