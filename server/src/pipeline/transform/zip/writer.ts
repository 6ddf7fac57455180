// Writes one encrypted ZIP file, streaming each input file through CRC, deflate (when it pays) and
// encryption into the output, a chunk at a time. This is CPU work that grows with the files: call
// it on a worker thread (index.ts does), not on an event loop that serves mail.
import { rm } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { crc32, createDeflateRaw, deflateRawSync } from "node:zlib";
import { isCompressed, MAGIC_BYTES } from "./compressed.js";
import { uniqueEntryNames } from "./names.js";
import {
  LOCAL_SIZES_AT,
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
import { ChunkBuffers, Output, openInput, openOutput, readChunks, readHead, type Input } from "./files.js";
import { ZipError } from "./zip-error.js";

export type { ZipEncryption } from "./schemes.js";
export { ZipError, type ZipErrorCode } from "./zip-error.js";

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

export const DEFAULT_DEFLATE_LEVEL = 6;

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
