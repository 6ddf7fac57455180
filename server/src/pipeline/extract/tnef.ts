// The files in a winmail.dat, for the rules: each an attachment of the message itself, named,
// counted and read as its recipients get it (separate/tnef-files.ts takes the same files out).
import type { AttachmentFacts } from "../analyze.js";
import { bufferSource, readTnef } from "../tnef/read.js";
import { Collector, extensionOf, newFacts, type Collected } from "./context.js";
import { mimeTypeOf } from "./file.js";

export type OpenedTnef =
  | {
      files: { facts: AttachmentFacts; content: Collected }[];
      /** It holds something that is no file (an Outlook item): it stays an attachment of its own. */
      keep: boolean;
    }
  | { problem: string };

export async function openTnef(data: Buffer, maxAttachmentBytes: number): Promise<OpenedTnef> {
  const read = await readTnef(bufferSource(data));
  if (!read.ok) return { problem: `unreadable winmail.dat: ${read.problem}` };
  return {
    files: read.attachments.map((a) => {
      const collector = new Collector(maxAttachmentBytes);
      collector.push(data.subarray(a.offset, a.offset + a.size));
      return {
        facts: newFacts(a.name, a.contentType ?? mimeTypeOf(extensionOf(a.name))),
        content: collector.finish(),
      };
    }),
    keep: read.skipped > 0,
  };
}
