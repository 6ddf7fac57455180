// A private Postfix instance as the baseline: its own config directory, queue and data directory
// under a temp folder (the system's /etc/postfix is only read, never changed), smtpd on loopback at
// a free port, mynetworks 127.0.0.0/8, everything relayed to [127.0.0.1]:RELAYPORT. Optionally a
// second smtpd port whose mail goes to the hold queue (HOLD action), to be released at once later.
import { execFile, spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { adoptProcessTree, freePort, onExit, poll, releaseProcessTree, sleep } from "./util.js";

export interface PostfixOptions {
  relayPort: number;
  /** Also listen on a port whose accepted mail is put on hold. */
  holdPort?: boolean;
  messageSizeLimit?: number;
}

const execFileAsync = promisify(execFile);

function run(cmd: string, args: string[]): { status: number | null; output: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 60_000 });
  return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}`.trim() };
}

function userIds(name: string): { uid: number; gid: number } {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no user ${name} (is postfix installed?)`);
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

export function postfixVersion(): string {
  return /mail_version = (\S+)/.exec(run("/usr/sbin/postconf", ["-d", "mail_version"]).output)?.[1] ?? "?";
}

export class PostfixInstance {
  readonly dir: string;
  readonly confDir: string;
  readonly queueDir: string;
  readonly maillog: string;
  port = 0;
  holdPort = 0;
  private running = false;
  private release: () => void = () => undefined;

  constructor(private readonly options: PostfixOptions) {
    this.dir = mkdtempSync(join(tmpdir(), "sendguard-bench-postfix-"));
    // Postfix daemons run as the postfix user and must reach the queue below this folder.
    chmodSync(this.dir, 0o755);
    this.confDir = join(this.dir, "conf");
    this.queueDir = join(this.dir, "queue");
    this.maillog = join(this.dir, "maillog");
  }

  async start(): Promise<this> {
    if (!existsSync("/usr/sbin/postfix"))
      throw new Error("postfix is not installed (apt-get install postfix)");
    this.port = await freePort();
    if (this.options.holdPort) this.holdPort = await freePort();
    const dataDir = join(this.dir, "data");
    mkdirSync(this.confDir);
    mkdirSync(this.queueDir);
    mkdirSync(dataDir);
    const postfixUser = userIds("postfix");
    chownSync(dataDir, postfixUser.uid, postfixUser.gid);
    const main = {
      compatibility_level: "3.6",
      queue_directory: this.queueDir,
      data_directory: dataDir,
      mail_owner: "postfix",
      setgid_group: "postdrop",
      myhostname: "postfix-bench.test",
      mydomain: "postfix-bench.test",
      myorigin: "$myhostname",
      mydestination: "",
      local_transport: "error:local delivery is disabled",
      alias_maps: "",
      alias_database: "",
      inet_interfaces: "127.0.0.1",
      inet_protocols: "ipv4",
      mynetworks: "127.0.0.0/8",
      smtpd_relay_restrictions: "permit_mynetworks, reject",
      relayhost: `[127.0.0.1]:${this.options.relayPort}`,
      smtp_tls_security_level: "none",
      smtpd_tls_security_level: "none",
      biff: "no",
      message_size_limit: String(this.options.messageSizeLimit ?? 50 * 1024 * 1024),
      maillog_file_prefixes: this.dir,
      maillog_file: this.maillog,
    };
    writeFileSync(
      join(this.confDir, "main.cf"),
      Object.entries(main)
        .map(([k, v]) => `${k} = ${v}\n`)
        .join(""),
    );
    // Like Debian's master.cf, without chroot (a chroot would need copies of /etc files in the queue).
    const services = [
      `127.0.0.1:${this.port} inet n - n - - smtpd`,
      ...(this.options.holdPort
        ? [
            `127.0.0.1:${this.holdPort} inet n - n - - smtpd`,
            "  -o smtpd_client_restrictions=check_client_access,static:HOLD",
          ]
        : []),
      "pickup unix n - n 60 1 pickup",
      "cleanup unix n - n - 0 cleanup",
      "qmgr unix n - n 300 1 qmgr",
      "rewrite unix - - n - - trivial-rewrite",
      "bounce unix - - n - 0 bounce",
      "defer unix - - n - 0 bounce",
      "trace unix - - n - 0 bounce",
      "verify unix - - n - 1 verify",
      "flush unix n - n 1000? 0 flush",
      "proxymap unix - - n - - proxymap",
      "proxywrite unix - - n - 1 proxymap",
      "smtp unix - - n - - smtp",
      "relay unix - - n - - smtp",
      "showq unix n - n - - showq",
      "error unix - - n - - error",
      "retry unix - - n - - error",
      "discard unix - - n - - discard",
      "anvil unix - - n - 1 anvil",
      "scache unix - - n - 1 scache",
      "postlog unix-dgram n - n - 1 postlogd",
    ];
    writeFileSync(join(this.confDir, "master.cf"), `${services.join("\n")}\n`);
    const r = run("/usr/sbin/postfix", ["-c", this.confDir, "start"]);
    if (r.status !== 0)
      throw new Error(`postfix start failed (${r.status}): ${r.output}\n${this.log().slice(-2000)}`);
    this.running = true;
    this.release = onExit(() => {
      run("/usr/sbin/postfix", ["-c", this.confDir, "stop"]);
      rmSync(this.dir, { recursive: true, force: true });
    });
    const up = await poll(() => canConnect(this.port), 10_000, 100);
    if (!up) throw new Error(`postfix is not listening on ${this.port}:\n${this.log().slice(-2000)}`);
    adoptProcessTree(this.masterPid()); // a daemon, not our child: counted as ours for CpuShare
    return this;
  }

  log(): string {
    try {
      return readFileSync(this.maillog, "utf8");
    } catch {
      return "";
    }
  }

  /** Counts maillog lines matching `pattern`. */
  countLog(pattern: RegExp): number {
    return this.log()
      .split("\n")
      .filter((l) => pattern.test(l)).length;
  }

  /** Messages in the queue (all of incoming, active, deferred, hold), from `postqueue -p`. */
  queued(): number {
    const r = run("/usr/sbin/postqueue", ["-c", this.confDir, "-p"]);
    if (/Mail queue is empty/.test(r.output)) return 0;
    const m = /in (\d+) Requests?\./.exec(r.output);
    if (!m) throw new Error(`postqueue -p: ${r.output.slice(-500)}`);
    return Number(m[1]);
  }

  /** Waits until the queue is empty; returns false after `ms`. */
  async drain(ms: number): Promise<boolean> {
    return (await poll(() => this.queued() === 0, ms, 200)) === true;
  }

  masterPid(): number {
    return Number(readFileSync(join(this.queueDir, "pid/master.pid"), "utf8").trim());
  }

  /**
   * Moves every held message to the deferred queue and asks for immediate delivery. Asynchronous,
   * so that a sink in this process keeps answering meanwhile.
   */
  async releaseHoldAndFlush(): Promise<void> {
    await execFileAsync("/usr/sbin/postsuper", ["-c", this.confDir, "-H", "ALL"]);
    await execFileAsync("/usr/sbin/postqueue", ["-c", this.confDir, "-f"]);
  }

  async stop(): Promise<void> {
    this.release();
    if (this.running) {
      const pidFile = join(this.queueDir, "pid/master.pid");
      const pid = existsSync(pidFile) ? this.masterPid() : 0;
      releaseProcessTree(pid);
      run("/usr/sbin/postfix", ["-c", this.confDir, "stop"]);
      this.running = false;
      if (pid) await poll(() => !alive(pid), 10_000, 100);
      await sleep(200);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}
