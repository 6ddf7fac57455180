// Why a message could not be separated. The caller keeps the message as it came (or applies its
// policy) and discards whatever the rewriter had written: the output of a failed run is incomplete.

export type SeparationErrorCode =
  /** S/MIME or PGP/MIME: rewriting would break the signature or cannot reach the content. */
  | "signed_or_encrypted"
  /** Multiparts nested deeper than the limit. */
  | "too_deep"
  /** More MIME parts than the limit. */
  | "too_many_parts"
  /** One part's header block is larger than the limit. */
  | "header_too_large"
  /** The message cannot be read as MIME at all. */
  | "malformed"
  /** The caller's onAttachment or appendParts failed (the cause says why). */
  | "attachment_failed"
  /** A part handed to appendParts is not a header block followed by a body. */
  | "invalid_part";

export class SeparationError extends Error {
  constructor(
    readonly code: SeparationErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "SeparationError";
  }
}
