// The ZIP writer as a task of the transform threads (separate-worker.ts runs it as "zip"). A
// ZipError comes back as a value: an error crossing threads keeps its message but loses its code.
import {
  ZipError,
  writeEncryptedZip,
  type EncryptedZipRequest,
  type EncryptedZipResult,
  type ZipErrorCode,
} from "./writer.js";

export type ZipTaskResult = { ok: EncryptedZipResult } | { error: { code: ZipErrorCode; message: string } };

export async function zipTask(request: EncryptedZipRequest): Promise<ZipTaskResult> {
  try {
    return { ok: await writeEncryptedZip(request) };
  } catch (err) {
    if (err instanceof ZipError) return { error: { code: err.code, message: err.message } };
    throw err;
  }
}
