// The message as it leaves the gateway: headers the gateway added, the client's header block minus
// internal ones (X-Sendguard-*, Bcc, Return-Path), then the body byte for byte from the spool
// (or, for a small message, from the database).
import { join } from "node:path";
import { Readable } from "node:stream";
import { COPIES_DIR, missingSpoolFile, Spool, spoolName } from "../store/spool.js";
import type { MessageRecord, NewCopy, Store } from "../store/types.js";
import { wireAddress } from "./relay.js";

const INTERNAL = /^(x-sendguard-[!-9;-~]*|bcc|return-path)$/i;
const INTERNAL_AND_VISIBLE_RECIPIENTS = /^(x-sendguard-[!-9;-~]*|bcc|return-path|to|cc)$/i;

/** Forced Bcc: To becomes the sender (or an empty group) and only non-external Cc stay. */
function rewrittenRecipients(message: MessageRecord): string {
  const rewrite = message.headerRewrite;
  const to = rewrite.forceBcc === "undisclosed" ? "undisclosed-recipients:;" : message.fromHeader;
  // Stored with Unicode domains (address.ts); a header outside RFC 6532 needs the A-labels.
  const cc = rewrite.keepCc?.length ? `Cc: ${rewrite.keepCc.map(wireAddress).join(", ")}\r\n` : "";
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

/**
 * A message as it is to leave, in a form that crosses to the relay thread (relay-thread.ts): the
 * header fields the gateway adds, which of the client's fields go, and where the stored message is.
 * The thread reads the body itself, so its bytes never pass through the main thread.
 */
export interface OutgoingMessage {
  /** Added in front: Message-ID and Date when the client gave none, the forced-Bcc To/Cc. */
  added: string;
  /** Forced Bcc: the client's To and Cc are dropped too. */
  dropRecipientFields: boolean;
  headerBytes: number;
  /** The stored message: its bytes (a small one, from the database), or its spool file. */
  source: { bytes: Uint8Array } | { spoolDir: string; name: string };
}

/** On the main thread: what the relay thread needs to write `message` as it leaves. */
export async function outgoingMessage(
  spool: Spool,
  store: Store,
  message: MessageRecord,
  copy: NewCopy | null = null,
): Promise<OutgoingMessage> {
  const forced = Boolean(message.headerRewrite.forceBcc);
  let source: OutgoingMessage["source"];
  if (copy?.file) {
    // A copy with its attachments rewritten (transform/copies.ts): a whole message of its own.
    source = { spoolDir: join(spool.dir, COPIES_DIR), name: copy.file };
  } else if (message.bodyInDatabase) {
    const data = await store.messageBody(message.id);
    if (!data) throw new Error(`the body of message ${message.id} is missing from the database`);
    source = { bytes: data };
  } else {
    source = { spoolDir: spool.dir, name: spoolName(message.id) };
  }
  return {
    added: message.addedHeaders + (forced ? rewrittenRecipients(message) : ""),
    dropRecipientFields: forced,
    headerBytes: copy?.file ? copy.headerBytes : message.headerBytes,
    source,
  };
}

/** The client's header block and a stream of the rest, from the spool file or the bytes given. */
async function splitBody(message: OutgoingMessage): Promise<{ head: Buffer; rest: Readable }> {
  const { source, headerBytes } = message;
  if ("spoolDir" in source) {
    return new Spool(source.spoolDir).openSplit(source.name, headerBytes).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      throw missingSpoolFile(source.name, err);
    });
  }
  const data = Buffer.from(source.bytes.buffer, source.bytes.byteOffset, source.bytes.byteLength);
  return {
    head: data.subarray(0, headerBytes),
    rest: Readable.from([data.subarray(headerBytes)], { objectMode: false }),
  };
}

/** In the relay thread: the message's bytes as they leave the gateway. */
export async function outgoingStream(message: OutgoingMessage): Promise<Readable> {
  const { head, rest: body } = await splitBody(message);
  const kept = removeHeaderFields(
    head,
    message.dropRecipientFields ? INTERNAL_AND_VISIBLE_RECIPIENTS : INTERNAL,
  );
  const prefix = Buffer.concat([Buffer.from(message.added, "latin1"), kept]);
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
