// API errors: {error:{code, message}} with a stable code and the message in the caller's language.
import { t, type Language, type MessageKey } from "@sendguard/shared";
import type { NextFunction, Request, Response } from "express";
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { Logger } from "../log.js";
import { sendErrorPage, type ErrorPage } from "./html.js";

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

/**
 * Maps body-parser, router and unknown errors to the same error shape, as JSON or, under a page's
 * path (see errorsAsPage), as that page; never leaks a stack trace.
 */
export function errorHandler(log: Logger) {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction): void => {
    if (res.headersSent) return;
    const apiError = asApiError(err, log);
    const page = res.locals.errorPage as ErrorPage | undefined;
    if (page) sendErrorPage(res, apiError.status, page);
    else sendError(res, apiError);
  };
}

function asApiError(err: unknown, log: Logger): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as { type?: string; status?: number; message?: string; limit?: number };
  if (e.type === "entity.too.large") return new ApiError(413, "too_large", { limit: e.limit ?? 0 });
  if (e.type === "entity.parse.failed") {
    return new ApiError(400, "bad_request", { detail: "the body is not valid JSON" });
  }
  if (e.status && e.status >= 400 && e.status < 500) {
    return new ApiError(e.status, "bad_request", { detail: e.message ?? "malformed request" });
  }
  log.error({ err }, "unhandled web error");
  return new ApiError(500, "internal");
}

/**
 * What Node's HTTP parser refuses before Express sees a request (headers over its 16 KiB limit,
 * bytes that are not HTTP) gets the same {error:{code, message}} instead of an empty 400 or 431; in
 * the organisation's language, as no Accept-Language could be read. For server.on("clientError").
 */
export function unparsedRequestAnswer(lang: Language) {
  return (err: Error & { code?: string }, socket: Duplex): void => {
    // Gone, or a response of an earlier request on this connection is under way: just close.
    if (err.code === "ECONNRESET" || !socket.writable || (socket as Socket).bytesWritten > 0) {
      return void socket.destroy();
    }
    const [status, detail] =
      err.code === "HPE_HEADER_OVERFLOW"
        ? [431, "the request's headers are larger than 16 KiB"]
        : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
          ? [408, "the request did not arrive in time"]
          : [400, "this is not an HTTP request the gateway can read"];
    const body = JSON.stringify({
      error: { code: "bad_request", message: t(lang, "error.bad_request", { detail }) },
    });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  };
}
