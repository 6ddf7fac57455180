// Runs the content analysis (analyze.ts) for intake: a small message on this thread, a larger one
// in a pool of worker threads (piscina, analyze-worker.ts), so that pdf.js, OOXML and ZIP work on
// a large attachment no longer holds up every SMTP session. What all analyses in progress hold is
// bounded together (analysis.maxBytesInFlight): beyond it a message waits for its turn, in order.
// A thread that fails, or does not answer in time, yields an incomplete result, never an error:
// the message is still taken in, and the policy decides what an incomplete analysis means.
import { Piscina } from "piscina";
import type { Logger } from "../log.js";
import { DEFAULT_ANALYZE_LIMITS, type AnalyzeLimits, type MessageFacts } from "./analyze.js";
import analyzeTask, { type AnalyzeTask } from "./analyze-worker.js";
import { PROBLEM_TIMEOUT, errorText } from "./extract/context.js";

/**
 * Messages up to this size are analysed on the calling thread. Measured here (2 cores, shared;
 * this thread's time per message on this thread / handed to a thread, and the hand-off's wait):
 * 5 KB text 0.7–1.0 / 0.3–0.55 ms + 1.6–3.6 ms; 75 KB text 0.9–1.3 / 0.5–1.1 ms; a 90 KB
 * message with an .xlsx 26–31 / 2.3 ms; 80 KB with a PDF 126–131 / 1.6–1.8 ms. Below this size
 * the hand-off saves this thread less than the thread spends in addition (on the same 2 cores)
 * and each message waits milliseconds longer; documents are what costs, and they are larger.
 */
export const POOL_MIN_BYTES = 64 * 1024;

/**
 * How long a thread may take before it is stopped: the analysis' own time limit and half as much
 * again (at least 1 s). Within its limit an analysis returns what it found itself (problems:
 * timeout); past this the thread is stuck in a step that does not look at the time.
 */
function stuckAfterMs(limits: AnalyzeLimits): number {
  return limits.timeoutMs + Math.max(1000, limits.timeoutMs / 2);
}

export interface AnalyzerOptions {
  /** Message bytes under analysis at once, summed (a larger message runs alone). */
  maxBytesInFlight: number;
  /** Worker threads at most; started when needed, stopped when idle. */
  threads: number;
  limits?: AnalyzeLimits;
  log: Logger;
  /** Messages up to this size are analysed on the calling thread; default POOL_MIN_BYTES. */
  poolMinBytes?: number;
  /** The threads' task module; default analyze-worker (tests: one that fails or hangs). */
  workerFile?: URL;
}

export type AnalysisSource = AnalyzeTask["source"];

/** Hands out `capacity` units in order of asking; a request for more than there is waits for all. */
export class WeightedSemaphore {
  private available: number;
  private readonly waiting: { units: number; grant: () => void }[] = [];

  constructor(readonly capacity: number) {
    this.available = capacity;
  }

  /** Resolves once `units` (at most the capacity) are held; give them back with release(). */
  acquire(units: number): Promise<number> {
    const n = Math.min(units, this.capacity);
    if (!this.waiting.length && n <= this.available) {
      this.available -= n;
      return Promise.resolve(n);
    }
    return new Promise((resolve) => this.waiting.push({ units: n, grant: () => resolve(n) }));
  }

  release(units: number): void {
    this.available += units;
    for (let next = this.waiting[0]; next && next.units <= this.available; next = this.waiting[0]) {
      this.waiting.shift();
      this.available -= next.units;
      next.grant();
    }
  }

  get queued(): number {
    return this.waiting.length;
  }
}

class ThreadStuck extends Error {
  constructor(ms: number) {
    super(`analysis thread stopped after ${ms} ms without an answer`);
    this.name = "ThreadStuck";
  }
}

export class Analyzer {
  readonly bytes: WeightedSemaphore;
  /** One task per thread, so the time limit counts from the task's start, not from its wait. */
  private readonly slots: WeightedSemaphore;
  private readonly pool: Piscina<AnalyzeTask, MessageFacts>;
  private readonly limits: AnalyzeLimits;
  private readonly poolMinBytes: number;
  private readonly log: Logger;

  constructor(options: AnalyzerOptions) {
    this.limits = options.limits ?? { ...DEFAULT_ANALYZE_LIMITS };
    this.bytes = new WeightedSemaphore(options.maxBytesInFlight);
    this.slots = new WeightedSemaphore(options.threads);
    this.poolMinBytes = options.poolMinBytes ?? POOL_MIN_BYTES;
    this.log = options.log;
    // Under tsx (the tests) this module is .ts, and so is the worker's; piscina's own worker
    // script loads it through the loader the thread inherits from this process (--import tsx).
    const extension = import.meta.url.endsWith(".ts") ? "ts" : "js";
    const workerFile = options.workerFile ?? new URL(`./analyze-worker.${extension}`, import.meta.url);
    this.pool = new Piscina({
      filename: workerFile.href,
      minThreads: 0,
      maxThreads: options.threads,
      idleTimeout: 60_000,
      // The event loop of a thread keeps running between tasks: an analysis abandoned at its own
      // time limit stops at its next check and frees what it held.
      atomics: "disabled",
      recordTiming: false,
    });
  }

  /**
   * The facts of stored message `id` of `size` bytes. Never rejects: a failure is an incomplete
   * result, logged.
   */
  async analyze(id: string, source: AnalysisSource, size: number): Promise<MessageFacts> {
    const held = await this.bytes.acquire(size);
    try {
      if (size <= this.poolMinBytes) return await analyzeTask({ source, limits: this.limits });
      return await this.inThread(source);
    } catch (err) {
      const stuck = err instanceof ThreadStuck;
      this.log.warn({ msg_id: id, err }, stuck ? "analysis thread stopped: stuck" : "analysis failed");
      return stuck
        ? { bodyText: "", attachments: [], problems: [PROBLEM_TIMEOUT, err.message] }
        : { bodyText: "", attachments: [], problems: [`analysis failed: ${errorText(err)}`] };
    } finally {
      this.bytes.release(held);
    }
  }

  private async inThread(source: AnalysisSource): Promise<MessageFacts> {
    const slot = await this.slots.acquire(1);
    const stuck = new AbortController();
    const after = stuckAfterMs(this.limits);
    const timer = setTimeout(() => stuck.abort(), after);
    try {
      return await this.pool.run({ source, limits: this.limits }, { signal: stuck.signal });
    } catch (err) {
      throw stuck.signal.aborted ? new ThreadStuck(after) : err;
    } finally {
      clearTimeout(timer);
      this.slots.release(slot);
    }
  }

  /** Stops the threads; analyses in progress end as incomplete. */
  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
