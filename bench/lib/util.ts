// Small helpers shared by the benchmarks: timing, statistics, ports, /proc sampling.
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it returns a truthy value; null after `ms`. */
export async function poll<T>(check: () => Promise<T> | T, ms: number, everyMs = 20): Promise<T | null> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) return null;
    await sleep(everyMs);
  }
}

/** Nearest-rank percentile of an unsorted list (0 < p ≤ 100); NaN when empty. */
export function percentile(values: number[], p: number): number {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

/** A TCP port that was free a moment ago on 127.0.0.1 (for programs that cannot take port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface MemoryStatus {
  /** Resident set size now, bytes. */
  rss: number;
  /** Peak resident set size over the process lifetime (VmHWM), bytes. */
  hwm: number;
}

/** VmRSS / VmHWM from /proc/PID/status; null once the process is gone. */
export function memoryStatus(pid: number): MemoryStatus | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return null;
  }
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0) * 1024;
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}

function processTable(): { pid: number; ppid: number; cmdline: string[] }[] {
  const table: { pid: number; ppid: number; cmdline: string[] }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").filter(Boolean);
      table.push({ pid: Number(entry), ppid, cmdline });
    } catch {
      // the process exited while we looked
    }
  }
  return table;
}

/** PIDs of every process whose argv contains all of `args`, in order of appearance. */
export function findProcesses(args: string[]): number[] {
  return processTable()
    .filter((p) => args.every((a) => p.cmdline.includes(a)))
    .map((p) => p.pid);
}

/** All descendants of `root` (children, grandchildren, …). */
export function descendants(root: number): number[] {
  const table = processTable();
  const out: number[] = [];
  const queue = [root];
  while (queue.length) {
    const parent = queue.shift() as number;
    for (const p of table) {
      if (p.ppid === parent) {
        out.push(p.pid);
        queue.push(p.pid);
      }
    }
  }
  return out;
}

/** CPU time (user + system) consumed by a process so far, seconds; null when gone. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[11] = utime, fields[12] = stime (fields after the command name, 0-based from "state")
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

export const MB = 1024 * 1024;

export function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : "-";
}
