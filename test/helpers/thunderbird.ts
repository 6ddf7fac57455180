// A real Thunderbird for end-to-end tests: a fresh profile (one account, identity and SMTP server
// seeded through user.js), started headless with Marionette, driven in chrome context.
// See docs in /work/shared/notes/thunderbird.md (the facts this rests on).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { ROOT, type TestGateway } from "./gateway.js";
import { Marionette } from "./marionette.js";

export const THUNDERBIRD_PATH = process.env.THUNDERBIRD_PATH ?? "thunderbird";

/** The path of the thunderbird binary, or null when it is not installed (tests skip then). */
/** What COMPOSE_AND_SEND takes; `detach` is the key of a send that is watched in the background. */
function composeArguments(options: ComposeOptions, timeoutMs: number, detach: string | null) {
  return {
    from: options.from ?? null,
    to: options.to.join(", "),
    cc: (options.cc ?? []).join(", "),
    bcc: (options.bcc ?? []).join(", "),
    subject: options.subject,
    body: options.body,
    attachments: (options.attachments ?? []).map((p) => resolve(p)),
    timeoutMs,
    detach,
    sendAfterMs: options.sendAfterMs ?? 0,
  };
}

/** The Sendguard extension as `npm run build` makes it, and its id (gecko id in its manifest). */
export const SENDGUARD_XPI = join(ROOT, "addin-thunderbird/dist/sendguard.xpi");
export const SENDGUARD_ID = "sendguard@sendguard.dev";

/** Why the Sendguard extension cannot be run in a real Thunderbird here, or false when it can. */
export function extensionUnavailable(): string | false {
  if (!findThunderbird()) return "thunderbird is not installed (run scripts/install-test-deps.sh)";
  if (!existsSync(SENDGUARD_XPI))
    return "addin-thunderbird/dist/sendguard.xpi is missing (run npm run build)";
  return false;
}

export function findThunderbird(): string | null {
  if (THUNDERBIRD_PATH.includes("/")) return existsSync(THUNDERBIRD_PATH) ? THUNDERBIRD_PATH : null;
  const r = spawnSync("sh", ["-c", `command -v ${THUNDERBIRD_PATH}`], { encoding: "utf8" });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : null;
}

export interface SmtpAccount {
  host: string;
  port: number;
  /** "plain" = AUTH PLAIN/LOGIN with a password (store it with storeSmtpPassword); "none" = no AUTH. */
  auth: "plain" | "none";
  username?: string;
  starttls: boolean;
}

export interface ThunderbirdOptions {
  email: string;
  fullName?: string;
  smtp: SmtpAccount;
  /** .xpi files to install: { "<gecko id>": "/path/x.xpi" }. */
  extensions?: Record<string, string>;
  /** Extra user.js prefs. */
  prefs?: Record<string, string | number | boolean>;
  /** Keep the profile directory after stop() (for debugging). Also with THUNDERBIRD_KEEP_PROFILE=1. */
  keepProfile?: boolean;
  /** "headless" (default): MOZ_HEADLESS=1 --headless; "xvfb": xvfb-run -a, a real (virtual) X display. */
  display?: "headless" | "xvfb";
  /** Milliseconds to wait for Marionette (a cold start takes ~5-10 s). */
  startTimeoutMs?: number;
  /**
   * Enterprise policies: the `policies` object of a policies.json, as an administrator deploys it.
   * Thunderbird reads that file only from its installation folder, so this runs a private copy of
   * the installation (the binary copied, everything else linked) with distribution/policies.json.
   */
  policies?: Record<string, unknown>;
}

/** Where the installed Thunderbird's files are (Debian: /usr/lib/thunderbird, behind a wrapper script). */
function installationDir(binary: string): string {
  const dir = [dirname(realpathSync(binary)), "/usr/lib/thunderbird"].find(
    (d) => existsSync(join(d, "omni.ja")) && existsSync(join(d, "thunderbird-bin")),
  );
  if (!dir) throw new Error(`cannot find the Thunderbird installation of ${binary}`);
  return dir;
}

/** A private installation with `policies`; returns its folder (its binary is thunderbird-bin). */
function installationWithPolicies(binary: string, policies: Record<string, unknown>): string {
  const source = installationDir(binary);
  const dir = mkdtempSync(join(tmpdir(), "sendguard-tbapp-"));
  for (const name of readdirSync(source)) {
    // Not its policies, and not links to nothing (Debian's dictionaries without hunspell).
    if (name === "distribution" || !existsSync(join(source, name))) continue;
    // The binary must be a real file here: Thunderbird finds distribution/ next to its own path.
    if (name === "thunderbird-bin") {
      copyFileSync(join(source, name), join(dir, name));
      chmodSync(join(dir, name), 0o755);
    } else symlinkSync(realpathSync(join(source, name)), join(dir, name));
  }
  mkdirSync(join(dir, "distribution"));
  writeFileSync(join(dir, "distribution", "policies.json"), JSON.stringify({ policies }, null, 2));
  return dir;
}

