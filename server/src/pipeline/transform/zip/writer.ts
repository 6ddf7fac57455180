// Writes one encrypted ZIP file, streaming each input file through CRC, deflate (when it pays) and
// encryption into the output, a chunk at a time. This is CPU work that grows with the files: call
// it on a worker thread (index.ts does), not on an event loop that serves mail.
import { open, rm, type FileHandle } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { crc32, createDeflateRaw, deflateRawSync } from "node:zlib";
import { isCompressed, MAGIC_BYTES } from "./compressed.js";
import { uniqueEntryNames } from "./names.js";
import {
  LOCAL_SIZES_AT,
  MAX_32,
  MAX_ENTRIES,
  METHOD_DEFLATED,
  METHOD_STORED,
  centralHeader,
  dataDescriptor,
  dosDateTime,
  endRecord,
  localHeader,
  sizes,
  timestampExtra,
  type EntryFields,
} from "./records.js";
import { SCHEMES, type Scheme, type ZipEncryption } from "./schemes.js";

export type { ZipEncryption } from "./schemes.js";

export interface ZipInputFile {
  /** The file to read; it must stay as it is until the archive is written. */
  path: string;
  /** Its name in the archive, made harmless and unique (names.ts) before it is written. */
  name: string;
  /** Modification time to record; default the file's own (its mtime). */
  modifiedAt?: Date;
}

export interface EncryptedZipRequest {
  files: readonly ZipInputFile[];
  /** Non-empty. ZipCrypto takes its UTF-8 bytes: only an ASCII password opens in every tool. */
  password: string;
  /** Default "aes256" (WinZip AE-2); "zipcrypto" for Windows Explorer, which cannot open AES. */
  encryption?: ZipEncryption;
  /** Created here; an existing file is an error, never overwritten. Removed again on any failure. */
  outputPath: string;
  /** zlib level of deflated entries, 1–9; default 6 (zlib's and Info-ZIP's default). */
  deflateLevel?: number;
}

export interface ZipEntryInfo {
  /** The name as written into the archive. */
  name: string;
  /** Bytes of the input file. */
  size: number;
  /** Bytes of the entry's data in the archive, encryption header and trailer included. */
  compressedSize: number;
  /** Stored as it is (already compressed, or deflating did not make it smaller) rather than deflated. */
  stored: boolean;
}

export interface EncryptedZipResult {
  /** Bytes of the archive. */
  size: number;
  entries: ZipEntryInfo[];
}

export type ZipErrorCode =
  | "bad_request"
  | "too_many_files"
  | "file_too_large"
  | "archive_too_large"
  | "file_unreadable"
  | "file_changed"
  | "output_unwritable";

/** A request the writer refuses, or an input file it cannot archive; `code` says which. */
export class ZipError extends Error {
  constructor(
    readonly code: ZipErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "ZipError";
  }
}

export const DEFAULT_DEFLATE_LEVEL = 6;

/** Bytes read from an input file at a time. */
const CHUNK_BYTES = 1024 * 1024;

/**
 * Bytes deflated as a probe before deflating a whole file that is not known to be compressed. Measured
 * here: zlib deflates random data at 27–30 MB/s, so an unrecognised 50 MB incompressible file costs
 * 1.8 s to deflate in full and ~9 ms to probe; deflate's 32 KiB window makes 256 KiB a fair sample.
 */
const PROBE_BYTES = 256 * 1024;

/**
 * Deflating must save this share of the probe to be chosen: a file that shrinks less is not worth
 * deflating at a tenth of the speed of storing. A probe that guessed wrong is caught afterwards: an
 * entry whose deflated data is not smaller than the file is written again, stored.
 */
const MIN_PROBE_SAVING = 0.05;

