// GET /addin/outlook/FILE: the Outlook add-in's built files (addin-outlook/dist), flat, by name only.
// A name is one path segment of safe characters naming a regular file of a known type there, so no
// request reaches outside that directory; the manifests come with this gateway's publicUrl in them.
import { Router, type Request, type Response, type NextFunction } from "express";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, extname, join } from "node:path";
import type { Config } from "../config/schema.js";
import type { Links } from "../links.js";
import { ApiError } from "./errors.js";
import { servedJsonManifest, servedXmlManifest } from "./outlook-manifest.js";
import { appPackage } from "./outlook-package.js";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".xml": "application/xml; charset=utf-8",
  ".png": "image/png",
  ".map": "application/json; charset=utf-8",
  ".zip": "application/zip",
};
/** The unified manifest's app package, made from manifest.json on request (outlook-package.ts). */
export const APP_PACKAGE = "sendguard-outlook.zip";
/** No dot first (no hidden files, no ".."), no separator: a name in the directory, nothing else. */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)+$/;
/** Files whose URLs (and send mode) are this gateway's own. */
const REWRITTEN = new Set(["manifest.xml", "manifest.json"]);

/** Where `npm run build -w addin-outlook` puts the files. */
export function outlookAddinDir(): string {
  return join(
    dirname(createRequire(import.meta.url).resolve("@sendguard/addin-outlook/package.json")),
    "dist",
  );
}

export interface OutlookAddinDeps {
  config: Config;
  links: Links;
}

export function outlookAddinRouter(deps: OutlookAddinDeps, dir = outlookAddinDir()): Router {
  const router = Router();
  // The files are revalidated on every load (ETag / Last-Modified: a 304 costs little): their names
  // carry no version, and after an upgrade Outlook must run the new handler, not a cached one.
  const headers = (res: Response, type: string) => {
    res.set({ "Content-Type": type, "Cache-Control": "no-cache" });
    // Outlook on the web shows the task panes and runs the event page in frames of its own origin.
    res.removeHeader("X-Frame-Options");
  };
  router.get("/addin/outlook/:file", async (req: Request<{ file: string }>, res, next: NextFunction) => {
    const name = req.params.file;
    const type = TYPES[extname(name)];
    if (!SAFE_NAME.test(name) || !type) return next(new ApiError(404, "not_found"));
    if (REWRITTEN.has(name) || name === APP_PACKAGE) {
      const source = name === APP_PACKAGE ? "manifest.json" : name;
      let body: string | Buffer;
      try {
        const text = await readFile(join(dir, source), "utf8");
        const served = { publicUrl: deps.links.publicUrl, sendMode: deps.config.outlook.sendMode };
        body = source.endsWith(".xml") ? servedXmlManifest(text, served) : servedJsonManifest(text, served);
        if (name === APP_PACKAGE) body = await appPackage(body, dir);
      } catch {
        return next(new ApiError(404, "not_found"));
      }
      headers(res, type);
      // Express's send answers a matching If-None-Match with 304 from the body's ETag.
      res.send(body);
      return;
    }
    headers(res, type);
    res.sendFile(name, { root: dir, dotfiles: "deny", cacheControl: false }, (err) => {
      if (err && !res.headersSent) next(new ApiError(404, "not_found"));
    });
  });
  return router;
}