export interface ComposeOptions {
  /** Identity e-mail to send as; default: the profile's identity. */
  from?: string;
  to: string[];
  cc?: string[];
  bcc?: string[];
  subject: string;
  /** Plain-text body. */
  body: string;
  /** Files to attach (absolute paths). */
  attachments?: string[];
  /** Milliseconds to wait for the window to close or an error. */
  timeoutMs?: number;
  /** Milliseconds the compose window stays open, filled in, before Send Now (someone writing). Default 0. */
  sendAfterMs?: number;
}

/** What became of a send started with startSend (see sendState). */
export interface SendState {
  /** "sending": triggered, no outcome yet (e.g. held by an extension's onBeforeSend). */
  state: "sending" | "sent" | "failed";
  /** Why it failed: Thunderbird's error prompt, or e.g. "Send aborted by an onBeforeSend event". */
  error: string | null;
  /** Whether the compose window is still open. */
  composeOpen: boolean;
  /** When "Send Now" was triggered (Date.now() in Thunderbird), for timing what follows. */
  triggeredAt: number | null;
}

export interface SendResult {
  /** true when the compose window closed after a successful send. */
  sent: boolean;
  /** The text of Thunderbird's error prompt (or the failure reason) when it did not send. */
  error: string | null;
}

const BASE_PREFS: Record<string, string | number | boolean> = {
  // No first-run account wizard, provider sign-up, default-client check, start page, rights bar.
  "mail.provider.enabled": false,
  "mail.shell.checkDefaultClient": false,
  "mailnews.start_page.enabled": false,
  "mail.rights.override": true,
  "mail.rights.version": 1,
  "app.donation.eoy.version.viewed": 999,
  "mail.spotlight.firstRunDone": true,
  "mail.winsearch.firstRunDone": true,
  // No modal prompts that would block a send.
  "mail.compose.attachment_reminder": false,
  "mail.SpellCheckBeforeSend": false,
  "mail.spellcheck.inline": false,
  "mail.warn_on_send_accel_key": false,
  "mail.compose.warn_public_recipients.aggressive": false,
  "mailnews.show_send_progress": false,
  "mail.biff.show_alert": false,
  "mail.biff.play_sound": false,
  "mail.biff.show_tray_icon": false,
  // Quiet, offline-friendly.
  "app.update.disabledForTesting": true,
  "app.update.auto": false,
  "datareporting.policy.dataSubmissionEnabled": false,
  "datareporting.healthreport.uploadEnabled": false,
  "toolkit.telemetry.reportingpolicy.firstRun": false,
  "network.captive-portal-service.enabled": false,
  "network.connectivity-service.enabled": false,
  "extensions.update.enabled": false,
  "extensions.getAddons.cache.enabled": false,
  "browser.safebrowsing.malware.enabled": false,
  "browser.safebrowsing.phishing.enabled": false,
  "mailnews.auto_config.fetchFromISP.enabled": false,
  "mailnews.auto_config.guess.enabled": false,
  "messenger.startup.action": 0,
  "mail.tabs.loadInBackground": true,
  "browser.dom.window.dump.enabled": true,
  "devtools.console.stdout.chrome": true,
};

function prefLine(name: string, value: string | number | boolean): string {
  return `user_pref(${JSON.stringify(name)}, ${JSON.stringify(value)});`;
}

export class Thunderbird {
  readonly profileDir: string;
  /** The private installation made for `policies`, removed by stop(). */
  private installation: string | null = null;
  readonly options: ThunderbirdOptions;
  marionette: Marionette | null = null;
  /** Marionette's handle of the 3-pane window (chrome context), where every helper runs its scripts. */
  mainHandle = "";
  /** Everything Thunderbird wrote to stdout/stderr (useful when a test fails). */
  output = "";
  /** How it was started: "headless" or "xvfb". */
  mode: "headless" | "xvfb";
  private child: ChildProcess | null = null;

  constructor(options: ThunderbirdOptions) {
    this.options = options;
    this.mode = options.display ?? (process.env.THUNDERBIRD_DISPLAY === "xvfb" ? "xvfb" : "headless");
    this.profileDir = mkdtempSync(join(tmpdir(), "sendguard-tb-"));
    this.writeProfile();
  }

