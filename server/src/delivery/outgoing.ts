// The message as it leaves the gateway: headers the gateway added, the client's header block minus
// internal ones (X-Sendguard-*, Bcc, Return-Path), then the body byte for byte from the spool
// (or, for a small message, from the database).
import { Readable } from "node:stream";
import type { Spool } from "../store/spool.js";
import type { MessageRecord, Store } from "../store/types.js";
import { spoolName } from "../pipeline/intake.js";

const INTERNAL = /^(x-sendguard-[!-9;-~]*|bcc|return-path)$/i;
const INTERNAL_AND_VISIBLE_RECIPIENTS = /^(x-sendguard-[!-9;-~]*|bcc|return-path|to|cc)$/i;

/** Forced Bcc: To becomes the sender (or an empty group) and only non-external Cc stay. */
function rewrittenRecipients(message: MessageRecord): string {
  const rewrite = message.headerRewrite;
  const to = rewrite.forceBcc === "undisclosed" ? "undisclosed-recipients:;" : message.fromHeader;
  const cc = rewrite.keepCc?.length ? `Cc: ${rewrite.keepCc.join(", ")}\r\n` : "";
  return `To: ${to}\r\n${cc}`;
}

/** Removes whole fields (with their folded continuation lines) whose name matches `drop`. */
export function removeHeaderFields(block: Buffer, drop: RegExp): Buffer {
  const text = block.toString("latin1");
  const lines = text.split(/(?<=\r\n)/);
  let dropping = false;
  const kept: string[] = [];
  for (const [index, line] of lines.entries()) {
    if (line === "\r\n") {
      kept.push(...lines.slice(index)); // the end of the header: the rest is not ours to change
      break;
    }
    const continuation = line.startsWith(" ") || line.startsWith("\t");
    if (!continuation) {
      const colon = line.indexOf(":");
      dropping = colon > 0 && drop.test(line.slice(0, colon));
    }
    if (!dropping) kept.push(line);
  }
  return Buffer.from(kept.join(""), "latin1");
}

/** The client's header block and a stream of the rest, from the spool file or the database. */
async function splitBody(
  spool: Spool,
  store: Store,
  message: MessageRecord,
): Promise<{ head: Buffer; rest: Readable }> {
  if (!message.bodyInDatabase) return spool.openSplit(spoolName(message.id), message.headerBytes);
  const data = await store.messageBody(message.id);
  if (!data) throw new Error(`the body of message ${message.id} is missing from the database`);
  const rest = Readable.from([data.subarray(message.headerBytes)], { objectMode: false });
  return { head: data.subarray(0, message.headerBytes), rest };
}

export async function outgoingStream(spool: Spool, store: Store, message: MessageRecord): Promise<Readable> {
  const forced = Boolean(message.headerRewrite.forceBcc);
  const { head, rest: body } = await splitBody(spool, store, message);
  const kept = removeHeaderFields(head, forced ? INTERNAL_AND_VISIBLE_RECIPIENTS : INTERNAL);
  const added = message.addedHeaders + (forced ? rewrittenRecipients(message) : "");
  const prefix = Buffer.concat([Buffer.from(added, "latin1"), kept]);
  const out = Readable.from(
    (async function* () {
      yield prefix;
      yield* body;
    })(),
  );
  // A relay that gives up before reading the body must not leave the spool file open.
  out.once("close", () => body.destroy());
  return out;
}
