// Where download files rest: one encrypted file per attachment in a directory of the data dir
// (DATA/downloads), each under its own random key, which the caller keeps in the database and
// never beside the file. A copy of the directory alone reveals sizes, nothing else.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { newId } from "../secrets.js";
import { KEY_BYTES, SegmentDecryptor, SegmentEncryptor } from "./segments.js";

const SUFFIX = ".sgd";
const PARTIAL = ".part";
const READ_CHUNK = 64 * 1024;

/** A file once stored: what the database keeps to find, decrypt and describe it. */
export interface StoredFile {
  /** The file's name in the vault directory (not a path: the data dir may move). */
  storageName: string;
  key: Buffer;
  /** Plaintext bytes. */
  size: number;
  /** SHA-256 of the plaintext, lowercase hex. */
  sha256: string;
}

export class Vault {
  constructor(readonly dir: string) {}

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  /**
   * Encrypts the plaintext file at `plainPath` into the vault, hashing it on the way, and returns
   * once the stored file and its directory entry are on disk. The source file is left to the caller.
   */
  async put(plainPath: string): Promise<StoredFile> {
    const key = randomBytes(KEY_BYTES);
    const id = newId();
    const partial = join(this.dir, `${id}${PARTIAL}`);
    const hash = createHash("sha256");
    let size = 0;
    try {
      await pipeline(
        createReadStream(plainPath, { highWaterMark: READ_CHUNK }),
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            hash.update(chunk);
            size += chunk.length;
            yield chunk;
          }
        },
        new SegmentEncryptor(key),
        createWriteStream(partial, { flags: "wx", mode: 0o600, flush: true }),
      );
      const storageName = `${id}${SUFFIX}`;
      await rename(partial, join(this.dir, storageName));
      await this.syncDir();
      return { storageName, key, size, sha256: hash.digest("hex") };
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
  }

  /**
   * The plaintext of a stored file, streamed; errors with TamperedFile (before any unverified
   * byte) when the stored bytes are not what was written under `key`.
   */
  open(file: Pick<StoredFile, "storageName" | "key">): Readable {
    const source = createReadStream(this.path(file.storageName), { highWaterMark: READ_CHUNK });
    const decryptor = new SegmentDecryptor(file.key);
    source.on("error", (err) => decryptor.destroy(err));
    decryptor.on("close", () => source.destroy());
    return source.pipe(decryptor);
  }

  /** Removes a stored file; one already gone is not an error (retention may run twice). */
  async remove(storageName: string): Promise<void> {
    await rm(this.path(storageName), { force: true });
  }

  /** The stored files on disk, and partial ones a crash left, for a sweep against the database. */
  async list(): Promise<{ stored: string[]; partial: string[] }> {
    const names = await readdir(this.dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return [];
      throw err;
    });
    return {
      stored: names.filter((n) => n.endsWith(SUFFIX)),
      partial: names.filter((n) => n.endsWith(PARTIAL)),
    };
  }

  /** When a vault file was last written, or null when it is gone. */
  async modifiedAt(storageName: string): Promise<number | null> {
    return (await stat(this.path(storageName)).catch(() => null))?.mtimeMs ?? null;
  }

  private path(storageName: string): string {
    // The name comes from the database, but a damaged row must not reach outside the vault.
    if (!/^[A-Za-z0-9_-]+\.(sgd|part)$/.test(storageName))
      throw new Error(`not a vault file name: ${storageName}`);
    return join(this.dir, storageName);
  }

  private async syncDir(): Promise<void> {
    const handle = await open(this.dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}