  private writeProfile(): void {
    const { email, fullName, smtp } = this.options;
    const prefs: Record<string, string | number | boolean> = {
      ...BASE_PREFS,
      // Marionette on a free port chosen by Thunderbird itself; it writes it to MarionetteActivePort.
      "marionette.port": 0,
      // One account: a local ("none") server, which never connects anywhere, with one identity.
      "mail.accountmanager.accounts": "account1",
      "mail.accountmanager.defaultaccount": "account1",
      "mail.accountmanager.localfoldersserver": "server1",
      "mail.account.account1.server": "server1",
      "mail.account.account1.identities": "id1",
      "mail.server.server1.type": "none",
      "mail.server.server1.hostname": "Local Folders",
      "mail.server.server1.userName": "nobody",
      "mail.server.server1.name": "Local Folders",
      "mail.server.server1.login_at_startup": false,
      "mail.identity.id1.useremail": email,
      "mail.identity.id1.fullName": fullName ?? email.split("@")[0] ?? email,
      "mail.identity.id1.valid": true,
      "mail.identity.id1.smtpServer": "smtp1",
      "mail.identity.id1.compose_html": false,
      "mail.identity.id1.fcc": false,
      "mail.identity.id1.attach_vcard": false,
      "mail.identity.id1.sign_mail": false,
      "mail.identity.id1.encryptionpolicy": 0,
      "mail.smtpservers": "smtp1",
      "mail.smtp.defaultserver": "smtp1",
      "mail.smtpserver.smtp1.type": "smtp",
      "mail.smtpserver.smtp1.description": "Sendguard test",
      "mail.smtpserver.smtp1.hostname": smtp.host,
      "mail.smtpserver.smtp1.port": smtp.port,
      // nsMsgAuthMethod: 1 = none, 3 = passwordCleartext (PLAIN/LOGIN).
      "mail.smtpserver.smtp1.authMethod": smtp.auth === "plain" ? 3 : 1,
      // nsMsgSocketType: 0 = plain, 2 = alwaysSTARTTLS.
      "mail.smtpserver.smtp1.try_ssl": smtp.starttls ? 2 : 0,
      "mail.smtpserver.smtp1.username": smtp.auth === "plain" ? (smtp.username ?? email) : "",
      ...(this.options.extensions && Object.keys(this.options.extensions).length
        ? { "extensions.autoDisableScopes": 0, "xpinstall.signatures.required": false }
        : {}),
      ...this.options.prefs,
    };
    writeFileSync(
      join(this.profileDir, "user.js"),
      Object.entries(prefs)
        .map(([k, v]) => prefLine(k, v))
        .join("\n") + "\n",
    );
    const extensions = Object.entries(this.options.extensions ?? {});
    if (extensions.length) {
      const dir = join(this.profileDir, "extensions");
      mkdirSync(dir, { recursive: true });
      for (const [id, xpi] of extensions) copyFileSync(resolve(xpi), join(dir, `${id}.xpi`));
    }
  }