function check(request: EncryptedZipRequest): { scheme: Scheme; level: number } {
  const { files, password, deflateLevel = DEFAULT_DEFLATE_LEVEL } = request;
  const scheme = SCHEMES[request.encryption ?? "aes256"];
  if (!scheme)
    throw new ZipError(
      "bad_request",
      `unknown encryption "${String(request.encryption)}": aes256 or zipcrypto`,
    );
  if (typeof password !== "string" || password.length === 0)
    throw new ZipError("bad_request", "the password is empty");
  if (!Number.isInteger(deflateLevel) || deflateLevel < 1 || deflateLevel > 9)
    throw new ZipError("bad_request", `deflateLevel ${deflateLevel} is not an integer from 1 to 9`);
  if (files.length === 0) throw new ZipError("bad_request", "no files to archive");
  if (files.length > MAX_ENTRIES)
    throw new ZipError(
      "too_many_files",
      `${files.length} files: a ZIP without ZIP64 holds at most ${MAX_ENTRIES}`,
    );
  for (const [i, file] of files.entries()) {
    if (typeof file.path !== "string" || typeof file.name !== "string")
      throw new ZipError("bad_request", `file ${i + 1}: path and name must be strings`);
    if (
      file.modifiedAt !== undefined &&
      !(file.modifiedAt instanceof Date && Number.isFinite(file.modifiedAt.getTime()))
    )
      throw new ZipError("bad_request", `file ${i + 1} (${file.name}): modifiedAt is not a valid date`);
  }
  return { scheme, level: deflateLevel };
}

/** Creates the output. Failing here leaves nothing behind, and is a ZipError so callers can tell. */
async function openOutput(path: string): Promise<FileHandle> {
  try {
    return await open(path, "wx");
  } catch (err) {
    throw new ZipError("output_unwritable", `cannot create ${path}: ${(err as Error).message}`);
  }
}

