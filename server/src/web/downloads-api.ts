// /api/v1/downloads: a sender's control over the download packages of their messages: see one,
// stop it (whole, one file, one recipient), extend its expiry, read its log. Only the owner acts;
// an admin may read. Anyone else gets 404, as for messages: whether a package exists is not told.
import type {
  DownloadExtendRequest,
  DownloadLogView,
  DownloadPackageView,
  DownloadStopRequest,
} from "@sendguard/shared";
import express, { type Request, type Response, Router } from "express";
import { DownloadRequestError, type DownloadService } from "../downloads/service.js";
import type { DownloadPackageRecord, DownloadStopTarget, Store } from "../store/types.js";
import { currentUser, requireUser } from "./auth.js";
import { ApiError } from "./errors.js";

export interface DownloadsApiDeps {
  store: Store;
  /** Bounds an extension by its maximum expiry. */
  service: Pick<DownloadService, "checkExpiry">;
  /** Log entries a GET returns at most; default 1000. */
  logLimit?: number;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function downloadView(pkg: DownloadPackageRecord): DownloadPackageView {
  return {
    id: pkg.id,
    messageId: pkg.messageId,
    createdAt: new Date(pkg.createdAt).toISOString(),
    expiresAt: new Date(pkg.expiresAt).toISOString(),
    stoppedAt: iso(pkg.stoppedAt),
    authMode: pkg.authMode,
    maxDownloads: pkg.maxDownloads,
    files: pkg.files.map((f) => ({
      id: f.id,
      name: f.name,
      size: f.size,
      sha256: f.sha256,
      stoppedAt: iso(f.stoppedAt),
      deleted: f.deletedAt !== null,
    })),
    links: pkg.links.map((l) => ({
      recipient: l.recipient,
      downloads: l.downloadCount,
      stoppedAt: iso(l.stoppedAt),
      lockedUntil: iso(l.lockedUntil),
    })),
  };
}

const badRequest = (detail: string) => new ApiError(400, "bad_request", { detail });

export function downloadsApiRouter(deps: DownloadsApiDeps): Router {
  const { store } = deps;
  const logLimit = deps.logLimit ?? 1000;
  const router = Router();
  const smallJson = express.json({ limit: "4kb" });

  /** The package, if the caller may `act` on it (owner) or read it (owner or admin); else 404 / 403. */
  async function load(req: Request, res: Response, act: boolean): Promise<DownloadPackageRecord> {
    const user = currentUser(res);
    const pkg = await store.downloadPackage(String(req.params.id));
    const owner = pkg !== undefined && pkg.ownerUserId === user.id;
    if (!pkg || (!owner && user.role !== "admin")) throw new ApiError(404, "not_found");
    if (act && !owner) throw new ApiError(403, "forbidden");
    return pkg;
  }

  const body = (req: Request): Record<string, unknown> => {
    const value: unknown = req.body;
    if (value === undefined) return {};
    if (typeof value !== "object" || value === null || Array.isArray(value))
      throw badRequest("send a JSON object");
    return value as Record<string, unknown>;
  };

  router.get("/downloads/:id", requireUser, async (req, res) => {
    res.json(downloadView(await load(req, res, false)));
  });

  router.post("/downloads/:id/stop", requireUser, smallJson, async (req, res) => {
    const pkg = await load(req, res, true);
    const { fileId, recipient } = body(req) as DownloadStopRequest;
    if (fileId !== undefined && recipient !== undefined)
      throw badRequest("give fileId or recipient, not both");
    let target: DownloadStopTarget = null;
    if (fileId !== undefined) {
      if (typeof fileId !== "string" || !pkg.files.some((f) => f.id === fileId))
        throw badRequest(
          `fileId ${JSON.stringify(String(fileId).slice(0, 100))} is not a file of this package`,
        );
      target = { fileId };
    } else if (recipient !== undefined) {
      const link =
        typeof recipient === "string"
          ? pkg.links.find((l) => l.recipient.toLowerCase() === recipient.toLowerCase())
          : undefined;
      if (!link)
        throw badRequest(
          `recipient ${JSON.stringify(String(recipient).slice(0, 320))} has no link in this package`,
        );
      target = { linkId: link.id };
    }
    const user = currentUser(res);
    await store.stopDownloads(pkg.id, target, Date.now(), {
      actor: user.email,
      action: "downloads_stopped",
      messageId: pkg.messageId,
      detail: { packageId: pkg.id, ...(fileId ? { fileId } : {}), ...(recipient ? { recipient } : {}) },
    });
    res.json(downloadView((await store.downloadPackage(pkg.id)) as DownloadPackageRecord));
  });

  router.post("/downloads/:id/extend", requireUser, smallJson, async (req, res) => {
    const pkg = await load(req, res, true);
    const { expiresAt } = body(req) as Partial<DownloadExtendRequest>;
    const at = typeof expiresAt === "string" ? Date.parse(expiresAt) : Number.NaN;
    if (Number.isNaN(at)) throw badRequest('send {"expiresAt": "an ISO 8601 time"}');
    if (pkg.stoppedAt !== null) throw badRequest("the package was stopped; a stopped package stays stopped");
    if (pkg.files.every((f) => f.deletedAt !== null))
      throw badRequest("retention has already deleted the package's files");
    try {
      deps.service.checkExpiry(at);
    } catch (err) {
      if (err instanceof DownloadRequestError) throw badRequest(err.message);
      throw err;
    }
    const user = currentUser(res);
    await store.extendDownloads(pkg.id, at, {
      actor: user.email,
      action: "downloads_extended",
      messageId: pkg.messageId,
      detail: {
        packageId: pkg.id,
        from: new Date(pkg.expiresAt).toISOString(),
        to: new Date(at).toISOString(),
      },
    });
    res.json(downloadView((await store.downloadPackage(pkg.id)) as DownloadPackageRecord));
  });

  router.get("/downloads/:id/log", requireUser, async (req, res) => {
    const pkg = await load(req, res, false);
    const names = new Map(pkg.files.map((f) => [f.id, f.name]));
    const log = await store.downloadLog(pkg.id, logLimit);
    const view: DownloadLogView = {
      log: log.map((e) => ({
        at: new Date(e.at).toISOString(),
        ip: e.ip,
        recipient: e.recipient,
        fileId: e.fileId,
        file: e.fileId === null ? null : (names.get(e.fileId) ?? null),
        outcome: e.outcome,
      })),
    };
    res.json(view);
  });

  return router;
}