  /** Starts Thunderbird and connects Marionette with a session in chrome context. */
  async start(): Promise<this> {
    let binary = findThunderbird();
    if (!binary) throw new Error("thunderbird is not installed (scripts/install-test-deps.sh)");
    if (this.options.policies) {
      this.installation = installationWithPolicies(binary, this.options.policies);
      binary = join(this.installation, "thunderbird-bin");
    }
    const tbArgs = [
      "--marionette",
      "--remote-allow-system-access",
      "--no-remote",
      "--profile",
      this.profileDir,
    ];
    // A temporary directory of its own: Thunderbird writes each outgoing message to nsemail.eml
    // there, and two instances sharing /tmp (test files run side by side) lost each other's files.
    const tmp = join(this.profileDir, "tmp");
    mkdirSync(tmp, { recursive: true });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TMPDIR: tmp,
      MOZ_CRASHREPORTER_DISABLE: "1",
      MOZ_NO_REMOTE: "1",
    };
    let cmd: string;
    let args: string[];
    if (this.mode === "xvfb") {
      delete env.MOZ_HEADLESS;
      cmd = "xvfb-run";
      args = ["-a", "-s", "-screen 0 1280x1024x24", binary, ...tbArgs];
    } else {
      env.MOZ_HEADLESS = "1";
      cmd = binary;
      args = ["--headless", ...tbArgs];
    }
    // Its own process group, so stop() can end Thunderbird and all its content processes at once.
    const child = spawn(cmd, args, { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    // If the test process exits without stop() (a crash, an uncaught error), take Thunderbird along:
    // it runs in its own process group and would otherwise outlive us. (A SIGKILLed test cannot.)
    const pid = child.pid;
    const killOnExit = () => {
      try {
        if (pid) process.kill(-pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    };
    process.once("exit", killOnExit);
    child.once("exit", () => process.off("exit", killOnExit));
    const keep = (d: Buffer) => {
      this.output += d.toString();
      if (this.output.length > 1_000_000) this.output = this.output.slice(-500_000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);

    const timeout = this.options.startTimeoutMs ?? 45_000;
    const until = Date.now() + timeout;
    const portFile = join(this.profileDir, "MarionetteActivePort");
    let port = 0;
    while (!port) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(
          `thunderbird exited (${child.exitCode ?? child.signalCode}) before Marionette:\n${this.output}`,
        );
      if (Date.now() > until) {
        await this.stop();
        throw new Error(`Marionette did not start within ${timeout} ms:\n${this.output.slice(-4000)}`);
      }
      if (existsSync(portFile)) port = Number(readFileSync(portFile, "utf8").trim()) || 0;
      if (!port) await new Promise((r) => setTimeout(r, 100));
    }
    const m = await Marionette.connect(port, "127.0.0.1", Math.max(1000, until - Date.now()));
    this.marionette = m;
    await m.newSession();
    await m.setContext("chrome");
    await m.setTimeouts({ script: 120_000 });
    this.mainHandle = await m.getWindowHandle();
    await this.waitForMainWindow();
    return this;
  }

  private get m(): Marionette {
    if (!this.marionette) throw new Error("Thunderbird is not started");
    return this.marionette;
  }

  /** Waits until the 3-pane window has loaded and the account manager knows our identity. */
  private async waitForMainWindow(): Promise<void> {
    const error = await this.m.executeAsyncScript<string | null>(`
      const [done] = arguments;
      const until = Date.now() + 30000;
      const check = () => {
        try {
          const win = Services.wm.getMostRecentWindow("mail:3pane");
          if (win && win.document.readyState === "complete" && win.gMailInit?.delayedStartupFinished !== false) {
            const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
            if (MailServices.accounts.allIdentities.length > 0) return done(null);
          }
        } catch (e) {
          return done(String(e));
        }
        if (Date.now() > until) return done("main window or identity not ready after 30 s");
        setTimeout(check, 100);
      };
      check();
    `);
    if (error) throw new Error(error);
  }

  /** Runs a script in chrome context (a function body; `arguments` are `args`). */
  exec<T = unknown>(script: string, ...args: unknown[]): Promise<T> {
    return this.m.executeScript<T>(script, args);
  }

  /** Like exec, but the script reports through `arguments[arguments.length - 1](value)`. */
  execAsync<T = unknown>(script: string, ...args: unknown[]): Promise<T> {
    return this.m.executeAsyncScript<T>(script, args);
  }

  /**
   * Saves the SMTP password in Thunderbird's login manager, so it can AUTH without a prompt.
   * Note: Thunderbird keys SMTP logins by `smtp://host` only (no port), see SmtpServer.sys.mjs
   * `_getPasswordWithoutUI`; `port` is accepted for symmetry but is not part of the key.
   */
  async storeSmtpPassword(host: string, _port: number, user: string, password: string): Promise<void> {
    await this.execAsync(
      `
      const [host, user, password, done] = arguments;
      (async () => {
        const origin = "smtp://" + (host.includes(":") ? "[" + host + "]" : host);
        for (const old of await Services.logins.searchLoginsAsync({ origin, httpRealm: origin }))
          if (old.username === user) await Services.logins.removeLoginAsync(old);
        const login = Cc["@mozilla.org/login-manager/loginInfo;1"].createInstance(Ci.nsILoginInfo);
        login.init(origin, null, origin, user, password, "", "");
        await Services.logins.addLoginAsync(login);
      })().then(() => done(null), (e) => done(String(e)));
      `,
      host,
      user,
      password,
    ).then((e) => {
      if (e) throw new Error(`storeSmtpPassword: ${String(e)}`);
    });
  }

  /**
   * Trusts a (self-signed) server certificate for host:port, as "Confirm Security Exception" would.
   * `certPem` is the PEM of the server's leaf certificate.
   */
  async trustCertificate(host: string, port: number, certPem: string): Promise<void> {
    const base64 = certPem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, "");
    const error = await this.exec<string | null>(
      `
      const [host, port, base64] = arguments;
      try {
        const certDB = Cc["@mozilla.org/security/x509certdb;1"].getService(Ci.nsIX509CertDB);
        const cert = certDB.constructX509FromBase64(base64);
        Cc["@mozilla.org/security/certoverride;1"]
          .getService(Ci.nsICertOverrideService)
          .rememberValidityOverride(host, port, {}, cert, false);
        return null;
      } catch (e) {
        return String(e);
      }
      `,
      host,
      port,
      base64,
    );
    if (error) throw new Error(`trustCertificate: ${error}`);
  }

  /**
   * Opens a compose window, fills it, attaches files, runs "Send Now" and resolves when the compose
   * window closes (sent) or Thunderbird reports a send error (its prompt is read and dismissed).
   */
  async composeAndSend(options: ComposeOptions): Promise<SendResult> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    await this.m.setTimeouts({ script: timeoutMs + 5_000 });
    return this.m.executeAsyncScript<SendResult>(COMPOSE_AND_SEND, [
      composeArguments(options, timeoutMs, null),
    ]);
  }

  /**
   * Like composeAndSend, but returns as soon as "Send Now" has been triggered, with a key for
   * sendState/waitForSend. For sends an extension holds in compose.onBeforeSend (Thunderbird awaits
   * the listener with no timeout, so composeAndSend would wait until the extension answers).
   * `timeoutMs` (default 60 s) bounds how long the outcome is watched for.
   */
  async startSend(options: ComposeOptions): Promise<string> {
    const key = `send-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    await this.m.setTimeouts({ script: 30_000 });
    const error = await this.m.executeAsyncScript<string | null>(COMPOSE_AND_SEND, [
      composeArguments(options, options.timeoutMs ?? 60_000, key),
    ]);
    if (error) throw new Error(`startSend: ${error}`);
    return key;
  }

  /** The outcome so far of a send started with startSend. */
  async sendState(key: string): Promise<SendState> {
    const state = await this.exec<SendState | null>(
      `
      const [key] = arguments;
      const entry = Services.wm.getMostRecentWindow("mail:3pane")?.sendguardTestSends?.[key];
      if (!entry) return null;
      return {
        state: entry.state,
        error: entry.error,
        composeOpen: !!entry.win && !entry.win.closed,
        triggeredAt: entry.triggeredAt,
      };
      `,
      key,
    );
    if (!state) throw new Error(`sendState: unknown send ${key}`);
    return state;
  }

  /** Waits until a send started with startSend has an outcome (sent or failed). */
  async waitForSend(key: string, timeoutMs = 30_000): Promise<SendResult> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.sendState(key);
      if (s.state !== "sending") return { sent: s.state === "sent", error: s.error };
      if (Date.now() > until) return { sent: false, error: `still sending after ${timeoutMs} ms` };
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * storage.local.set() on behalf of an installed extension, from chrome context: waits until the
   * extension runs, then writes its IndexedDB storage.local backend (the default since Firefox 66)
   * and tells its storage.onChanged listeners. Settings a user would type into an options page.
   */
  async setExtensionStorage(id: string, items: Record<string, unknown>): Promise<void> {
    const error = await this.execAsync<string | null>(
      `
      const [id, items, done] = arguments;
      (async () => {
        const { ExtensionParent } = ChromeUtils.importESModule("resource://gre/modules/ExtensionParent.sys.mjs");
        const { ExtensionStorageIDB } = ChromeUtils.importESModule("resource://gre/modules/ExtensionStorageIDB.sys.mjs");
        let extension = null;
        const until = Date.now() + 20000;
        while (!(extension = ExtensionParent.GlobalManager.getExtension(id))) {
          if (Date.now() > until) throw new Error("extension " + id + " is not running");
          await new Promise((r) => setTimeout(r, 100));
        }
        // As the extension's first storage.local call would: pick the backend (migrating an old
        // storage.js file into IndexedDB when there is one).
        const { backendEnabled } = await ExtensionStorageIDB.selectBackend({ extension });
        if (!backendEnabled) throw new Error("the IndexedDB storage.local backend is off");
        const db = await ExtensionStorageIDB.open(ExtensionStorageIDB.getStoragePrincipal(extension));
        const changes = await db.set(items);
        if (changes) ExtensionStorageIDB.notifyListeners(id, changes);
      })().then(() => done(null), (e) => done(String(e)));
      `,
      id,
      items,
    );
    if (error) throw new Error(`setExtensionStorage: ${error}`);
  }

  /**
   * Waits for a window (e.g. an extension's popup from windows.create) whose page URL contains
   * `urlPart`; returns its Marionette handle (chrome context) and the page's full URL.
   */
  async waitForWindow(urlPart: string, timeoutMs = 15_000): Promise<{ handle: string; url: string }> {
    const until = Date.now() + timeoutMs;
    const m = this.m;
    try {
      for (;;) {
        const url = await this.exec<string | null>(
          FIND_PAGE + "return browser?.currentURI.spec ?? null;",
          urlPart,
        );
        if (url) {
          // Marionette's chrome handles are not reachable from a script: switch to each to compare.
          for (const handle of await m.getWindowHandles()) {
            await m.switchToWindow(handle, false);
            const here = await m.executeScript<boolean>(
              `return [...document.querySelectorAll("browser")].some((b) => b.currentURI?.spec === arguments[0]);`,
              [url],
            );
            if (here) return { handle, url };
          }
        }
        if (Date.now() > until) throw new Error(`no window showing ${urlPart} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await m.switchToWindow(this.mainHandle, false);
    }
  }

