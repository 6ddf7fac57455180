// Runs the real gateway (`sendguard start`) as a child process with its own data dir and config.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import sqlite3 from "sqlite3";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const BIN = join(ROOT, "server/bin/sendguard.js");

export interface GatewayOptions {
  relayPort?: number;
  /** Merged into the generated config file. */
  config?: Record<string, unknown>;
  dataDir?: string;
  /**
   * Which log lines (stdout, JSON) to parse into `logLines` once the gateway listens; all by
   * default. Benchmarks keep the warnings only: thousands of parsed lines cost the process that
   * also runs their load client CPU time and garbage-collection pauses.
   */
  keepLog?: (line: string) => boolean;
  /** The gateway's `sendguard.js` to run: BIN (this checkout's build) unless a benchmark compares another. */
  bin?: string;
  /**
   * "node" (default): `node sendguard.js`, this process's node without the launcher's settings;
   * "launcher": sendguard.js executed itself, as the installed `sendguard` command is, so its
   * first line's interpreter settings apply (what a benchmark compares).
   */
  launch?: "node" | "launcher";
}

export interface Ports {
  http: number;
  https: number | null;
  smtp: number;
  smtps: number | null;
}

export class TestGateway {
  readonly dataDir: string;
  readonly configFile: string;
  ports: Ports = { http: 0, https: null, smtp: 0, smtps: null };
  private child: ChildProcess | null = null;
  readonly logLines: Record<string, unknown>[] = [];
  private readonly keepLog: ((line: string) => boolean) | undefined;
  readonly bin: string;
  private readonly launch: "node" | "launcher";

