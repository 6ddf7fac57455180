// Encrypted ZIP archives of attachments (AES-256 by default, ZipCrypto for Windows Explorer), written
// on worker threads: AES, HMAC, deflate and CRC grow with the files and stay off the event loop.
import { rm } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { Piscina } from "piscina";
import { STREAMING_THREAD_LIMITS } from "../../../thread-limits.js";
import { ZipError, type EncryptedZipRequest, type EncryptedZipResult } from "./writer.js";
import type { ZipTaskResult } from "./zip-worker.js";

export {
  DEFAULT_DEFLATE_LEVEL,
  ZipError,
  writeEncryptedZip,
  type EncryptedZipRequest,
  type EncryptedZipResult,
  type ZipEncryption,
  type ZipEntryInfo,
  type ZipErrorCode,
  type ZipInputFile,
} from "./writer.js";

export interface ZipWorkersOptions {
  /** Threads at most, started when needed; default half the cores, at least 1 (mail is served too). */
  threads?: number;
  /** A thread idle this long is stopped; default 30 s. */
  idleTimeoutMs?: number;
}

export class ZipWorkers {
  private readonly pool: Piscina<EncryptedZipRequest, ZipTaskResult>;

  constructor(options: ZipWorkersOptions = {}) {
    // Under tsx (the tests) this module is .ts, and so is the worker's; the thread loads it through
    // the loader it inherits from this process (--import tsx).
    const extension = import.meta.url.endsWith(".ts") ? "ts" : "js";
    this.pool = new Piscina({
      filename: new URL(`./zip-worker.${extension}`, import.meta.url).href,
      minThreads: 0,
      maxThreads: options.threads ?? Math.max(1, Math.floor(availableParallelism() / 2)),
      idleTimeout: options.idleTimeoutMs ?? 30_000,
      resourceLimits: STREAMING_THREAD_LIMITS,
      recordTiming: false,
    });
  }

  /** Writes the archive on a thread; rejects with a ZipError naming what was wrong, leaving no file. */
  async run(request: EncryptedZipRequest): Promise<EncryptedZipResult> {
    let result: ZipTaskResult;
    try {
      result = await this.pool.run(request);
    } catch (err) {
      // Not a ZipError, so the thread had created the output (writer.ts: openOutput) and then died
      // or was stopped (close()) before it could remove it.
      await rm(request.outputPath, { force: true });
      throw err;
    }
    if ("error" in result) throw new ZipError(result.error.code, result.error.message);
    return result.ok;
  }

  /** Stops the threads; archives being written fail and their partial files are removed. */
  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

let shared: ZipWorkers | undefined;

/**
 * Writes an encrypted ZIP of `request.files` at `request.outputPath` on the process's shared pool
 * (ZipWorkers with its defaults, made on first use; idle threads do not keep the process alive).
 */
export function createEncryptedZip(request: EncryptedZipRequest): Promise<EncryptedZipResult> {
  shared ??= new ZipWorkers();
  return shared.run(request);
}
