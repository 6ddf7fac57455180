// Runs Postfix's smtp-source, the standard SMTP load generator. Without -d it opens one connection
// per message (connect, greeting, HELO, MAIL, RCPT, DATA, QUIT) and it does not pipeline.
import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";

export interface SmtpSourceOptions {
  port: number;
  sessions: number;
  count: number;
  /** Payload bytes (-l), not counting the headers smtp-source adds. */
  length: number;
  from: string;
  to: string;
  /** Keep the connection for the next message (-d). */
  reuse?: boolean;
  /** The process is killed after this long; the count it reached is still reported. */
  maxMs: number;
}

export interface SmtpSourceResult {
  /** Messages whose DATA completed (smtp-source's -c counter). */
  completed: number;
  seconds: number;
  status: number | null;
  killed: boolean;
  output: string;
}

export function smtpSource(opts: SmtpSourceOptions): Promise<SmtpSourceResult> {
  const args = [
    "-c",
    ...(opts.reuse ? ["-d"] : []),
    "-l",
    String(opts.length),
    "-m",
    String(opts.count),
    "-s",
    String(opts.sessions),
    "-f",
    opts.from,
    "-t",
    opts.to,
    `127.0.0.1:${opts.port}`,
  ];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn("/usr/sbin/smtp-source", args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let killed = false;
    child.stdout.on("data", (d: Buffer) => (stdout = (stdout + d.toString()).slice(-4096)));
    child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4096)));
    const timer = setTimeout(() => {
      killed = true;
      child.kill("SIGTERM");
    }, opts.maxMs);
    child.once("error", reject);
    child.once("exit", (status) => {
      clearTimeout(timer);
      const seconds = (performance.now() - started) / 1000;
      // The -c counter prints "1\r2\r3\r…"; the last number is how many messages completed.
      const counts = stdout.split(/[\r\n]+/).filter((s) => /^\d+$/.test(s.trim()));
      const completed = Number(counts[counts.length - 1] ?? 0);
      resolve({ completed, seconds, status, killed, output: `${stdout.slice(-200)}${stderr}`.trim() });
    });
  });
}