  constructor(options: GatewayOptions = {}) {
    this.bin = options.bin ?? BIN;
    this.launch = options.launch ?? "node";
    this.dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "sendguard-test-"));
    this.keepLog = options.keepLog;
    this.configFile = join(this.dataDir, "config.json");
    const base = {
      dataDir: this.dataDir,
      http: { host: "127.0.0.1", port: 0 },
      smtp: { host: "127.0.0.1", port: 0, hostname: "gw.test" },
      organization: {
        internalDomains: ["corp.example"],
        semiInternalDomains: ["group.example"],
        holdMinutes: 0,
      },
      relay: {
        url: options.relayPort ? `smtp://127.0.0.1:${options.relayPort}` : "outbox",
        retryDelaysSeconds: [0.5, 1, 2],
        giveUpAfterSeconds: 60,
      },
      notify: { from: "sendguard@corp.example" },
      log: { level: "info" },
    };
    writeFileSync(this.configFile, JSON.stringify(deepMerge(base, options.config ?? {}), null, 2));
  }

  /** The running gateway's process id. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.ports.http}`;
  }

  /**
   * Starts the process (`sendguard start` with `args`, and `env` added to its environment) and
   * resolves when it logs that it is listening; rejects with its stderr if it exits first. Ports
   * stay the same across restarts.
   */
  async start(args: string[] = [], env: Record<string, string> = {}): Promise<this> {
    const argv = [this.bin, "start", "--config", this.configFile, ...args];
    const [command, ...rest] = this.launch === "launcher" ? argv : [process.execPath, ...argv];
    const child = spawn(command as string, rest, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...gatewayEnv(), ...env },
    });
    this.child = child;
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    await new Promise<void>((ready, fail) => {
      const onExit = (code: number | null) =>
        fail(new Error(`gateway exited with ${code} before listening:\n${stderr}`));
      child.once("exit", onExit);
      let listening = false;
      lines.on("line", (line) => {
        if (listening && this.keepLog && !this.keepLog(line)) return;
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          return;
        }
        this.logLines.push(entry);
        if (entry.event === "listening") {
          this.ports = {
            http: entry.http as number,
            https: (entry.https as number) ?? null,
            smtp: entry.smtp as number,
            smtps: (entry.smtps as number) ?? null,
          };
          listening = true;
          child.off("exit", onExit);
          ready();
        }
      });
    });
    return this;
  }

  /** Pins the ports chosen at first start, so a restarted gateway is found where it was. */
  pinPorts(): void {
    this.patchConfig({ http: { host: "127.0.0.1", port: this.ports.http }, smtp: { port: this.ports.smtp } });
  }

  patchConfig(change: Record<string, unknown>): void {
    const current = JSON.parse(spawnSync("cat", [this.configFile]).stdout.toString()) as Record<
      string,
      unknown
    >;
    writeFileSync(this.configFile, JSON.stringify(deepMerge(current, change), null, 2));
  }

  /**
   * Resolves with the signal that ended the process (or its exit code) once it has ended by
   * itself: a crash a test set up (SENDGUARD_TEST_CRASH_AT, server/src/crash-point.ts).
   */
  async exited(timeoutMs: number): Promise<NodeJS.Signals | number | null> {
    const child = this.child;
    if (!child) throw new Error("the gateway was not started");
    if (child.exitCode === null && child.signalCode === null) {
      await waitFor(
        () => child.exitCode !== null || child.signalCode !== null,
        timeoutMs,
        "the gateway to exit",
      );
    }
    this.child = null;
    return child.signalCode ?? child.exitCode;
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill(signal);
    await exited;
    this.child = null;
  }

  /**
   * Adds `senders` and an admin (all with `password`), starts the gateway and sets the
   * organisation's policy to `policy` as that admin would (PUT /admin/policies/org).
   */
  async startWithOrgPolicy(policy: unknown, senders: string[], password: string): Promise<void> {
    const admin = "policy-admin@corp.example";
    for (const sender of senders) this.addUser(sender, password);
    this.addUser(admin, password, "--role", "admin");
    await this.start();
    const set = await this.api(await this.token(admin, password), "PUT", "/admin/policies/org", policy);
    if (set.status !== 200) throw new Error(`setting the policy: ${set.status} ${JSON.stringify(set.body)}`);
  }

  /** Runs a CLI command against this gateway's config; returns exit code and output. */
  cli(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, [this.bin, ...args, "--config", this.configFile], {
      input,
      encoding: "utf8",
      env: gatewayEnv(),
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  addUser(email: string, password: string, ...extra: string[]): void {
    const r = this.cli(["user", "add", email, "--password-stdin", ...extra], password);
    if (r.status !== 0) throw new Error(`user add failed: ${r.stderr}`);
  }

  async token(email: string, password: string): Promise<string> {
    const res = await fetch(`${this.httpUrl}/api/v1/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password }),
    });
    if (res.status !== 201) throw new Error(`token: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { token: string }).token;
  }

  /** Authenticated JSON call to /api/v1. */
  async api<T = unknown>(
    token: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.httpUrl}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }

  /** One read-only query on the gateway's database (SQLite WAL lets it run beside the gateway). */
  async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const file = join(this.dataDir, "sendguard.db");
    const db = await new Promise<sqlite3.Database>((resolve, reject) => {
      const d = new sqlite3.Database(file, sqlite3.OPEN_READONLY, (err) => (err ? reject(err) : resolve(d)));
    });
    try {
      return await new Promise<T[]>((resolve, reject) =>
        db.all<T>(sql, params, (err, rows) => (err ? reject(err) : resolve(rows))),
      );
    } finally {
      await new Promise<void>((resolve) => db.close(() => resolve()));
    }
  }

  /**
   * One write to the gateway's database behind its back, as an operator's hand edit or an old
   * version's row would be (SQLite WAL lets it run beside the gateway; it waits for a write lock).
   */
  async write(sql: string, params: unknown[] = []): Promise<void> {
    const file = join(this.dataDir, "sendguard.db");
    const db = await new Promise<sqlite3.Database>((resolve, reject) => {
      const d = new sqlite3.Database(file, sqlite3.OPEN_READWRITE, (err) => (err ? reject(err) : resolve(d)));
    });
    try {
      db.configure("busyTimeout", 5000);
      await new Promise<void>((resolve, reject) =>
        db.run(sql, params, (err) => (err ? reject(err) : resolve())),
      );
    } finally {
      await new Promise<void>((resolve) => db.close(() => resolve()));
    }
  }

  /** The message as the gateway stored it: its spool file or, for a small one, its row in the database. */
  async storedMessage(id: string): Promise<Buffer> {
    const [row] = await this.query<{ data: Buffer }>("SELECT data FROM bodies WHERE message_id = ?", [id]);
    return row?.data ?? readFileSync(join(this.dataDir, "spool", `${id}.eml`));
  }
}

/**
 * The environment a spawned gateway or CLI gets: the caller's without any SENDGUARD_* variable. A
 * shell set up by the README (SENDGUARD_DATA_DIR, SENDGUARD_RELAY_URL…) would otherwise override the
 * test's own config file, and every test would share that one data directory and relay.
 */
export function gatewayEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("SENDGUARD_")));
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] =
      v &&
      typeof v === "object" &&
      !Array.isArray(v) &&
      prev &&
      typeof prev === "object" &&
      !Array.isArray(prev)
        ? deepMerge(prev as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

/** Polls `check` until it returns a truthy value or `ms` pass. */
export async function waitFor<T>(
  check: () => Promise<T> | T,
  ms = 10_000,
  what = "condition",
): Promise<NonNullable<T>> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
