// The download centre a recipient reaches from the link in their mail, /d/TOKEN: the password (or
// a one-time code mailed to them), then a short session (a signed cookie for this link's path
// only), the list of files, each file or all of them as one ZIP, decrypted as they stream out.
// Unknown tokens get 404; links stopped, expired or used up get 410; a wrong form, its page.
import { formatDuration, isLanguage, type Language } from "@sendguard/shared";
import express, { type Request, type Response, Router } from "express";
import { pipeline } from "node:stream/promises";
import type { Config } from "../config/schema.js";
import { linkEnd, liveFiles, type DownloadAccess, type FoundLink } from "../downloads/access.js";
import type { Vault } from "../downloads/vault.js";
import { firstDownloadNotice } from "../downloads/first-download.js";
import { writeZip } from "../downloads/zip-all.js";
import type { Links } from "../links.js";
import type { Logger } from "../log.js";
import { safeEqual, sha256 } from "../secrets.js";
import type { DownloadFileRecord, DownloadLogEntry, Store } from "../store/types.js";
import { cookie } from "./auth.js";
import { sendEnded, sendFileList, sendSignIn, type PageContext, type PageNotice } from "./download-views.js";
import { errorsAsPage, sendErrorPage, sendNotFound } from "./html.js";

export interface DownloadPageDeps {
  config: Config;
  store: Store;
  vault: Vault;
  links: Links;
  access: DownloadAccess;
  log: Logger;
  /** A notice was queued (the sender's "[ダウンロード通知]"): the scheduler sends it now. */
  onNoticeQueued?: () => void;
  /** How long a session lasts after the right password or code; default 30 minutes. */
  sessionMinutes?: number;
  now?: () => number;
}

