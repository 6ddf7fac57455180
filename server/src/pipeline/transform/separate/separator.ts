// Runs separations, encrypted ZIPs and encrypted-ZIP rewrites (separate-worker.ts) in a pool of
// worker threads (piscina), as the analyzer does: a 100 MB attachment is decoded, hashed, zipped
// and written without holding up SMTP sessions. One pool for all three, not a ZIP pool beside it:
// each thread costs the process 30–40 MB of RSS (its isolate, its malloc arena, the chunks its
// garbage collector has not yet freed), and a ZIP copy needs the three steps one after the other.
import { rm } from "node:fs/promises";
import { Piscina } from "piscina";
import { STREAMING_THREAD_LIMITS } from "../../../thread-limits.js";
import { SeparationError } from "./errors.js";
import type {
  SeparateFileAnswer,
  SeparateFileResult,
  SeparateFileTask,
  SeparationRefusal,
} from "./separate-worker.js";
import type { ReplaceWithZipTask } from "./zip-part.js";
import { ZipError, type EncryptedZipRequest, type EncryptedZipResult } from "../zip/index.js";
import type { ZipTaskResult } from "../zip/task.js";

type Task = SeparateFileTask | ReplaceWithZipTask | EncryptedZipRequest;
type Answer = SeparateFileAnswer | { ok: null } | SeparationRefusal | ZipTaskResult;

/** The answer's value, or its refusal as the SeparationError it was in the thread. */
function unwrap<T>(answer: { ok: T } | SeparationRefusal): T {
  if ("refused" in answer) throw new SeparationError(answer.refused.code, answer.refused.message);
  return answer.ok;
}

export interface SeparatorOptions {
  /** Worker threads at most; started when needed, stopped after a minute idle. Default 1. */
  threads?: number;
}

export class Separator {
  private readonly pool: Piscina<Task, Answer>;

  constructor(options: SeparatorOptions = {}) {
    // under tsx (tests, bench) this module and its worker are .ts, loaded through the loader the
    // thread inherits from this process (--import tsx)
    const extension = import.meta.url.endsWith(".ts") ? "ts" : "js";
    this.pool = new Piscina({
      filename: new URL(`./separate-worker.${extension}`, import.meta.url).href,
      minThreads: 0,
      maxThreads: options.threads ?? 1,
      idleTimeout: 60_000,
      resourceLimits: STREAMING_THREAD_LIMITS,
      atomics: "disabled",
      recordTiming: false,
    });
  }

  /**
   * Separates one message file. A SeparationError (signed_or_encrypted, limits …) keeps its code
   * across the thread boundary; the output files of a failed task are incomplete.
   */
  async separateFile(task: SeparateFileTask): Promise<SeparateFileResult> {
    return unwrap((await this.pool.run(task)) as SeparateFileAnswer);
  }

  /** Writes the encrypted-ZIP copy of a message (zip-part.ts) on a thread. */
  async replaceWithZip(task: ReplaceWithZipTask): Promise<void> {
    unwrap((await this.pool.run(task, { name: "replaceWithZip" })) as { ok: null } | SeparationRefusal);
  }

  /** Writes the archive on a thread; rejects with a ZipError naming what was wrong, leaving no file. */
  async zip(request: EncryptedZipRequest): Promise<EncryptedZipResult> {
    let result: ZipTaskResult;
    try {
      result = (await this.pool.run(request, { name: "zip" })) as ZipTaskResult;
    } catch (err) {
      // Not a ZipError, so the thread had created the output (writer.ts: openOutput) and then died
      // or was stopped (close()) before it could remove it.
      await rm(request.outputPath, { force: true });
      throw err;
    }
    if ("error" in result) throw new ZipError(result.error.code, result.error.message);
    return result.ok;
  }

  /** Stops the threads; the work under way fails (a ZIP being written leaves no file). */
  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