async function writeFully(out: FileHandle, data: Buffer, position: number): Promise<void> {
  for (let done = 0; done < data.length;) {
    const { bytesWritten } = await out.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

/**
 * Writes that may be under way at once. Writing behind lets the thread encrypt the next chunk while
 * the last one goes to disk (syscalls are slow in this sandbox: the thread was idle half the time
 * when each write was awaited); each holds its chunk until done.
 */
const WRITES_IN_FLIGHT = 2;

/** The output file and where the next byte goes; refuses to pass what 32-bit offsets can address. */
class Output {
  position = 0;
  private readonly writing: Promise<void>[] = [];

  constructor(readonly handle: FileHandle) {}

  /**
   * Queues `data` at the end; resolves once no more than WRITES_IN_FLIGHT writes are under way.
   * `written` is called when `data` is on its way to disk and may be reused.
   */
  async append(data: Buffer, written?: (data: Buffer) => void): Promise<void> {
    if (this.position + data.length > MAX_32)
      throw new ZipError(
        "archive_too_large",
        "the archive would reach 4 GiB, which needs ZIP64 (not supported)",
      );
    const write = writeFully(this.handle, data, this.position).then(() => written?.(data));
    // Awaited below or in flush(); until then a failure must not count as unhandled.
    write.catch(() => undefined);
    this.writing.push(write);
    this.position += data.length;
    if (this.writing.length >= WRITES_IN_FLIGHT) await this.writing.shift();
  }

  /** Waits for every queued write; rejects if one failed. */
  async flush(): Promise<void> {
    await Promise.all(this.writing.splice(0));
  }

  /** Overwrites bytes already written (a local header's sizes). */
  async patch(data: Buffer, at: number): Promise<void> {
    await this.flush();
    await writeFully(this.handle, data, at);
  }

  /** Cuts the file back to `to`, to write from there again. */
  async rewind(to: number): Promise<void> {
    await this.flush();
    await this.handle.truncate(to);
    this.position = to;
  }

  /** Waits for what is under way, failed or not, so the file can be closed and removed. */
  async settle(): Promise<void> {
    await Promise.allSettled(this.writing.splice(0));
  }
}

/**
 * Chunk buffers given back once written, for the next reads of a stored entry. A fresh 1 MiB buffer
 * costs ~3 ms here in page faults (the sandbox's), ten times reading a MiB into a buffer in use.
 */
class ChunkBuffers {
  private readonly free: ArrayBuffer[] = [];

  take(): ArrayBuffer {
    return this.free.pop() ?? new ArrayBuffer(CHUNK_BYTES);
  }

  /** Takes back a chunk read into a buffer of take(). */
  give = (chunk: Buffer): void => {
    this.free.push(chunk.buffer as ArrayBuffer);
  };
}

interface Input {
  handle: FileHandle;
  size: number;
  modifiedAt: Date;
  /** For messages: the entry's name and the file's path. */
  label: string;
}

async function openInput(file: ZipInputFile, name: string): Promise<Input> {
  const label = `"${name}" (${file.path})`;
  let handle: FileHandle;
  try {
    handle = await open(file.path, "r");
  } catch (err) {
    throw new ZipError("file_unreadable", `cannot open ${label}: ${(err as Error).message}`);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new ZipError("file_unreadable", `${label} is not a regular file`);
    if (stat.size > MAX_32)
      throw new ZipError(
        "file_too_large",
        `${label} has ${stat.size} bytes: 4 GiB and more needs ZIP64 (not supported)`,
      );
    return { handle, size: stat.size, modifiedAt: file.modifiedAt ?? stat.mtime, label };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/**
 * The file's bytes, exactly its size as opened: a file that shrinks or grows is an error. With
 * `buffers`, chunks are read into its buffers, for the consumer to give back.
 */
async function* readChunks(input: Input, buffers?: ChunkBuffers): AsyncGenerator<Buffer> {
  const readAt = (at: number): Promise<Buffer> => {
    const want = Math.min(CHUNK_BYTES, input.size - at);
    const into = buffers ? Buffer.from(buffers.take(), 0, want) : Buffer.allocUnsafe(want);
    const read = input.handle.read(into, 0, want, at);
    const chunk = read.then(({ bytesRead, buffer }) => buffer.subarray(0, bytesRead));
    // Awaited in the loop, unless the consumer stopped first (its error is the one reported).
    chunk.catch(() => undefined);
    return chunk;
  };
  let at = 0;
  let next = input.size > 0 ? readAt(0) : null;
  while (next) {
    const chunk = await next;
    if (chunk.length === 0) throw new ZipError("file_changed", `${input.label} shrank while being archived`);
    at += chunk.length;
    // Read ahead: the next chunk comes from disk while this one is deflated and encrypted.
    next = at < input.size ? readAt(at) : null;
    yield chunk;
  }
  const { bytesRead } = await input.handle.read(Buffer.alloc(1), 0, 1, input.size);
  if (bytesRead !== 0) throw new ZipError("file_changed", `${input.label} grew while being archived`);
}

async function readHead(input: Input, bytes: number): Promise<Buffer> {
  const head = Buffer.alloc(Math.min(bytes, input.size));
  const { bytesRead } = await input.handle.read(head, 0, head.length, 0);
  return head.subarray(0, bytesRead);
}

/** Whether to deflate: not for a file known to be compressed, nor for one whose first bytes hardly shrink. */
async function worthDeflating(input: Input, name: string, level: number): Promise<boolean> {
  const probe = await readHead(input, Math.max(PROBE_BYTES, MAGIC_BYTES));
  if (probe.length === 0 || isCompressed(name, probe.subarray(0, MAGIC_BYTES))) return false;
  return deflateRawSync(probe, { level }).length <= probe.length * (1 - MIN_PROBE_SAVING);
}

interface EntryPlan {
  name: string;
  nameBytes: Buffer;
  input: Input;
  scheme: Scheme;
  password: string;
  level: number;
  buffers: ChunkBuffers;
}

/** Writes one entry at the output's position: its local header, data and descriptor or patched sizes. */
async function writeEntry(
  out: Output,
  plan: EntryPlan,
  stored: boolean,
): Promise<{ central: Buffer; compressedSize: number }> {
  const { input, scheme } = plan;
  const offset = out.position;
  const realMethod = stored ? METHOD_STORED : METHOD_DEFLATED;
  const fields: EntryFields = {
    versionNeeded: scheme.versionNeeded,
    flags: scheme.flags,
    method: scheme.method(realMethod),
    ...dosDateTime(input.modifiedAt),
    crc: 0,
    compressedSize: 0,
    size: 0,
    name: plan.nameBytes,
  };
  const extra = Buffer.concat([timestampExtra(input.modifiedAt), scheme.extra(realMethod)]);
  await out.append(localHeader(fields, extra));
  const dataStart = out.position;
  const encryptor = scheme.encryptor(plan.password, fields.dosTime);
  await out.append(encryptor.header);

  let crc = 0;
  async function* checksummed(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      if (scheme.crc) crc = crc32(chunk, crc);
      yield chunk;
    }
  }
  // Encryption works in place: read chunks and zlib's output buffers are this entry's own. Stored
  // data goes from read to write unchanged in size, so its buffers go round; zlib's are its own.
  const buffers = stored ? plan.buffers : undefined;
  async function encrypted(source: AsyncIterable<Buffer>): Promise<void> {
    for await (const chunk of source) await out.append(encryptor.update(chunk), buffers?.give);
  }
  if (stored) await pipeline(readChunks(input, buffers), checksummed, encrypted);
  else await pipeline(readChunks(input), checksummed, createDeflateRaw({ level: plan.level }), encrypted);
  await out.append(encryptor.final());

  fields.crc = scheme.crc ? crc : 0;
  fields.compressedSize = out.position - dataStart;
  fields.size = input.size;
  if (scheme.dataDescriptor) await out.append(dataDescriptor(fields.crc, fields.compressedSize, fields.size));
  else await out.patch(sizes(fields.crc, fields.compressedSize, fields.size), offset + LOCAL_SIZES_AT);
  return { central: centralHeader(fields, extra, offset), compressedSize: fields.compressedSize };
}

async function addEntry(out: Output, plan: EntryPlan): Promise<{ central: Buffer; info: ZipEntryInfo }> {
  const offset = out.position;
  let stored = !(await worthDeflating(plan.input, plan.name, plan.level));
  let written = await writeEntry(out, plan, stored);
  if (!stored && written.compressedSize - plan.scheme.overhead >= plan.input.size) {
    await out.rewind(offset);
    stored = true;
    written = await writeEntry(out, plan, stored);
  }
  const info = { name: plan.name, size: plan.input.size, compressedSize: written.compressedSize, stored };
  return { central: written.central, info };
}

/**
 * Writes `request.files` into a new encrypted ZIP at `request.outputPath`, on the calling thread.
 * Rejects with a ZipError naming what was wrong; the output file is then gone.
 */
export async function writeEncryptedZip(request: EncryptedZipRequest): Promise<EncryptedZipResult> {
  const { scheme, level } = check(request);
  const names = uniqueEntryNames(request.files.map((f) => f.name));
  const handle = await openOutput(request.outputPath);
  const out = new Output(handle);
  const buffers = new ChunkBuffers();
  let closed = false;
  try {
    const central: Buffer[] = [];
    const entries: ZipEntryInfo[] = [];
    for (const [i, file] of request.files.entries()) {
      const name = names[i]!;
      const input = await openInput(file, name);
      try {
        const plan = {
          name,
          nameBytes: Buffer.from(name, "utf8"),
          input,
          scheme,
          password: request.password,
          level,
          buffers,
        };
        const entry = await addEntry(out, plan);
        central.push(entry.central);
        entries.push(entry.info);
      } finally {
        await input.handle.close();
      }
    }
    const centralOffset = out.position;
    const directory = Buffer.concat(central);
    await out.append(directory);
    await out.append(endRecord(entries.length, directory.length, centralOffset));
    await out.flush();
    closed = true;
    await handle.close();
    return { size: out.position, entries };
  } catch (err) {
    if (!closed) {
      await out.settle();
      await handle.close().catch(() => undefined);
    }
    await rm(request.outputPath, { force: true });
    throw err;
  }
}
