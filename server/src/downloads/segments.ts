// The at-rest format of a stored download file: authenticated segments, so that serving a file
// never hands out a byte before it is known to be the stored one.
//
//   header:   "SGDL" · version 1 · segment size log2 (16) · 2 zero bytes · 8-byte random nonce prefix
//   segments: AES-256-GCM of up to 64 KiB of plaintext each, followed by its 16-byte tag
//
// Each segment's nonce is the file's prefix and the segment's 32-bit counter (big-endian); its
// additional data is the header and one byte, 1 on the last segment and 0 on every other (the
// STREAM construction of Hoang, Reyhanitabar, Rogaway and Vizár). Reordering, dropping, repeating a
// segment or cutting the file at a segment boundary fails a tag; so does a header changed. Every
// segment but the last holds exactly SEGMENT_BYTES; the last holds 0 to SEGMENT_BYTES (an empty
// file is one empty last segment), so its place is known by the end of the stream.
//
// Why GCM segments and not one CTR+HMAC pass: node:crypto only checks a GCM tag at final(), after
// it has returned the plaintext; a segment is decrypted whole and passed on only once its final()
// succeeded, so at most one segment is held unverified, never released. 64 KiB keeps the tag
// overhead at 0.02 % and the time per segment (native AES-NI, on this thread) well under a
// millisecond, so neither direction needs a worker thread (measured in downloads-vault.test.ts).
// Every file has its own random key: the 2^32 segment counter (256 TiB) and GCM's nonce rules are
// per file only.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";

export const SEGMENT_BYTES = 64 * 1024;
const TAG_BYTES = 16;
const MAGIC = Buffer.from("SGDL", "latin1");
const VERSION = 1;
const SEGMENT_LOG2 = 16;
export const HEADER_BYTES = 16;
export const KEY_BYTES = 32;
const MAX_SEGMENTS = 2 ** 32;

/** Thrown when a stored file is not what was written: damaged, cut short, extended, or another key. */
export class TamperedFile extends Error {
  constructor(detail: string) {
    super(`stored download file failed authentication: ${detail}`);
    this.name = "TamperedFile";
  }
}

/** The stored size of a file of `plaintextBytes`: header, data and one tag per segment. */
export function storedSize(plaintextBytes: number): number {
  const segments = Math.max(1, Math.ceil(plaintextBytes / SEGMENT_BYTES));
  return HEADER_BYTES + plaintextBytes + segments * TAG_BYTES;
}

function nonce(prefix: Buffer, counter: number): Buffer {
  const n = Buffer.alloc(12);
  prefix.copy(n, 0, 0, 8);
  n.writeUInt32BE(counter, 8);
  return n;
}

function aad(header: Buffer, last: boolean): Buffer {
  return Buffer.concat([header, Buffer.from([last ? 1 : 0])]);
}

/** Bytes taken in chunk by chunk, handed out again in pieces of a chosen size without copying them all. */
class ByteQueue {
  private chunks: Buffer[] = [];
  length = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** The first `n` bytes (n ≤ length), removed: a view of the first chunk when it holds them all. */
  take(n: number): Buffer {
    const first = this.chunks[0];
    // The vault reads 64 KiB chunks, a segment each: no copy, and no garbage for the collector.
    if (first && first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.length -= n;
      return first.subarray(0, n);
    }
    return Buffer.concat(this.takeParts(n), n);
  }

  /** The first `n` bytes (n ≤ length), removed, as views of the chunks that hold them. */
  takeParts(n: number): Buffer[] {
    const parts: Buffer[] = [];
    for (let left = n; left > 0;) {
      const head = this.chunks[0] as Buffer;
      const used = Math.min(head.length, left);
      parts.push(head.subarray(0, used));
      if (used === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(used);
      left -= used;
    }
    this.length -= n;
    return parts;
  }
}

/** Encrypts a plaintext stream with `key` (KEY_BYTES) into the stored format. */
export class SegmentEncryptor extends Transform {
  private readonly header: Buffer;
  private readonly prefix: Buffer;
  private readonly pending = new ByteQueue();
  private counter = 0;

