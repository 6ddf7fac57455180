// The one error the ZIP writer rejects with for what it refuses or cannot read; `code` is stable, for
// callers to map to their own messages (a person reads those in Japanese or English).

export type ZipErrorCode =
  | "bad_request"
  | "too_many_files"
  | "file_too_large"
  | "archive_too_large"
  | "file_unreadable"
  | "file_changed"
  | "output_unwritable";

/** A request the writer refuses, or an input file it cannot archive; `code` says which. */
export class ZipError extends Error {
  constructor(
    readonly code: ZipErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "ZipError";
  }
}
