// Whether a message has attachments as its separation would find them (the same walk: an inline
// image its HTML shows is none, a forwarded message or a winmail.dat is one). The walk stops at
// the first attachment; nothing is written.
import { Writable, type Readable } from "node:stream";
import { SeparationError } from "./errors.js";
import { rewriteAttachments } from "./rewrite.js";

class Found extends Error {}

/** true or false; null when the walk cannot tell (signed or encrypted, malformed, over a limit). */
export async function hasAttachments(input: Readable): Promise<boolean | null> {
  try {
    await rewriteAttachments({
      input,
      output: new Writable({ write: (_chunk, _encoding, done) => done() }),
      onAttachment: () => Promise.reject(new Found()),
      placeholder: () => "",
    });
    return false;
  } catch (err) {
    if (err instanceof SeparationError) return err.cause instanceof Found ? true : null;
    throw err;
  } finally {
    input.destroy();
  }
}
