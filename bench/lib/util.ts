// Small helpers shared by the benchmarks: timing, statistics, ports, /proc sampling.
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { performance } from "node:perf_hooks";

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
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0) * 1024;
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
export function cpuSeconds(pid: number, withChildren = false): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // After the command name: f[11] utime, f[12] stime, f[13] cutime, f[14] cstime (clock ticks).
    const ticks = Number(f[11]) + Number(f[12]) + (withChildren ? Number(f[13]) + Number(f[14]) : 0);
    return ticks / CLOCK_TICKS;
  } catch {
    return null;
  }
}

const CLOCK_TICKS = 100;

/** Busy CPU seconds of the whole machine (all cores) from /proc/stat. */
function machineBusySeconds(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const [, ...values] = line.trim().split(/\s+/);
  const n = values.map(Number);
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (n[3] ?? 0) + (n[4] ?? 0);
  return (total - idle) / CLOCK_TICKS;
}

/** Processes that belong to the benchmark but are not its descendants (daemons such as Postfix). */
const adoptedRoots = new Set<number>();

export function adoptProcessTree(pid: number): void {
  adoptedRoots.add(pid);
}

export function releaseProcessTree(pid: number): void {
  adoptedRoots.delete(pid);
}

function ourProcesses(): number[] {
  const roots = [process.pid, ...adoptedRoots];
  return [...new Set(roots.flatMap((r) => [r, ...descendants(r)]))];
}

/**
 * How much CPU the machine spent between start and stop, and how much of it went to processes
 * that are not part of the benchmark (other work on a shared machine makes the numbers noisy).
 * Percent of one core; the machine has cpus().length cores.
 */
export class CpuShare {
  private readonly started = performance.now();
  private readonly machine0 = machineBusySeconds();
  private readonly ours0 = new Map(ourProcesses().map((pid) => [pid, cpuSeconds(pid, true) ?? 0]));

  stop(): { machine: number; ours: number; others: number } {
    const wall = (performance.now() - this.started) / 1000;
    const machine = machineBusySeconds() - this.machine0;
    const now = new Map(ourProcesses().map((pid) => [pid, cpuSeconds(pid, true) ?? 0]));
    let ours = 0;
    for (const [pid, t] of now) ours += t - (this.ours0.get(pid) ?? 0);
    // A process that exited was counted into its parent's children time with all its CPU,
    // including what it used before the start.
    for (const [pid, t] of this.ours0) if (!now.has(pid)) ours -= t;
    const pct = (x: number) => (wall > 0 ? (x / wall) * 100 : Number.NaN);
    return { machine: pct(machine), ours: pct(ours), others: pct(Math.max(0, machine - ours)) };
  }
}

const exitHooks = new Set<() => void>();
let exitHookInstalled = false;

/**
 * Runs `fn` (synchronous) when this process exits without having released it first, so a crashed
 * or interrupted run leaves no gateway, sink or Postfix behind. Returns the release function.
 */
export function onExit(fn: () => void): () => void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const hook of exitHooks) {
        try {
          hook();
        } catch {
          // best effort while exiting
        }
      }
    });
  }
  exitHooks.add(fn);
  return () => exitHooks.delete(fn);
}

export const MB = 1024 * 1024;

export function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : "-";
}