const SESSION_COOKIE = "sg_download";
/** newToken(): 32 bytes in base64url. Anything else is not looked up. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const NOTICES = new Set<string>([
  "wrong_password",
  "wrong_code",
  "no_code",
  "code_sent",
  "locked",
  "resend_wait",
  "busy",
  "csrf",
]);

export function downloadRouter(deps: DownloadPageDeps): Router {
  const { config, store, vault, links, access, log } = deps;
  const now = deps.now ?? Date.now;
  const sessionMs = (deps.sessionMinutes ?? 30) * 60_000;
  const fallback = config.organization.language;
  const timeZone = config.organization.timezone;
  const secureCookie = (config.publicUrl ?? "").startsWith("https:");
  const router = Router();
  router.use("/d", errorsAsPage("download.title", fallback));
  const form = express.urlencoded({ extended: false, limit: "4kb", parameterLimit: 10 });

  const languageOf = (req: Request, res: Response): Language =>
    isLanguage(req.query.lang) ? req.query.lang : ((res.locals.lang as Language | undefined) ?? fallback);

  async function find(req: Request): Promise<FoundLink | undefined> {
    const token = String(req.params.token);
    return TOKEN.test(token) ? store.downloadLinkByToken(sha256(token)) : undefined;
  }

  /** The link, or undefined once its answer (404, 410) has been sent. */
  async function usable(req: Request, res: Response): Promise<FoundLink | undefined> {
    const found = await find(req);
    const lang = languageOf(req, res);
    if (!found) return void sendNotFound(res, lang, "download.title");
    const end = linkEnd(found, now());
    if (end) return void sendEnded(res, lang, timeZone, end, found.package);
    return found;
  }

  const base = (req: Request) => `/d/${String(req.params.token)}`;

  function context(req: Request, res: Response, found: FoundLink): PageContext {
    return {
      lang: languageOf(req, res),
      timeZone,
      base: base(req),
      csrf: links.downloadCsrf(found.link.id),
      pkg: found.package,
      link: found.link,
    };
  }

  const signedIn = (req: Request, found: FoundLink) => {
    const session = cookie(req, SESSION_COOKIE);
    return !!session && links.verifyDownloadSession(found.link.id, session, now());
  };

  function back(req: Request, res: Response, notice: PageNotice | null, vars: Record<string, number> = {}) {
    const query = new URLSearchParams({ lang: languageOf(req, res) });
    if (notice) query.set("e", notice);
    for (const [name, value] of Object.entries(vars)) query.set(name, String(value));
    res.redirect(303, `${base(req)}?${query}`);
  }

  function startSession(req: Request, res: Response, found: FoundLink): void {
    res.cookie(SESSION_COOKIE, links.downloadSession(found.link.id, now() + sessionMs), {
      httpOnly: true,
      sameSite: "strict",
      secure: secureCookie,
      path: base(req),
      maxAge: sessionMs,
    });
  }

  const csrfOk = (req: Request, found: FoundLink) => {
    const sent = (req.body as { csrf?: unknown } | undefined)?.csrf;
    return typeof sent === "string" && safeEqual(sent, links.downloadCsrf(found.link.id));
  };

  const field = (req: Request, name: string) => {
    const value = (req.body as Record<string, unknown> | undefined)?.[name];
    return typeof value === "string" ? value : "";
  };

  router.get("/d/:token", async (req, res) => {
    const found = await usable(req, res);
    if (!found) return;
    const ctx = context(req, res, found);
    if (signedIn(req, found)) return sendFileList(res, ctx, liveFiles(found.package));
    const e =
      typeof req.query.e === "string" && NOTICES.has(req.query.e) ? (req.query.e as PageNotice) : null;
    const number = (name: string) => Math.min(Math.max(Number(req.query[name]) || 0, 0), 86400);
    const minutes = e === "locked" ? Math.max(1, Math.ceil(number("seconds") / 60)) : number("minutes");
    sendSignIn(res, ctx, e, { duration: formatDuration(minutes, ctx.lang), seconds: number("seconds") });
  });

  router.post("/d/:token/password", form, async (req, res) => {
    const found = await usable(req, res);
    if (!found) return;
    if (!csrfOk(req, found)) return back(req, res, "csrf");
    if (found.package.authMode !== "password") return back(req, res, null);
    const result = await access.checkPassword(found, field(req, "password"), req.ip ?? "");
    answer(req, res, found, result, "wrong_password");
  });

  router.post("/d/:token/code", form, async (req, res) => {
    const found = await usable(req, res);
    if (!found) return;
    if (!csrfOk(req, found)) return back(req, res, "csrf");
    if (found.package.authMode !== "otp") return back(req, res, null);
    const result = await access.sendCode(found, req.ip ?? "", languageOf(req, res));
    if (result.sent)
      back(req, res, "code_sent", { minutes: Math.round((result.expiresAt - now()) / 60_000) });
    else back(req, res, "resend_wait", { seconds: result.retryAfter });
  });

  router.post("/d/:token/verify", form, async (req, res) => {
    const found = await usable(req, res);
    if (!found) return;
    if (!csrfOk(req, found)) return back(req, res, "csrf");
    if (found.package.authMode !== "otp") return back(req, res, null);
    const result = await access.checkCode(found, field(req, "code"), req.ip ?? "");
    answer(req, res, found, result, "wrong_code");
  });

  function answer(
    req: Request,
    res: Response,
    found: FoundLink,
    result: Awaited<ReturnType<DownloadAccess["checkPassword"]>>,
    wrong: PageNotice,
  ): void {
    if (result.ok) {
      startSession(req, res, found);
      return back(req, res, null);
    }
    if (result.reason === "locked") return back(req, res, "locked", { seconds: result.retryAfter });
    back(req, res, result.reason === "wrong" ? wrong : result.reason);
  }

  /** Counts one download on the link (410 when the limit is reached) and logs it. */
  async function counted(req: Request, res: Response, found: FoundLink, file: DownloadFileRecord | null) {
    const at = now();
    const entry: DownloadLogEntry = {
      packageId: found.package.id,
      linkId: found.link.id,
      recipient: found.link.recipient,
      fileId: file?.id ?? null,
      ip: req.ip ?? "",
      outcome: file ? "downloaded" : "downloaded_all",
    };
    const notice = await firstDownloadNotice(store, found, file, entry.ip, at);
    const { counted: ok, first } = await store.countDownload(
      found.link.id,
      found.package.maxDownloads,
      at,
      entry,
      notice,
    );
    if (!ok) {
      sendEnded(res, languageOf(req, res), timeZone, "limit", found.package);
      return null;
    }
    if (first && notice) deps.onNoticeQueued?.();
    return entry;
  }

  /** A stream that failed after its headers went out can only be cut off; before, it is an error page. */
  async function failed(req: Request, res: Response, entry: DownloadLogEntry, err: unknown) {
    // A recipient who cancels is no fault of the gateway's; a file that fails to verify is.
    const cancelled = (err as { code?: string }).code === "ERR_STREAM_PREMATURE_CLOSE";
    if (cancelled)
      log.info({ package: entry.packageId, file: entry.fileId }, "download cancelled by the client");
    else log.error({ err, package: entry.packageId, file: entry.fileId }, "download failed");
    await store.logDownloads([{ ...entry, outcome: "failed" }], now()).catch(() => undefined);
    if (res.headersSent) res.destroy();
    else sendErrorPage(res, 500, { lang: languageOf(req, res), title: "download.title" });
  }

  function downloadHeaders(res: Response, name: string): void {
    // Sets Content-Disposition through the content-disposition package: filename* (RFC 5987,
    // UTF-8) with an ASCII fallback. The type is never the sender's: served as data, not as a page.
    res.attachment(name);
    res.set({
      "Content-Type": "application/octet-stream",
      "Cache-Control": "no-store",
      "Content-Security-Policy": "sandbox; default-src 'none'",
      "Referrer-Policy": "no-referrer",
    });
  }

  router.get("/d/:token/f/:fileId", async (req, res) => {
    const found = await usable(req, res);
    if (!found) return;
    if (!signedIn(req, found)) return back(req, res, null);
    const file = liveFiles(found.package).find((f) => f.id === req.params.fileId);
    if (!file) return sendNotFound(res, languageOf(req, res), "download.title");
    // HEAD (Express answers it with the GET route) says what a download would be, and is no download.
    if (req.method === "HEAD") {
      downloadHeaders(res, file.name);
      return void res.set("Content-Length", String(file.size)).end();
    }
    const entry = await counted(req, res, found, file);
    if (!entry) return;
    downloadHeaders(res, file.name);
    res.set("Content-Length", String(file.size));
    await pipeline(vault.open(file), res).catch((err: unknown) => failed(req, res, entry, err));
  });

  router.get("/d/:token/all.zip", async (req, res) => {
    const found = await usable(req, res);
    if (!found) return;
    if (!signedIn(req, found)) return back(req, res, null);
    if (req.method === "HEAD") return void (downloadHeaders(res, "files.zip"), res.end());
    const entry = await counted(req, res, found, null);
    if (!entry) return;
    downloadHeaders(res, "files.zip");
    const sources = liveFiles(found.package).map((file) => ({
      name: file.name,
      open: () => vault.open(file),
    }));
    await writeZip(sources, res).catch((err: unknown) => failed(req, res, entry, err));
  });

  return router;
}
