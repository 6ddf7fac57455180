// Minimal server-side HTML: escaping and a page shell with a strict CSP (inline code needs the nonce).
import { randomBytes } from "node:crypto";
import { isLanguage, t, type Language, type MessageKey } from "@sendguard/shared";
import type { Request, RequestHandler, Response } from "express";
import type { MessageRecord } from "../store/types.js";

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function esc(value: string | number): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

/** A capability page's language: ?lang=, else the message's, else the organisation's. */
export function pageLanguage(req: Request, message: MessageRecord | undefined, fallback: Language): Language {
  return isLanguage(req.query.lang) ? req.query.lang : (message?.language ?? fallback);
}

/** The shell an error under a page's path is shown in: a person opened that link in a browser. */
export interface ErrorPage {
  lang: Language;
  title: MessageKey;
}

/**
 * Marks the requests under a page's path, so that what fails before or inside its handlers (a
 * malformed link, an oversized or garbled form, an unknown sub-path) is answered with a page, not JSON.
 */
export function errorsAsPage(title: MessageKey, fallback: Language): RequestHandler {
  return (req, res, next) => {
    const page: ErrorPage = { lang: pageLanguage(req, undefined, fallback), title };
    res.locals.errorPage = page;
    next();
  };
}

/** An error page that says nothing about any message: 404 for a wrong link, else what went wrong. */
export function sendErrorPage(res: Response, status: number, page: ErrorPage): void {
  const text: MessageKey =
    status === 404 ? "page.notFound" : status >= 500 ? "error.internal" : "page.badRequest";
  const { lang } = page;
  sendPage(res, status, { lang, title: t(lang, page.title), body: () => `<p>${esc(t(lang, text))}</p>` });
}

/** What a wrong, tampered or expired capability link gets: 404 and nothing about the message. */
export function sendNotFound(res: Response, lang: Language, title: MessageKey): void {
  sendErrorPage(res, 404, { lang, title });
}

export function sendPage(
  res: Response,
  status: number,
  page: { lang: string; title: string; body: (nonce: string) => string },
): void {
  const nonce = randomBytes(16).toString("base64");
  res.status(status).set({
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
  }).send(`<!doctype html>
<html lang="${esc(page.lang)}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(page.title)}</title>
<style nonce="${nonce}">
body{font-family:"Segoe UI","Hiragino Sans","Noto Sans JP",Meiryo,sans-serif;margin:0;background:#f5f5f5;color:#242424}
main{max-width:640px;margin:40px auto;background:#fff;border-radius:8px;padding:24px 32px;box-shadow:0 2px 6px rgba(0,0,0,.12)}
h1{font-size:20px;margin:0 0 16px}dl{display:grid;grid-template-columns:max-content 1fr;gap:8px 16px;margin:0 0 24px}
dt{color:#616161}dd{margin:0;word-break:break-all}.countdown{font-size:32px;font-weight:600;color:#0f6cbd}
.bar{height:8px;background:#e0e0e0;border-radius:4px;overflow:hidden;margin:8px 0 24px}.bar>div{height:100%;background:#0f6cbd}
.actions{display:flex;gap:12px}button{font:inherit;padding:8px 20px;border-radius:4px;border:1px solid #d1d1d1;background:#fff;cursor:pointer}
button.primary{background:#0f6cbd;color:#fff;border-color:#0f6cbd}button.danger{color:#c50f1f;border-color:#c50f1f}
.notice{padding:12px 16px;border-radius:4px;background:#ebf3fc;margin-bottom:16px}.notice.error{background:#fdf3f4;color:#b10e1c}
.lang{float:right;font-size:13px}.tls{margin:0 0 4px 16px;font-size:13px;color:#616161;word-break:normal;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;margin:0 0 16px}th,td{text-align:left;padding:8px 6px;border-bottom:1px solid #e0e0e0}
td.name{word-break:break-all}form{margin:0 0 16px}input{font:inherit;padding:6px 8px;border:1px solid #d1d1d1;border-radius:4px;max-width:100%}
a.button{display:inline-block;padding:8px 20px;border-radius:4px;text-decoration:none}a.button.primary{background:#0f6cbd;color:#fff}
</style></head><body><main>${page.body(nonce)}</main></body></html>`);
}
