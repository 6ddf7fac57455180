// Reading ZIP containers (archives and OOXML) with @zip.js/zip.js from an in-memory attachment:
// entries listed one at a time from the central directory, each inflated as a stream whose real
// output is counted against the message's expanded-bytes budget (header sizes are not trusted).
import { Uint8ArrayReader, ZipReader, type Entry, type FileEntry } from "@zip.js/zip.js";
import { createInflateRaw } from "node:zlib";
import type { AnalysisContext } from "./context.js";

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if ((bytes[i] as number) >= 0x80) return false;
  return true;
}

/**
 * Names without the UTF-8 flag: UTF-8 when they decode as such (macOS, Java), else Shift_JIS —
 * what Windows' built-in "Send to compressed folder" writes on a Japanese system.
 */
export function decodeZipName(bytes: Uint8Array): string {
  if (isAscii(bytes)) return Buffer.from(bytes).toString("latin1");
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder("shift_jis").decode(bytes);
  }
}

export function openZip(data: Uint8Array): ZipReader<unknown> {
  return new ZipReader(new Uint8ArrayReader(data), {
    useWebWorkers: false,
    // names that would escape an extraction directory are listed and reported, not refused
    filenameValidation: "tolerant",
    decodeText: (value, _encoding, type) => (type === "filename" ? decodeZipName(value) : undefined),
  });
}

/** Up to `max` entries (directories included); `more` when the archive holds others. */
export async function listEntries(
  reader: ZipReader<unknown>,
  max: number,
  ctx: AnalysisContext,
): Promise<{ entries: Entry[]; more: boolean }> {
  const entries: Entry[] = [];
  for await (const entry of reader.getEntriesGenerator()) {
    ctx.check();
    if (entries.length >= max) return { entries, more: true };
    entries.push(entry);
  }
  return { entries, more: false };
}

const CHUNK = 256 * 1024;

/** Where the data of `entry` starts in `zip`, from its local header; -1 when the header is not there. */
function dataStart(zip: Uint8Array, entry: FileEntry): number {
  const at = entry.offset;
  if (!Number.isSafeInteger(at) || at < 0 || at + 30 > zip.length) return -1;
  const view = Buffer.from(zip.buffer, zip.byteOffset, zip.length);
  if (view.readUInt32LE(at) !== 0x04034b50) return -1;
  return at + 30 + view.readUInt16LE(at + 26) + view.readUInt16LE(at + 28);
}

/**
 * Inflates one entry of `zip`, handing each chunk to `onChunk`; every byte counts against the
 * message's maxExpandedBytes (ExpandedLimit is thrown past it, whatever the headers claim).
 * `onChunk` may throw to stop reading early. Stored and deflated entries go through node:zlib
 * (several times faster than web streams); other methods (Deflate64, …) through zip.js.
 */
export async function inflate(
  zip: Uint8Array,
  entry: FileEntry,
  ctx: AnalysisContext,
  onChunk: (chunk: Uint8Array) => void,
): Promise<number> {
  let bytes = 0;
  const take = (chunk: Uint8Array) => {
    ctx.check();
    ctx.expand(chunk.length);
    bytes += chunk.length;
    onChunk(chunk);
  };
  const start = dataStart(zip, entry);
  const method = entry.compressionMethod;
  if (start >= 0 && (method === 0 || method === 8)) {
    const raw = zip.subarray(start, start + entry.compressedSize);
    if (raw.length < entry.compressedSize) throw new Error("entry data runs past the end of the archive");
    if (method === 0) {
      for (let i = 0; i < raw.length; i += CHUNK) take(raw.subarray(i, i + CHUNK));
      return bytes;
    }
    await new Promise<void>((resolve, reject) => {
      const inflater = createInflateRaw({ chunkSize: CHUNK });
      inflater.on("data", (chunk: Buffer) => {
        try {
          take(chunk);
        } catch (err) {
          inflater.destroy();
          reject(err as Error);
        }
      });
      inflater.on("end", resolve);
      inflater.on("error", reject);
      inflater.end(raw);
    });
    return bytes;
  }
  const sink = new WritableStream<Uint8Array>({ write: take });
  await entry.getData(sink, { signal: ctx.signal, useWebWorkers: false });
  return bytes;
}

/** An entry name that would escape the extraction directory ("zip slip") or is absolute. */
export function unsafePath(name: string): boolean {
  const n = name.replace(/\\/g, "/");
  return n.startsWith("/") || /^[a-zA-Z]:/.test(n) || n.split("/").includes("..");
}
