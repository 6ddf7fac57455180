// The encrypted-ZIP copy of a message: its attachments replaced by placeholders naming the ZIP, and
// the ZIP (written by zip/) appended as one base64 part. Runs on a thread of the separation pool
// (separate-worker.ts): decoding the attachments it drops and base64-encoding the ZIP both grow
// with the message, and stay off the event loop.
import { createReadStream, createWriteStream } from "node:fs";
import { finished } from "node:stream/promises";
import { Encoder } from "libbase64";
import { encodeWords } from "nodemailer/lib/mime-funcs";
import { t, type Language } from "@sendguard/shared";
import { displayName } from "./notice.js";
import { rewriteAttachments } from "./rewrite.js";

export interface ReplaceWithZipTask {
  /** The message as stored. */
  inputPath: string;
  /** Where the copy goes; must not exist yet. */
  outputPath: string;
  /** The encrypted ZIP of the attachments. */
  zipPath: string;
  /** The ZIP's file name in the message. */
  zipName: string;
  /** Language of the placeholders. */
  language: Language;
}

const CHUNK = 64 * 1024;

export async function replaceWithZip(task: ReplaceWithZipTask): Promise<void> {
  const name = encodeWords(task.zipName, "B", 0, true);
  await rewriteAttachments({
    input: createReadStream(task.inputPath, { highWaterMark: CHUNK }),
    output: createWriteStream(task.outputPath, { flags: "wx" }),
    onAttachment: async (_info, content) => {
      content.resume(); // packed in the ZIP already
      await finished(content);
    },
    placeholder: ({ filename }) =>
      t(task.language, "separate.zipped", { name: displayName(filename), zip: task.zipName }),
    appendParts: async () => [
      {
        headers: [
          `Content-Type: application/zip; name="${name}"`,
          "Content-Transfer-Encoding: base64",
          `Content-Disposition: attachment; filename="${name}"`,
        ].join("\r\n"),
        body: createReadStream(task.zipPath, { highWaterMark: CHUNK }).pipe(new Encoder()),
      },
    ],
  });
}
