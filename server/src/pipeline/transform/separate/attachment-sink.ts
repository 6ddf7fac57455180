// One removed attachment on its way to the caller: its raw body chunks are transfer-decoded,
// counted and hashed here, and read by the caller's onAttachment as a stream. The rewriter waits
// for the caller (back-pressure), so no more than a stream buffer of the attachment is held.
import { createHash } from "node:crypto";
import { Transform } from "node:stream";
import { finished } from "node:stream/promises";
import { decoderCodec } from "./codec.js";
import { SeparationError } from "./errors.js";

export interface AttachmentInfo {
  /** 0-based, in the order the attachments appear in the message. */
  index: number;
  /** The part's file name (decoded), or one made from its type. */
  filename: string;
  contentType: string;
  contentId?: string;
  /** Content-Disposition size=, as the sender declared it (not checked). */
  declaredSize?: number;
}

/** Stores one attachment; resolves once `content` has been read to its end and stored. */
export type OnAttachment = (info: AttachmentInfo, content: NodeJS.ReadableStream) => Promise<void>;

export interface SeparatedAttachment {
  index: number;
  filename: string;
  contentType: string;
  /** Decoded bytes. */
  size: number;
  /** Hex SHA-256 of the decoded bytes. */
  sha256: string;
}

export class AttachmentSink {
  private readonly hash = createHash("sha256");
  private size = 0;
  private readonly content: Transform;
  private readonly stored: Promise<void>;
  private settled = false;

  constructor(
    private readonly info: AttachmentInfo,
    encoding: string | false,
    onAttachment: OnAttachment,
  ) {
    const decoder = decoderCodec(encoding);
    const count = (bytes: Buffer): Buffer => {
      this.hash.update(bytes);
      this.size += bytes.length;
      return bytes;
    };
    this.content = new Transform({
      transform: (chunk: Buffer, _encoding, done) => done(null, count(decoder.push(chunk))),
      flush: (done) => done(null, count(decoder.end())),
    });
    this.stored = Promise.resolve()
      .then(() => onAttachment(info, this.content))
      .catch((err: unknown) => {
        throw new SeparationError("attachment_failed", `storing attachment ${info.index} failed`, {
          cause: err,
        });
      })
      .finally(() => {
        this.settled = true;
      });
    // handled where it is awaited; this keeps an early failure from being reported as unhandled
    this.stored.catch(() => undefined);
  }

  /** Hands over one raw body chunk, waiting while the caller is behind. */
  async write(chunk: Buffer): Promise<void> {
    if (this.settled) return this.afterEarlyReturn(chunk);
    if (this.content.write(chunk)) return;
    let onDrain: () => void = () => undefined;
    const drained = new Promise<void>((resolve) => {
      onDrain = resolve;
      this.content.once("drain", resolve);
    });
    await Promise.race([drained, this.stored]);
    this.content.off("drain", onDrain);
  }

  /** Ends the attachment and waits for the caller to have stored it. */
  async end(): Promise<SeparatedAttachment> {
    this.content.end();
    await this.stored;
    if (!this.content.readableEnded) {
      // the caller returned before reading to the end: the rest is still counted and hashed
      this.content.resume();
      await finished(this.content);
    }
    const { index, filename, contentType } = this.info;
    return { index, filename, contentType, size: this.size, sha256: this.hash.digest("hex") };
  }

  /** Stops the caller's stream (the rewrite failed elsewhere); the error goes to a reader only. */
  destroy(err: Error): void {
    if (this.content.listenerCount("error")) this.content.destroy(err);
    else this.content.destroy();
  }

  /** onAttachment returned (or failed) before the end: a failure surfaces, data is still hashed. */
  private async afterEarlyReturn(chunk: Buffer): Promise<void> {
    await this.stored;
    this.content.resume();
    this.content.write(chunk);
  }
}
