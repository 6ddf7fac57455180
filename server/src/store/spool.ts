// Message bodies live in spool files, one per message, written once and never changed. A file
// counts as stored only after its data and its directory entry are fsynced. A small message is not
// written to a file at all: it is kept in memory and stored with its rows (SqliteStore), in the same
// commit. Creating a file cost ~1 ms of system CPU on the machines we measure on (ext4 in a gVisor
// sandbox), plus its fdatasync and a directory fsync per batch: more than all the rest of a small
// message's intake.
import { closeSync, createReadStream, fdatasync, open as openFd, writeSync, type ReadStream } from "node:fs";
import { mkdir, open, readdir, rm, stat, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { promisify } from "node:util";

const openNew = promisify(openFd);
const datasync = promisify(fdatasync);

function writeAll(fd: number, data: Buffer): void {
  for (let done = 0; done < data.length;) done += writeSync(fd, data, done);
}

const BODY_SUFFIX = ".eml";
/** Where the copies of a message made for its attachments live (transform/copies.ts): COPIES_DIR/ID/. */
export const COPIES_DIR = "copies";

/** The spool's directory in the data directory. */
export function spoolDir(dataDir: string): string {
  return join(dataDir, "spool");
}

/** The name of a message's body file in the spool. */
export function spoolName(id: string): string {
  return `${id}${BODY_SUFFIX}`;
}

/**
 * What a sender reads in the bounce when a spool file is gone (ENOENT), should it come to that: a
 * retry may still find it restored.
 */
export function missingSpoolFile(name: string, cause: unknown): Error {
  return new Error(
    `the stored message (spool file ${name}) is missing: restore it from a backup, or discard the message`,
    { cause },
  );
}

/** A message body taken in: in memory if small, otherwise in a file whose data is on its way to the disk. */
export interface SpooledBody {
  size: number;
  /** The whole body when it fitted in `inlineMaxBytes`: no file was written; it is stored with the rows. */
  inline: Buffer | null;
  /** Resolves once the file's data is fdatasynced (at once for an inline body); rejects if that failed. */
  durable: Promise<void>;
}

export interface SpoolOptions {
  /** Bodies up to this size are kept in memory and stored in the database. Default 64 KiB; 0 = none. */
  inlineMaxBytes?: number;
}

/** Decides, chunk by chunk, what of the incoming stream is written (it may stop writing early). */
export interface ChunkFilter {
  push(chunk: Buffer): Buffer | null;
  end(): Buffer | null;
}

export class Spool {
  private dirHandle: FileHandle | null = null;
  private readonly inlineMaxBytes: number;

  constructor(
    readonly dir: string,
    options: SpoolOptions = {},
  ) {
    this.inlineMaxBytes = options.inlineMaxBytes ?? 64 * 1024;
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    this.dirHandle = await open(this.dir, "r");
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /**
   * Takes `source` through `filter`: in memory while it fits in `inlineMaxBytes`, then into a new
   * file (removed again if that fails) whose fdatasync starts at the end: the caller goes on while
   * the disk works and waits for `durable` when it must. The open and the fdatasync wait for the
   * disk and run in the thread pool. The writes (into the page cache) and the close are made in
   * place: as thread-pool jobs their hand-offs cost ~100 µs of CPU per message, several times the
   * calls themselves.
   */
  async write(name: string, source: AsyncIterable<Buffer>, filter: ChunkFilter): Promise<SpooledBody> {
    const held: Buffer[] = [];
    // In an object, as the file is opened inside `put`.
    const file: { fd: number | null; size: number } = { fd: null, size: 0 };
    const put = async (data: Buffer | null) => {
      if (!data?.length) return;
      file.size += data.length;
      if (file.fd !== null) return writeAll(file.fd, data);
      held.push(data);
      if (file.size <= this.inlineMaxBytes) return;
      const fd = await openNew(this.path(name), "wx", 0o600);
      file.fd = fd;
      for (const chunk of held.splice(0)) writeAll(fd, chunk);
    };
    try {
      for await (const chunk of source) await put(filter.push(chunk));
      await put(filter.end());
    } catch (err) {
      if (file.fd !== null) {
        try {
          closeSync(file.fd);
        } catch {
          // The write error is the one to report.
        }
        await this.remove(name);
      }
      throw err;
    }
    const { fd, size } = file;
    if (fd === null) return { size, inline: Buffer.concat(held, size), durable: Promise.resolve() };
    const durable = datasync(fd).finally(() => closeSync(fd));
    // Awaited by whoever commits the message; a message refused before that never looks.
    durable.catch(() => undefined);
    return { size, inline: null, durable };
  }

  /** Makes every file created so far durable as a directory entry (one fsync for a whole batch). */
  async syncDir(): Promise<void> {
    if (!this.dirHandle) throw new Error("spool not initialised");
    await this.dirHandle.sync();
  }

  /** Names of the files in the spool. */
  list(): Promise<string[]> {
    return readdir(this.dir);
  }

  createReadStream(name: string, start = 0): ReadStream {
    return createReadStream(this.path(name), { start, highWaterMark: 64 * 1024 });
  }

  /**
   * The first `headBytes` of a file, and a stream of the rest, from one open file. The file is
   * closed when the stream closes (read to the end, or destroyed).
   */
  async openSplit(name: string, headBytes: number): Promise<{ head: Buffer; rest: Readable }> {
    const file = await open(this.path(name), "r");
    let head: Buffer;
    try {
      const buf = Buffer.alloc(headBytes);
      const { bytesRead } = await file.read(buf, 0, headBytes, 0);
      head = buf.subarray(0, bytesRead);
    } catch (err) {
      await file.close();
      throw err;
    }
    const rest = file.createReadStream({ start: headBytes, highWaterMark: 64 * 1024, autoClose: false });
    rest.once("close", () => void file.close().catch(() => undefined));
    return { head, rest };
  }

  async remove(name: string): Promise<void> {
    await rm(this.path(name), { force: true });
  }

  /** The ids of the messages that have a body file here. */
  async bodyIds(): Promise<string[]> {
    return (await this.list())
      .filter((name) => name.endsWith(BODY_SUFFIX))
      .map((name) => name.slice(0, -BODY_SUFFIX.length));
  }

  /** When a message's body file was last written; null when it has none. */
  async bodyModifiedAt(id: string): Promise<number | null> {
    try {
      return (await stat(this.path(spoolName(id)))).mtimeMs;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw err;
    }
  }

  /**
   * Removes the body files of these messages, one after another (so that intake's fsyncs are not
   * queued behind a burst of them in the thread pool). A file already gone is not an error.
   */
  async removeBodies(ids: string[]): Promise<void> {
    for (const id of ids) {
      await this.remove(spoolName(id));
      await rm(join(this.dir, COPIES_DIR, id), { recursive: true, force: true });
    }
  }

  async close(): Promise<void> {
    await this.dirHandle?.close();
    this.dirHandle = null;
  }
}