  /**
   * Runs `script` (a function body; `arguments` are `args`) inside the web page whose URL contains
   * `urlPart`, e.g. an extension popup, and returns its JSON-able result. Thunderbird's Marionette
   * has no content context for windows that are not Firefox tabs ("Browsing context has been
   * discarded"), so this goes through Marionette's own window actor in that page's process.
   */
  async execInPage<T = unknown>(urlPart: string, script: string, ...args: unknown[]): Promise<T> {
    const r = await this.execAsync<{ value?: T; error?: string }>(
      FIND_PAGE +
        `
      const [, script, args, done] = arguments;
      if (!browser) return done({ error: "no page showing " + arguments[0] });
      browser.browsingContext.currentWindowGlobal
        .getActor("MarionetteCommands")
        .executeScript(script, args, {})
        .then((value) => done({ value }), (e) => done({ error: String(e?.message ?? e) }));
      `,
      urlPart,
      script,
      args,
    );
    if (r.error !== undefined) throw new Error(`execInPage: ${r.error}`);
    return r.value as T;
  }

  /**
   * Clicks the element `selector` in the page whose URL contains `urlPart`. The click runs after
   * the script has returned: a button that closes its window (Send, Cancel) would otherwise take
   * the script's answer with it.
   */
  async clickInPage(urlPart: string, selector: string): Promise<void> {
    await this.execInPage(
      urlPart,
      `const el = document.querySelector(arguments[0]);
      if (!el) throw new Error("nothing matches " + arguments[0]);
      setTimeout(() => el.click(), 0);
      return true;`,
      selector,
    );
  }

