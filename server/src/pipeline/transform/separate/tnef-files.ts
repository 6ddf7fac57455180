// A winmail.dat taken out of a message is opened: the files in it become attachments of their own
// (stored in the download centre, listed in the notice, packed into the ZIP), as a recipient
// without Outlook needs them. It stays whole when it cannot be read, and beside them when it holds
// something that is no file (an attached Outlook item): nothing the sender attached is lost.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { open, rm } from "node:fs/promises";
import { join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import libmime from "libmime";
import { fileSource, readTnef, type TnefAttachment } from "../../tnef/read.js";
import type { SeparatedAttachment } from "./attachment-sink.js";
import { isTnefPart } from "./classify.js";

type FileAttachment = SeparatedAttachment & { path: string };

const CHUNK = 64 * 1024;

/** `attachments` with every readable winmail.dat replaced by its files, written into `dir`. */
export async function openTnefFiles(attachments: FileAttachment[], dir: string): Promise<FileAttachment[]> {
  const out: FileAttachment[] = [];
  for (const attachment of attachments) {
    if (!isTnefPart(attachment.contentType, attachment.filename)) {
      out.push(attachment);
      continue;
    }
    const handle = await open(attachment.path, "r");
    const read = await fileSource(handle)
      .then((source) => readTnef(source))
      .finally(() => handle.close());
    if (!read.ok || !read.attachments.length) {
      out.push(attachment);
      continue;
    }
    for (const [k, inner] of read.attachments.entries())
      out.push(await copyOut(attachment, inner, join(dir, `${attachment.index}-${k}.bin`)));
    if (read.skipped) out.push(attachment);
    else await rm(attachment.path, { force: true });
  }
  return out;
}

async function copyOut(from: FileAttachment, inner: TnefAttachment, path: string): Promise<FileAttachment> {
  const hash = createHash("sha256");
  const count = new Transform({
    transform: (chunk: Buffer, _encoding, done) => {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  const range = inner.size
    ? createReadStream(from.path, {
        start: inner.offset,
        end: inner.offset + inner.size - 1,
        highWaterMark: CHUNK,
      })
    : [];
  await pipeline(range, count, createWriteStream(path, { flags: "wx" }));
  return {
    index: from.index,
    filename: inner.name,
    contentType: inner.contentType ?? String(libmime.detectMimeType(inner.name)),
    size: inner.size,
    sha256: hash.digest("hex"),
    path,
  };
}