  constructor(private readonly key: Buffer) {
    super();
    if (key.length !== KEY_BYTES) throw new RangeError(`a download file key has ${KEY_BYTES} bytes`);
    this.prefix = randomBytes(8);
    this.header = Buffer.concat([MAGIC, Buffer.from([VERSION, SEGMENT_LOG2, 0, 0]), this.prefix]);
    this.push(this.header);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.pending.push(chunk);
    // Strictly more than a segment: the bytes after it prove it is not the last one.
    try {
      while (this.pending.length > SEGMENT_BYTES) this.seal(this.pending.take(SEGMENT_BYTES), false);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      this.seal(this.pending.take(this.pending.length), true);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  private seal(plain: Buffer, last: boolean): void {
    if (this.counter >= MAX_SEGMENTS) throw new RangeError("file too large for one download key");
    const cipher = createCipheriv("aes-256-gcm", this.key, nonce(this.prefix, this.counter++));
    cipher.setAAD(aad(this.header, last));
    // Pushed apart, not concatenated: a copy of every segment less (GCM's final() adds no bytes).
    this.push(cipher.update(plain));
    cipher.final();
    this.push(cipher.getAuthTag());
  }
}

/**
 * Decrypts the stored format with `key`. Passes on a segment only after its tag verified; fails
 * with TamperedFile on any mismatch, including a missing last segment.
 */
export class SegmentDecryptor extends Transform {
  private header: Buffer | null = null;
  private readonly pending = new ByteQueue();
  private counter = 0;

  constructor(private readonly key: Buffer) {
    super();
    if (key.length !== KEY_BYTES) throw new RangeError(`a download file key has ${KEY_BYTES} bytes`);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.pending.push(chunk);
    try {
      if (!this.header && this.pending.length >= HEADER_BYTES) this.readHeader();
      const sealed = SEGMENT_BYTES + TAG_BYTES;
      while (this.header && this.pending.length > sealed) this.open(this.pending.takeParts(sealed), false);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      if (!this.header) throw new TamperedFile("shorter than its header");
      if (this.pending.length < TAG_BYTES) throw new TamperedFile("cut short");
      this.open(this.pending.takeParts(this.pending.length), true);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  private readHeader(): void {
    // A copy: it is kept to the end, and a view would keep the whole first chunk with it.
    const header = Buffer.from(this.pending.take(HEADER_BYTES));
    if (!header.subarray(0, 4).equals(MAGIC)) throw new TamperedFile("not a stored download file");
    if (header[4] !== VERSION || header[5] !== SEGMENT_LOG2 || header[6] !== 0 || header[7] !== 0)
      throw new TamperedFile(`unknown format ${header[4]}/${header[5]}`);
    this.header = header;
  }

  /**
   * Decrypts one sealed segment given as the views of the read chunks it spans (the file's 16-byte
   * header puts every segment across two 64 KiB reads): no copy of it is made first.
   */
  private open(sealed: Buffer[], last: boolean): void {
    const header = this.header as Buffer;
    const decipher = createDecipheriv("aes-256-gcm", this.key, nonce(header.subarray(8), this.counter));
    decipher.setAAD(aad(header, last));
    const tag = new ByteQueue();
    const plain: Buffer[] = [];
    let data = sealed.reduce((sum, part) => sum + part.length, 0) - TAG_BYTES;
    for (const part of sealed) {
      const used = Math.max(0, Math.min(part.length, data));
      if (used > 0) plain.push(decipher.update(part.subarray(0, used)));
      if (used < part.length) tag.push(part.subarray(used));
      data -= used;
    }
    decipher.setAuthTag(tag.take(tag.length));
    try {
      decipher.final();
    } catch {
      throw new TamperedFile(`segment ${this.counter} does not verify`);
    }
    this.counter++;
    for (const p of plain) this.push(p);
  }
}
