// Message bodies live in spool files, one per message, written once and never changed. A file
// counts as stored only after its data and its directory entry are fsynced.
import { closeSync, createReadStream, fdatasync, open as openFd, writeSync, type ReadStream } from "node:fs";
import { mkdir, open, readdir, rm, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { promisify } from "node:util";

const openNew = promisify(openFd);
const datasync = promisify(fdatasync);

function writeAll(fd: number, data: Buffer): void {
  for (let done = 0; done < data.length;) done += writeSync(fd, data, done);
}

/** A file written to the spool: its data is on its way to the disk. */
export interface SpooledFile {
  size: number;
  /** Resolves once the data is fdatasynced (the file is then closed); rejects if that failed. */
  durable: Promise<void>;
}

/** Decides, chunk by chunk, what of the incoming stream is written (it may stop writing early). */
export interface ChunkFilter {
  push(chunk: Buffer): Buffer | null;
  end(): Buffer | null;
}

export class Spool {
  private dirHandle: FileHandle | null = null;

  constructor(readonly dir: string) {}

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    this.dirHandle = await open(this.dir, "r");
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /**
   * Writes `source` through `filter` into a new file, removing it if that fails, and starts its
   * fdatasync: the caller goes on while the disk works and waits for `durable` when it must.
   * The open and the fdatasync wait for the disk and run in the thread pool. The writes (into the
   * page cache) and the close are made in place: as thread-pool jobs their hand-offs cost ~100 µs
   * of CPU per message, several times the calls themselves.
   */
  async write(name: string, source: AsyncIterable<Buffer>, filter: ChunkFilter): Promise<SpooledFile> {
    const fd = await openNew(this.path(name), "wx", 0o600);
    let size = 0;
    const put = (data: Buffer | null) => {
      if (!data?.length) return;
      writeAll(fd, data);
      size += data.length;
    };
    try {
      for await (const chunk of source) put(filter.push(chunk));
      put(filter.end());
    } catch (err) {
      try {
        closeSync(fd);
      } catch {
        // The write error is the one to report.
      }
      await this.remove(name);
      throw err;
    }
    const durable = datasync(fd).finally(() => closeSync(fd));
    // Awaited by whoever commits the message; a message refused before that never looks.
    durable.catch(() => undefined);
    return { size, durable };
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

  async close(): Promise<void> {
    await this.dirHandle?.close();
    this.dirHandle = null;
  }
}
