// API errors: {error:{code, message}} with a stable code and the message in the caller's language.
import { t, type Language, type MessageKey } from "@sendguard/shared";
import type { NextFunction, Request, Response } from "express";
import type { Logger } from "../log.js";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly vars: Record<string, string | number> = {},
    readonly headers: Record<string, string> = {},
    /** More fields of the error object, e.g. {rule} for a policy rejection. */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(code);
  }
}

export function languageOf(res: Response): Language {
  return (res.locals.lang as Language | undefined) ?? "en";
}

export function sendError(res: Response, err: ApiError): void {
  const key = `error.${err.code}` as MessageKey;
  const lang = languageOf(res);
  let message: string;
  try {
    message = t(lang, key, err.vars);
  } catch {
    message = err.code;
  }
  for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
  res.status(err.status).json({ error: { code: err.code, ...err.extra, message } });
}

/** Maps body-parser and unknown errors to the same error shape; never leaks a stack trace. */
export function errorHandler(log: Logger) {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction): void => {
    if (res.headersSent) return;
    if (err instanceof ApiError) return sendError(res, err);
    const e = err as { type?: string; status?: number; message?: string; limit?: number };
    if (e.type === "entity.too.large")
      return sendError(res, new ApiError(413, "too_large", { limit: e.limit ?? 0 }));
    if (e.type === "entity.parse.failed") {
      return sendError(res, new ApiError(400, "bad_request", { detail: "the body is not valid JSON" }));
    }
    if (e.status && e.status >= 400 && e.status < 500) {
      return sendError(
        res,
        new ApiError(e.status, "bad_request", { detail: e.message ?? "malformed request" }),
      );
    }
    log.error({ err }, "unhandled web error");
    sendError(res, new ApiError(500, "internal"));
  };
}
