// The HTTP side: API, hold pages, the Outlook add-in's files, health and metrics.
import express, { type Express } from "express";
import type { PasswordChecker } from "../auth/passwords.js";
import type { Config } from "../config/schema.js";
import type { DkimKeys } from "../delivery/dkim.js";
import type { Links } from "../links.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";
import type { Intake } from "../pipeline/intake.js";
import type { PolicyService } from "../policy/service.js";
import type { Store } from "../store/types.js";
import { accountRouter } from "./account.js";
import { adminRouter } from "./admin.js";
import { apiRouter } from "./api.js";
import { authenticate, language } from "./auth.js";
import { ApiError, errorHandler } from "./errors.js";
import { approveRouter } from "./approve-page.js";
import { holdRouter } from "./hold-page.js";
import { downloadRouter } from "./download-page.js";
import { downloadsApiRouter } from "./downloads-api.js";
import type { DownloadAccess } from "../downloads/access.js";
import type { DownloadService } from "../downloads/service.js";
import type { Vault } from "../downloads/vault.js";
import { metricsAccess } from "./metrics-access.js";
import { outlookAddinRouter } from "./outlook-addin.js";

export interface WebDeps {
  config: Config;
  store: Store;
  intake: Intake;
  passwords: PasswordChecker;
  policies: PolicyService;
  /** The DKIM keys deliveries sign with: a key made through the admin API replaces the cached one. */
  dkim: DkimKeys;
  links: Links;
  metrics: Metrics;
  log: Logger;
  onReleased: () => void;
  /** The download centre: recipients' pages (/d/…) and the senders' API (/api/v1/downloads). */
  downloadVault: Vault;
  downloadAccess: DownloadAccess;
  downloadService: DownloadService;
}

export function createApp(deps: WebDeps): Express {
  const { config, store, metrics, log } = deps;
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", "loopback");
  app.use(language(config.organization.language));
  app.use((_req, res, next) => {
    res.set({ "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY" });
    next();
  });

  app.get("/healthz", async (_req, res) => {
    const depth = await store.queueDepth();
    res.json({ status: "ok", queue: depth });
  });
  app.get("/metrics", authenticate(store), metricsAccess(config), async (_req, res) => {
    res.set("Content-Type", metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.get("/", (_req, res) => {
    res.type("text/plain; charset=utf-8").send("Sendguard gateway. API: /api/v1 — 送信保留ゲートウェイ\n");
  });

  app.use(outlookAddinRouter(deps));
  app.use(holdRouter(deps));
  app.use(approveRouter(deps));
  app.use(
    downloadRouter({
      config,
      store,
      links: deps.links,
      log,
      vault: deps.downloadVault,
      access: deps.downloadAccess,
      // wakes the scheduler, as a release does
      onNoticeQueued: deps.onReleased,
    }),
  );
  app.use("/api/v1", authenticate(store));
  app.use("/api/v1/admin", adminRouter(store, deps.policies, deps.dkim));
  app.use("/api/v1", accountRouter(deps));
  app.use("/api/v1", apiRouter(deps));
  app.use("/api/v1", downloadsApiRouter({ store, service: deps.downloadService }));
  app.use((_req, _res, next) => next(new ApiError(404, "not_found")));
  app.use(errorHandler(log));
  return app;
}