  /**
   * Suspends an extension's background page as Thunderbird does after 30 s without events; the
   * next event (e.g. compose.onBeforeSend) starts it again.
   */
  async suspendBackground(id: string): Promise<void> {
    const state = await this.execAsync<string>(
      `const [id, done] = arguments;
      const extension = WebExtensionPolicy.getByID(id)?.extension;
      if (!extension) return done("not installed");
      extension.terminateBackground().then(() => done(extension.backgroundState), (e) => done(String(e)));`,
      id,
    );
    if (state !== "stopped") throw new Error(`suspendBackground: the background is ${state}`);
  }

  /** "running", "stopped", "starting" or "suspending": the state of an extension's background page. */
  backgroundState(id: string): Promise<string> {
    return this.exec<string>(
      `return WebExtensionPolicy.getByID(arguments[0])?.extension?.backgroundState ?? "not installed";`,
      id,
    );
  }

  /** Opens an empty compose window of the first identity (close it with closeComposeWindows). */
  async openCompose(): Promise<void> {
    await this.exec(`
      const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
      const params = Cc["@mozilla.org/messengercompose/composeparams;1"].createInstance(Ci.nsIMsgComposeParams);
      params.type = Ci.nsIMsgCompType.New;
      params.format = Ci.nsIMsgCompFormat.PlainText;
      params.identity = MailServices.accounts.allIdentities[0];
      params.composeFields = Cc["@mozilla.org/messengercompose/composefields;1"].createInstance(Ci.nsIMsgCompFields);
      MailServices.compose.OpenComposeWindowWithParams(null, params);
      return true;
    `);
  }

  /** Clicks an extension's button in the main window's toolbar (opening its action popup). */
  async clickExtensionButton(id: string): Promise<void> {
    const error = await this.exec<string | null>(
      `
      const button = Services.wm
        .getMostRecentWindow("mail:3pane")
        ?.document.querySelector('button[extension="' + arguments[0] + '"]');
      if (!button) return "no toolbar button of " + arguments[0];
      button.click();
      return null;
      `,
      id,
    );
    if (error) throw new Error(`clickExtensionButton: ${error}`);
  }

