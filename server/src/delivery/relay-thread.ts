// Everything the gateway relays — released messages and notices — goes out from a thread of its
// own (relay-worker.ts), over that thread's pooled connections to the next hop. Relaying is an
// SMTP client session (dot-stuffing every byte) plus, with DKIM, hashing the whole body and an RSA
// signature: on the main thread that work grows with the message and competed with every SMTP
// session being accepted. Measured with a DKIM key, 10 sessions: notices alone 345–540 msgs/s
// signed there, 740–958 from this thread; for released mail see the intake bench's DKIM rows.
// The main thread hands over where the stored message is (outgoing.ts), not its bytes.
//
// One thread, not a pool: it waits on the network far more than it computes, and one connection
// pool to the smarthost keeps relay.maxConnections meaningful.
import { once } from "node:events";
import { Worker } from "node:worker_threads";
import type { Config } from "../config/schema.js";
import { STREAMING_THREAD_LIMITS } from "../thread-limits.js";
import type { RecipientResult } from "../store/types.js";
import type { OutgoingMessage } from "./outgoing.js";
import { describeRelay, type Envelope, type SendOptions } from "./relay.js";

/** What sends a message written whole (a notice). */
export interface BufferRelay {
  send(envelope: Envelope, message: Buffer, options: SendOptions): Promise<RecipientResult[]>;
}

/** What delivers a stored message (the scheduler's deliveries). */
export interface MessageRelay {
  readonly description: string;
  deliver(envelope: Envelope, message: OutgoingMessage, options: SendOptions): Promise<RecipientResult[]>;
}

export type RelayThreadRequest =
  | { type: "send"; id: number; envelope: Envelope; message: Uint8Array; options: SendOptions }
  | { type: "deliver"; id: number; envelope: Envelope; message: OutgoingMessage; options: SendOptions }
  | { type: "close" };

export type RelayThreadReply = { id: number; results: RecipientResult[] } | { id: number; error: string };

/** How long close() waits for sends in flight before it stops the thread, unless told otherwise. */
const CLOSE_TIMEOUT_MS = 5000;

/**
 * The thread, running relay-worker.js beside this module; relay-worker.ts when this module runs
 * from TypeScript (the unit tests, under tsx), whose loader a worker does not inherit.
 */
function startThread(config: Config): Worker {
  if (!import.meta.url.endsWith(".ts"))
    return new Worker(new URL("./relay-worker.js", import.meta.url), {
      workerData: config,
      resourceLimits: STREAMING_THREAD_LIMITS,
    });
  const entry = JSON.stringify(new URL("./relay-worker.ts", import.meta.url).href);
  const boot = `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${entry}); })`;
  return new Worker(boot, { eval: true, workerData: config, resourceLimits: STREAMING_THREAD_LIMITS });
}

export class RelayThread implements BufferRelay, MessageRelay {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, { to: string[]; resolve: (r: RecipientResult[]) => void }>();
  private nextId = 0;

  /** `config` goes to the thread, which makes its relay from it (relay.url, DKIM cache dir, …). */
  constructor(private readonly config: Config) {}

  get description(): string {
    return describeRelay(this.config);
  }

  /**
   * Never rejects: when the thread fails, every recipient of what it had in hand gets a "retry"
   * outcome, so the mail is tried again later (and a new thread is started for it).
   */
  send(envelope: Envelope, message: Buffer, options: SendOptions): Promise<RecipientResult[]> {
    return this.request(envelope.to, (id) => ({ type: "send", id, envelope, message, options }));
  }

  /** As send(), for a stored message: the thread reads it from its spool file or the bytes given. */
  deliver(envelope: Envelope, message: OutgoingMessage, options: SendOptions): Promise<RecipientResult[]> {
    return this.request(envelope.to, (id) => ({ type: "deliver", id, envelope, message, options }));
  }

  private request(to: string[], make: (id: number) => RelayThreadRequest): Promise<RecipientResult[]> {
    const worker = this.worker ?? this.start();
    const id = ++this.nextId;
    return new Promise((resolve) => {
      this.pending.set(id, { to, resolve });
      worker.postMessage(make(id));
    });
  }

  /**
   * Lets the sends in flight finish (for at most `waitMs`), then stops the thread. What it still
   * had in hand then gets "retry" outcomes, as when the thread fails.
   */
  async close(waitMs = CLOSE_TIMEOUT_MS): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    const exited = once(worker, "exit");
    const request: RelayThreadRequest = { type: "close" };
    worker.postMessage(request);
    const timer = setTimeout(() => void worker.terminate(), waitMs);
    await exited;
    clearTimeout(timer);
  }

  private start(): Worker {
    const worker = startThread(this.config);
    worker.on("message", (reply: RelayThreadReply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      waiting.resolve("results" in reply ? reply.results : retryAll(waiting.to, reply.error));
    });
    worker.on("error", (err) => this.lost(worker, `the relay thread failed: ${err.message}`));
    worker.on("exit", (code) => this.lost(worker, `the relay thread stopped (exit code ${code})`));
    this.worker = worker;
    return worker;
  }

  private lost(worker: Worker, why: string): void {
    if (this.worker !== worker) return;
    this.worker = null;
    for (const { to, resolve } of this.pending.values()) resolve(retryAll(to, why));
    this.pending.clear();
  }
}

function retryAll(to: string[], response: string): RecipientResult[] {
  return to.map((address) => ({ address, outcome: "retry", response }));
}
