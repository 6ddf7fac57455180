// "Download all": the files of a package as one ZIP, streamed as it is written (stored, not
// compressed: attachments are mostly compressed already, and deflating costs ~4x the time; not
// encrypted: the recipient has just proved who they are). zip.js writes the UTF-8 name flag, data
// descriptors (the CRC is known only at the end) and Zip64 where sizes need it.
import { ZipWriter } from "@zip.js/zip.js";
import { Readable, Writable } from "node:stream";

export interface ZipSource {
  /** A harmless, unique entry name (the service made it so). */
  name: string;
  /** The file's plaintext, opened when its turn comes (one file is read at a time). */
  open(): Readable;
}

/** Writes every source into `out` as one ZIP; rejects (and leaves `out` to the caller) on the first failure. */
export async function writeZip(sources: ZipSource[], out: Writable): Promise<void> {
  const writer = new ZipWriter(Writable.toWeb(out), {
    level: 0,
    useWebWorkers: false,
    useCompressionStream: false,
  });
  for (const source of sources) {
    await writer.add(source.name, Readable.toWeb(source.open()) as ReadableStream<Uint8Array>, { level: 0 });
  }
  await writer.close();
}
