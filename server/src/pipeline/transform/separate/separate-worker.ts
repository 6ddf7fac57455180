// A thread of the separation pool (separator.ts, piscina): separates one stored message file into
// a rewritten message file and one file per attachment, writes the encrypted ZIP of those files
// (zip), or (replaceWithZip) writes the copy whose attachments are that ZIP, so base64 decoding,
// encoding, hashing, encrypting and copying of a large attachment never run on the event loop. Attachment files are named by their index,
// never by the sender's file name (no path from the message reaches the file system).
import { createReadStream, createWriteStream } from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { t, type Language } from "@sendguard/shared";
import { SeparationError, type SeparationErrorCode } from "./errors.js";
import { displayName } from "./notice.js";
import { openTnefFiles } from "./tnef-files.js";
import {
  rewriteAttachments,
  type SeparatedAttachment,
  type SeparationLimits,
  type SeparationResult,
} from "./rewrite.js";
import { replaceWithZip as writeZipCopy, type ReplaceWithZipTask } from "./zip-part.js";

/** The pool's task "zip": the encrypted ZIP on the thread that separated its files. */
export { zipTask as zip } from "../zip/task.js";

export interface SeparateFileTask {
  /** The message as stored (spool file). */
  inputPath: string;
  /** Where the rewritten message goes; must not exist yet. */
  outputPath: string;
  /** An existing directory; attachment N is written to N.bin in it (which must not exist yet). */
  attachmentsDir: string;
  notice?: { text: string; html: string };
  /** The placeholders an earlier run left in the input (RewriteOptions.placeholders). */
  placeholders?: number[];
  /** Language of the placeholders. */
  language: Language;
  /** A winmail.dat's files are handed back in its place (tnef-files.ts); for the stored files. */
  openTnef?: boolean;
  limits?: Partial<SeparationLimits>;
}

export interface SeparateFileResult extends SeparationResult {
  attachments: (SeparatedAttachment & { path: string })[];
}

const CHUNK = 64 * 1024;

/** What a thread answers: an Error loses its name and code on the way back, so a refusal is data. */
export interface SeparationRefusal {
  refused: { code: SeparationErrorCode; message: string };
}
export type SeparateFileAnswer = { ok: SeparateFileResult } | SeparationRefusal;

/** A task's answer, or its SeparationError as data. */
async function answer<T>(work: () => Promise<T>): Promise<{ ok: T } | SeparationRefusal> {
  try {
    return { ok: await work() };
  } catch (err) {
    if (err instanceof SeparationError) return { refused: { code: err.code, message: err.message } };
    throw err;
  }
}

export default function separateTask(task: SeparateFileTask): Promise<SeparateFileAnswer> {
  return answer(() => separateFile(task));
}

/** The pool's task "replaceWithZip" (piscina's `name`). */
export function replaceWithZip(task: ReplaceWithZipTask): Promise<{ ok: null } | SeparationRefusal> {
  return answer(async () => {
    await writeZipCopy(task);
    return null;
  });
}

export async function separateFile(task: SeparateFileTask): Promise<SeparateFileResult> {
  const paths: string[] = [];
  const options = {
    input: createReadStream(task.inputPath, { highWaterMark: CHUNK }),
    output: createWriteStream(task.outputPath, { flags: "wx" }),
    notice: task.notice,
    placeholder: ({ filename }: { filename: string }) =>
      t(task.language, "separate.placeholder", { name: displayName(filename) }),
    onAttachment: async ({ index }: { index: number }, content: NodeJS.ReadableStream) => {
      const path = join(task.attachmentsDir, `${index}.bin`);
      paths[index] = path;
      await pipeline(content, createWriteStream(path, { flags: "wx", highWaterMark: CHUNK }));
    },
    ...(task.placeholders ? { placeholders: task.placeholders } : {}),
    ...(task.limits ? { limits: task.limits } : {}),
  };
  const result = await rewriteAttachments(options);
  const attachments = result.attachments.map((a) => ({ ...a, path: paths[a.index] as string }));
  return {
    ...result,
    attachments: task.openTnef ? await openTnefFiles(attachments, task.attachmentsDir) : attachments,
  };
}
