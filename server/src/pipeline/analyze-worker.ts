// A thread of the analysis pool (analyzer.ts, piscina): analyses one stored message, read here
// from its spool file or from the bytes handed over, and returns its facts.
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { analyzeMessage, type AnalyzeLimits, type MessageFacts } from "./analyze.js";

export interface AnalyzeTask {
  /** The spool file, or the whole message when it is kept in memory (a small one). */
  source: { file: string } | { bytes: Uint8Array };
  limits: AnalyzeLimits;
}

export default function analyzeTask({ source, limits }: AnalyzeTask): Promise<MessageFacts> {
  const stream =
    "file" in source
      ? createReadStream(source.file, { highWaterMark: 64 * 1024 })
      : Readable.from([Buffer.from(source.bytes.buffer, source.bytes.byteOffset, source.bytes.byteLength)], {
          objectMode: false,
        });
  return analyzeMessage(stream, limits);
}
