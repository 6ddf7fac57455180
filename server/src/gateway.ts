// Wires the parts together: store → intake (SMTP + HTTP) → scheduler → relay, in one process.
import { mkdir, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import type { SMTPServer } from "smtp-server";
import { PasswordChecker } from "./auth/passwords.js";
import type { Config } from "./config/schema.js";
import { DkimKeys } from "./delivery/dkim.js";
import { RelayThread } from "./delivery/relay-thread.js";
import { Scheduler } from "./delivery/scheduler.js";
import { createSmtpServer, logSubmissionAccess } from "./intake/smtp.js";
import { loadTls } from "./intake/tls.js";
import { Links, loadServerSecret } from "./links.js";
import type { Logger } from "./log.js";
import { Metrics } from "./metrics.js";
import { NoticeSender } from "./notify/sender.js";
import { Analyzer } from "./pipeline/analyzer.js";
import { Intake } from "./pipeline/intake.js";
import { reconcileSpool, type ReconcileOptions } from "./pipeline/reconcile.js";
import { PolicyService } from "./policy/service.js";
import { RetentionJob } from "./retention.js";
import { closeHttp, closeSmtp } from "./shutdown.js";
import { lockDataDir } from "./store/data-dir-lock.js";
import { Spool, spoolDir } from "./store/spool.js";
import { SqliteStore } from "./store/sqlite.js";
import type { Store } from "./store/types.js";
import { createApp } from "./web/app.js";
import { Vault } from "./downloads/vault.js";
import { DownloadAccess } from "./downloads/access.js";
import { DownloadService } from "./downloads/service.js";
import { tlsProbeFromConfig } from "./delivery/tls-probe-config.js";
import { CopyMaker } from "./pipeline/transform/copies.js";
import { Separator } from "./pipeline/transform/separate/separator.js";
import { createCopyTools } from "./pipeline/transform/tools.js";
import { sweepCopies } from "./pipeline/transform/copies-sweep.js";
import { unparsedRequestAnswer } from "./web/errors.js";

export interface Gateway {
  store: Store;
  relay: RelayThread;
  publicUrl: string;
  ports: { http: number; https: number | null; smtp: number; smtps: number | null };
  tlsSelfSigned: boolean;
  close(): Promise<void>;
}

/** The download centre's encrypted files: DATA/downloads. */
export function downloadVault(config: Config): Vault {
  return new Vault(join(config.dataDir, "downloads"));
}

export function openStore(config: Config): Promise<SqliteStore> {
  return mkdir(config.dataDir, { recursive: true }).then(() =>
    SqliteStore.open(join(config.dataDir, "sendguard.db")),
  );
}

/** The spool of message bodies, ready for use (its directory exists). */
export async function openSpool(config: Config): Promise<Spool> {
  const spool = new Spool(spoolDir(config.dataDir), config.spool);
  await spool.init();
  return spool;
}

function listen(server: SMTPServer | Server | HttpsServer, port: number, host: string): Promise<number> {
  return new Promise((done, fail) => {
    const s = server as Server;
    s.once("error", fail);
    s.listen(port, host, () => {
      s.off("error", fail);
      const address = ("server" in server ? (server as SMTPServer).server : s).address() as AddressInfo;
      done(address.port);
    });
  });
}

export async function startGateway(
  config: Config,
  log: Logger,
  options: ReconcileOptions = {},
): Promise<Gateway> {
  config = { ...config, dataDir: resolve(config.dataDir) };
  // Before the data directory is locked: a CA file that cannot be read stops the start cleanly.
  const probe = await tlsProbeFromConfig(config);
  await mkdir(config.dataDir, { recursive: true });
  // Before anything in the directory is touched: the store's start resets every lease.
  const lock = await lockDataDir(config.dataDir);
  const store = await openStore(config);
  const spool = await openSpool(config);
  try {
    await reconcileSpool(store, spool, log, options);
    await sweepCopies(spool, store, log);
  } catch (err) {
    await store.close();
    await lock.release();
    throw err;
  }
  // Scratch space (DKIM signing of large messages): anything left there is from a previous run.
  await rm(join(config.dataDir, "tmp"), { recursive: true, force: true });
  await mkdir(join(config.dataDir, "tmp", "dkim"), { recursive: true, mode: 0o700 });
  const metrics = new Metrics(store);
  // Listen first so that a port chosen by the OS (0, in tests) is known for the links in notices.
  const httpServer = createServer();
  httpServer.on("clientError", unparsedRequestAnswer(config.organization.language));
  const httpPort = await listen(httpServer, config.http.port, config.http.host);
  const tls = await loadTls(config);
  // The same app over TLS, with the SMTP certificate: Outlook loads add-in files only over HTTPS.
  let httpsServer: HttpsServer | null = null;
  let httpsPort: number | null = null;
  if (config.http.httpsPort !== null) {
    httpsServer = createHttpsServer({ key: tls.key, cert: tls.cert });
    httpsServer.on("clientError", unparsedRequestAnswer(config.organization.language));
    httpsPort = await listen(httpsServer, config.http.httpsPort, config.http.host);
  }
  const publicUrl =
    config.publicUrl ??
    (httpsPort === null ? `http://localhost:${httpPort}` : `https://localhost:${httpsPort}`);
  // Released messages and notices leave from one thread of their own, over its connections.
  const relay = new RelayThread(config);
  const dkim = new DkimKeys(store);
  const passwords = new PasswordChecker(store, config.smtp.authFailures, {
    concurrent: config.auth.concurrentPasswordChecks,
    queued: config.auth.queuedPasswordChecks,
  });
  const links = new Links(publicUrl, await loadServerSecret(config.dataDir));
  const notices = new NoticeSender(config, relay, links, dkim);
  const policies = new PolicyService(store, config, log);
  await policies.load(); // a stored policy that no longer validates is reported now, not at the first message
  const vault = downloadVault(config);
  await vault.init();
  const downloads = new DownloadService({ store, vault, publicUrl });
  const separator = new Separator();
  const copies = new CopyMaker({
    spool,
    store,
    tools: createCopyTools({
      separator,
      downloads,
      probe,
      timeZone: config.organization.timezone,
      language: config.organization.language,
    }),
    settingsFor: async (message) => {
      const user = message.userId === null ? null : ((await store.userById(message.userId)) ?? null);
      return (await policies.effectiveFor(user, message.sender)).policy.attachments;
    },
  });
  const scheduler = new Scheduler({ config, store, spool, relay, dkim, notices, copies, metrics, log });
  const access = new DownloadAccess(store, {
    // The code goes out as a notice, at once: the recipient is waiting on the page for it.
    sendCode: async (mail) => {
      await store.queueNotices(
        [
          {
            kind: "download_code",
            messageId: mail.packageId,
            recipient: mail.recipient,
            language: mail.language,
            data: { code: mail.code, expiresAt: mail.expiresAt },
          },
        ],
        Date.now(),
      );
      scheduler.wake();
    },
  });
  const analyzer = new Analyzer({ ...config.analysis, log });
  const intake = new Intake({
    config,
    store,
    spool,
    policies,
    analyzer,
    metrics,
    log,
    onStored: () => scheduler.wake(),
  });
  const smtp = createSmtpServer({ config, intake, passwords, store, log, tls }, false);
  smtp.on("error", (err) => log.error({ err }, "smtp server error"));
  const smtpPort = await listen(smtp, config.smtp.port, config.smtp.host);
  logSubmissionAccess(config, log);
  let smtps: SMTPServer | null = null;
  let smtpsPort: number | null = null;
  if (config.smtp.implicitTlsPort !== null) {
    smtps = createSmtpServer({ config, intake, passwords, store, log, tls }, true);
    smtps.on("error", (err) => log.error({ err }, "smtps server error"));
    smtpsPort = await listen(smtps, config.smtp.implicitTlsPort, config.smtp.host);
  }
  const app = createApp({
    config,
    store,
    intake,
    passwords,
    policies,
    dkim,
    links,
    metrics,
    log,
    onReleased: () => scheduler.wake(),
    downloadVault: vault,
    downloadAccess: access,
    downloadService: downloads,
  });
  httpServer.on("request", app);
  httpsServer?.on("request", app);
  await scheduler.start();
  const retention = new RetentionJob({ config, store, spool, vault, log });
  retention.start();

  return {
    store,
    relay,
    publicUrl: links.publicUrl,
    ports: { http: httpPort, https: httpsPort, smtp: smtpPort, smtps: smtpsPort },
    tlsSelfSigned: tls.selfSigned,
    async close() {
      // New work stops at once; work under way gets until the deadline (see shutdown.ts).
      const deadline = Date.now() + config.shutdownSeconds * 1000;
      const [smtpCut, smtpsCut, httpCut, httpsCut, givenUp] = await Promise.all([
        closeSmtp(smtp, deadline),
        smtps ? closeSmtp(smtps, deadline) : 0,
        closeHttp(httpServer, deadline),
        httpsServer ? closeHttp(httpsServer, deadline) : 0,
        scheduler.stop(deadline),
        retention.stop(),
      ]);
      const sessionsCut = smtpCut + smtpsCut;
      const connectionsCut = httpCut + httpsCut;
      if (sessionsCut || connectionsCut || givenUp.deliveries.length || givenUp.notices) {
        log.warn(
          {
            event: "shutdown_deadline",
            shutdownSeconds: config.shutdownSeconds,
            smtp_sessions_cut: sessionsCut,
            http_connections_cut: connectionsCut,
            deliveries_given_up: givenUp.deliveries.length,
            msg_ids: givenUp.deliveries.slice(0, 100).map((d) => d.messageId),
            notices_given_up: givenUp.notices,
          },
          "shutdown deadline passed: unacknowledged submissions were cut off (their clients send again); deliveries and notices still in flight are released and sent again at the next start",
        );
      }
      await analyzer.close();
      await separator.close();
      await relay.close(Math.max(0, deadline - Date.now()));
      await spool.close();
      await store.close();
      await lock.release();
    },
  };
}