  /**
   * Waits for a desktop notification (an extension's notifications.create) whose text contains
   * `textPart`; returns its text and its icon as the alert window shows it (a data: URL, "" when it
   * shows none). Needs the pref `alerts.useSystemBackend: false`, which makes Thunderbird show
   * notifications in its own alert window (the system backend shows nothing headless).
   * With `click`, clicks it as a user would.
   */
  async waitForAlert(
    textPart: string,
    options: { click?: boolean; timeoutMs?: number } = {},
  ): Promise<{ text: string; icon: string }> {
    const until = Date.now() + (options.timeoutMs ?? 15_000);
    for (;;) {
      const alert = await this.exec<{ text: string; icon: string } | null>(
        `
        const [part, click] = arguments;
        for (const win of Services.wm.getEnumerator("alert:alert")) {
          const text = ["alertTitleLabel", "alertTextLabel"]
            .map((id) => { const l = win.document.getElementById(id); return l ? l.value || l.textContent : ""; })
            .join(": ");
          if (!text.includes(part)) continue;
          const icon = win.document.getElementById("alertImage")?.getAttribute("src") ?? "";
          if (click) win.document.getElementById("alertBox").click();
          return { text: text.replace(/\\s+/g, " ").trim(), icon };
        }
        return null;
        `,
        textPart,
        options.click === true,
      );
      if (alert !== null) return alert;
      if (Date.now() > until) throw new Error(`no notification showing "${textPart}"`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Subjects of the messages in a folder of Local Folders (e.g. "Sent", "Drafts"); [] when it does not exist. */
  localFolderSubjects(name: string): Promise<string[]> {
    return this.exec<string[]>(
      `
      const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
      let folder = null;
      try { folder = MailServices.accounts.localFoldersServer.rootFolder.getChildNamed(arguments[0]); } catch {}
      if (!folder) return [];
      return [...folder.msgDatabase.enumerateMessages()].map((h) => h.mime2DecodedSubject);
      `,
      name,
    );
  }

  /**
   * PNG of the web page whose URL contains `urlPart`, drawn by its own process. Also works for
   * pages in panels (an action popup), which a window screenshot does not show.
   */
  async screenshotPage(urlPart: string): Promise<Buffer> {
    // A panel still taking its size has nothing to draw yet (NS_ERROR_LOSS_OF_SIGNIFICANT_DATA).
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.drawPage(urlPart);
      } catch (err) {
        if (attempt === 10 || !/LOSS_OF_SIGNIFICANT_DATA/.test(String(err))) throw err;
        await new Promise((r) => setTimeout(r, 300));
      }
    }
  }

  private async drawPage(urlPart: string): Promise<Buffer> {
    const r = await this.execAsync<{ value?: string; error?: string }>(
      FIND_PAGE +
        `
      const [, done] = arguments;
      if (!browser) return done({ error: "no page showing " + arguments[0] });
      browser.browsingContext.currentWindowGlobal.drawSnapshot(null, 1, "white").then((bitmap) => {
        const canvas = browser.ownerDocument.createElementNS("http://www.w3.org/1999/xhtml", "canvas");
        canvas.width = bitmap.width;
        canvas.height = bitmap.height;
        canvas.getContext("2d").drawImage(bitmap, 0, 0);
        done({ value: canvas.toDataURL("image/png") });
      }, (e) => done({ error: String(e) }));
      `,
      urlPart,
    );
    if (r.error !== undefined) throw new Error(`screenshotPage: ${r.error}`);
    return Buffer.from((r.value ?? "").replace(/^data:image\/png;base64,/, ""), "base64");
  }

  /** PNG of another window (by handle), then back to the main window. */
  async screenshotWindow(handle: string): Promise<Buffer> {
    const m = this.m;
    try {
      await m.switchToWindow(handle, false);
      return await m.takeScreenshot();
    } finally {
      await m.switchToWindow(this.mainHandle, false);
    }
  }

  /**
   * Closes every compose window without a "save changes?" prompt (after a failed send the compose
   * window stays open, as it does for a user). Returns how many it closed.
   */
  closeComposeWindows(): Promise<number> {
    return this.exec<number>(`
      let n = 0;
      for (const win of [...Services.wm.getEnumerator("msgcompose")]) {
        try { win.gContentChanged = false; if (win.gMsgCompose) win.gMsgCompose.bodyModified = false; } catch {}
        win.close();
        n++;
      }
      return n;
    `);
  }

  /** PNG of the current window in chrome context (checked: works headless and under xvfb). */
  screenshot(): Promise<Buffer> {
    return this.m.takeScreenshot();
  }

  /** Kills Thunderbird and its child processes; removes the profile unless asked to keep it. */
  async stop(): Promise<void> {
    this.marionette?.close();
    this.marionette = null;
    const child = this.child;
    this.child = null;
    if (child && child.exitCode === null && child.signalCode === null && child.pid) {
      const exited = new Promise((r) => child.once("exit", r));
      const group = (signal: NodeJS.Signals) => {
        try {
          process.kill(-child.pid!, signal);
        } catch {
          /* already gone */
        }
      };
      group("SIGTERM");
      const killer = setTimeout(() => group("SIGKILL"), 5_000);
      await exited;
      clearTimeout(killer);
      group("SIGKILL"); // stragglers (content processes) of the same group
    }
    const keep = this.options.keepProfile || process.env.THUNDERBIRD_KEEP_PROFILE === "1";
    if (!keep) rmSync(this.profileDir, { recursive: true, force: true });
    if (this.installation) rmSync(this.installation, { recursive: true, force: true });
  }
}

// Runs in Thunderbird's chrome context (a WebDriver:ExecuteAsyncScript body).
const COMPOSE_AND_SEND = `
const [opts, done] = arguments;
const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
let finished = false;
let composeWin = null;
const cleanups = [];
// Detached (startSend): the script returns once Send Now is triggered (null) or with the error that
// stopped it before; the outcome goes into a registry on the 3-pane window, read by sendState.
let entry = null;
if (opts.detach) {
  const main = Services.wm.getMostRecentWindow("mail:3pane");
  main.sendguardTestSends ??= {};
  entry = main.sendguardTestSends[opts.detach] = { state: "sending", error: null, win: null, triggeredAt: null };
}
let returned = false;
const finish = (result) => {
  if (finished) return;
  finished = true;
  for (const c of cleanups) { try { c(); } catch {} }
  if (entry) {
    entry.state = result.sent ? "sent" : "failed";
    entry.error = result.error;
    if (!returned) { returned = true; done(result.error ?? "finished before Send was triggered"); }
  } else done(result);
};
const timer = setTimeout(() => finish({ sent: false, error: "timed out after " + opts.timeoutMs + " ms" }), opts.timeoutMs);
cleanups.push(() => clearTimeout(timer));

// Error prompts (send failures) are common dialogs: read their text and dismiss them. One failure
// can bring several (a failed login, then "Sending of the message failed"; an untrusted certificate,
// then the exception dialog), so collect them until none has come for a moment, then report.
const errors = [];
let grace = null;
const failed = (text) => {
  errors.push(text);
  if (grace) clearTimeout(grace);
  grace = setTimeout(() => finish({ sent: false, error: errors.join("\\n") }), 1500);
};
cleanups.push(() => grace && clearTimeout(grace));
const onDialog = (subject) => {
  const win = subject.ownerGlobal ?? subject;
  const read = () => {
    const doc = win.document;
    const text = [doc.getElementById("infoTitle")?.textContent, doc.getElementById("infoBody")?.textContent]
      .filter((s) => s && s.trim()).join(": ").trim();
    // Cancel where there is a choice (e.g. "Retry" on a failed login would loop), else OK.
    try {
      const dialog = doc.querySelector("dialog");
      const cancel = dialog?.getButton("cancel");
      if (cancel && !cancel.hidden) cancel.click();
      else dialog?.getButton("accept")?.click();
    } catch {}
    try { if (!win.closed) win.close(); } catch {}
    failed(text || "Thunderbird showed a dialog");
  };
  setTimeout(read, 0);
};
Services.obs.addObserver(onDialog, "common-dialog-loaded");
cleanups.push(() => Services.obs.removeObserver(onDialog, "common-dialog-loaded"));

// The "Add Security Exception" dialog after an untrusted certificate: close it, report it.
const onWindow = (subject, topic) => {
  if (topic !== "domwindowopened") return;
  subject.addEventListener("load", () => {
    const url = subject.location.href;
    if (url.includes("exceptionDialog")) {
      subject.close();
      failed("certificate not trusted (Thunderbird opened its security exception dialog)");
    }
  }, { once: true });
};
Services.ww.registerNotification(onWindow);
cleanups.push(() => Services.ww.unregisterNotification(onWindow));

try {
  let identity = null;
  for (const id of MailServices.accounts.allIdentities) {
    if (!opts.from || id.email.toLowerCase() === opts.from.toLowerCase()) { identity = id; break; }
  }
  if (!identity) throw new Error("no identity for " + (opts.from ?? "(default)"));

  const fields = Cc["@mozilla.org/messengercompose/composefields;1"].createInstance(Ci.nsIMsgCompFields);
  fields.to = opts.to;
  fields.cc = opts.cc;
  fields.bcc = opts.bcc;
  fields.subject = opts.subject;
  fields.body = opts.body;
  fields.forcePlainText = true;
  for (const path of opts.attachments) {
    const file = Cc["@mozilla.org/file/local;1"].createInstance(Ci.nsIFile);
    file.initWithPath(path);
    if (!file.exists()) throw new Error("attachment not found: " + path);
    const att = Cc["@mozilla.org/messengercompose/attachment;1"].createInstance(Ci.nsIMsgAttachment);
    att.url = Services.io.newFileURI(file).spec;
    att.name = file.leafName;
    att.size = file.fileSize;
    fields.addAttachment(att);
  }
  const params = Cc["@mozilla.org/messengercompose/composeparams;1"].createInstance(Ci.nsIMsgComposeParams);
  params.type = Ci.nsIMsgCompType.New;
  params.format = Ci.nsIMsgCompFormat.PlainText;
  params.identity = identity;
  params.composeFields = fields;

  const onOpened = (subject, topic) => {
    if (topic !== "domwindowopened") return;
    subject.addEventListener("load", () => {
      if (subject.document.documentElement.getAttribute("windowtype") !== "msgcompose" || composeWin) return;
      composeWin = subject;
      if (entry) entry.win = subject;
      subject.addEventListener("unload", () => { if (!errors.length) finish({ sent: true, error: null }); });
      subject.addEventListener("compose-editor-ready", () => {}, { once: true });
      const send = () => {
        // Send failures that do not prompt (e.g. a cancelled send) end here.
        subject.addEventListener("compose-prepare-message-completed", (e) => {
          if (e.detail?.exception) failed(String(e.detail.exception.message ?? e.detail.exception));
        }, { once: true });
        if (entry) entry.triggeredAt = Date.now();
        subject.goDoCommand("cmd_sendNow");
        if (entry && !returned) { returned = true; done(null); }
      };
      const whenReady = () => {
        // Wait until the attachments from the compose fields are in the bucket, then send.
        const want = opts.attachments.length;
        const poll = () => {
          if (finished) return;
          if ((subject.gAttachmentBucket?.itemCount ?? 0) >= want && subject.gMsgCompose)
            return opts.sendAfterMs ? setTimeout(send, opts.sendAfterMs) : send();
          setTimeout(poll, 50);
        };
        poll();
      };
      if (subject.gComposeEditorReady || subject.composeEditorReady) whenReady();
      else subject.addEventListener("compose-editor-ready", whenReady, { once: true });
    }, { once: true });
  };
  Services.ww.registerNotification(onOpened);
  cleanups.push(() => Services.ww.unregisterNotification(onOpened));
  MailServices.compose.OpenComposeWindowWithParams(null, params);
} catch (e) {
  finish({ sent: false, error: String(e) });
}
`;

// Script prefix (chrome context): `browser` = the <browser> whose page URL contains arguments[0].
const FIND_PAGE = `
let browser = null;
for (const win of Services.wm.getEnumerator(null))
  for (const b of win.document.querySelectorAll("browser"))
    if (!browser && b.currentURI?.spec.includes(arguments[0])) browser = b;
`;

/**
 * A started Thunderbird whose account sends through the gateway's SMTP submission port (STARTTLS,
 * AUTH with `password` stored), trusting the self-signed certificate the gateway made at its
 * first start. `options` adds extensions, prefs, policies.
 */
export async function thunderbirdOnGateway(
  gw: TestGateway,
  email: string,
  password: string,
  options: Omit<ThunderbirdOptions, "email" | "smtp"> = {},
): Promise<Thunderbird> {
  const port = gw.ports.smtp;
  const tb = new Thunderbird({
    ...options,
    email,
    smtp: { host: "127.0.0.1", port, auth: "plain", username: email, starttls: true },
  });
  try {
    await tb.start();
    await tb.storeSmtpPassword("127.0.0.1", port, email, password);
    await tb.trustCertificate("127.0.0.1", port, readFileSync(join(gw.dataDir, "tls/cert.pem"), "utf8"));
  } catch (err) {
    await tb.stop();
    throw err;
  }
  return tb;
}
