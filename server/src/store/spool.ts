// Message bodies live in spool files, one per message, written once and never changed. A file
// counts as stored only after its data and its directory entry are fsynced.
import { createReadStream, type ReadStream } from "node:fs";
import { mkdir, open, rm, type FileHandle } from "node:fs/promises";
import { join } from "node:path";

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

  /** Writes `source` through `filter` into a new file and fdatasyncs it; removes it on failure. */
  async write(name: string, source: AsyncIterable<Buffer>, filter: ChunkFilter): Promise<number> {
    const file = await open(this.path(name), "wx", 0o600);
    let size = 0;
    try {
      for await (const chunk of source) {
        const out = filter.push(chunk);
        if (out && out.length) {
          await file.write(out);
          size += out.length;
        }
      }
      const tail = filter.end();
      if (tail && tail.length) {
        await file.write(tail);
        size += tail.length;
      }
      await file.datasync();
    } catch (err) {
      await file.close().catch(() => undefined);
      await this.remove(name);
      throw err;
    }
    await file.close();
    return size;
  }

  /** Makes every file created so far durable as a directory entry (one fsync for a whole batch). */
  async syncDir(): Promise<void> {
    if (!this.dirHandle) throw new Error("spool not initialised");
    await this.dirHandle.sync();
  }

  createReadStream(name: string, start = 0): ReadStream {
    return createReadStream(this.path(name), { start, highWaterMark: 64 * 1024 });
  }

  async readHead(name: string, bytes: number): Promise<Buffer> {
    const file = await open(this.path(name), "r");
    try {
      const buf = Buffer.alloc(bytes);
      const { bytesRead } = await file.read(buf, 0, bytes, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await file.close();
    }
  }

  async remove(name: string): Promise<void> {
    await rm(this.path(name), { force: true });
  }

  async close(): Promise<void> {
    await this.dirHandle?.close();
    this.dirHandle = null;
  }
}
