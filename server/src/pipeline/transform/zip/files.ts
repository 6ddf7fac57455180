// The file side of the ZIP writer: the output, written behind at known positions, and the input
// files, read ahead in chunks, checked to stay as they were opened.
import { open, type FileHandle } from "node:fs/promises";
import { MAX_32 } from "./records.js";
import type { ZipInputFile } from "./writer.js";
import { ZipError } from "./zip-error.js";

/** Bytes read from an input file at a time. */
const CHUNK_BYTES = 1024 * 1024;

/** Creates the output. Failing here leaves nothing behind, and is a ZipError so callers can tell. */
export async function openOutput(path: string): Promise<FileHandle> {
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
export class Output {
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
export class ChunkBuffers {
  private readonly free: ArrayBuffer[] = [];

  take(): ArrayBuffer {
    return this.free.pop() ?? new ArrayBuffer(CHUNK_BYTES);
  }

  /** Takes back a chunk read into a buffer of take(). */
  give = (chunk: Buffer): void => {
    this.free.push(chunk.buffer as ArrayBuffer);
  };
}

export interface Input {
  handle: FileHandle;
  size: number;
  modifiedAt: Date;
  /** For messages: the entry's name and the file's path. */
  label: string;
}

export async function openInput(file: ZipInputFile, name: string): Promise<Input> {
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
export async function* readChunks(input: Input, buffers?: ChunkBuffers): AsyncGenerator<Buffer> {
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

export async function readHead(input: Input, bytes: number): Promise<Buffer> {
  const head = Buffer.alloc(Math.min(bytes, input.size));
  const { bytesRead } = await input.handle.read(head, 0, head.length, 0);
  return head.subarray(0, bytesRead);
}
