// Runs Debian's swaks, the reference SMTP test client.
import { spawnSync } from "node:child_process";

export interface SwaksResult {
  status: number | null;
  output: string;
  /** The last server reply line to the DATA terminator or the failing command, e.g. "250 2.0.0 Queued …". */
  lastReply: string;
}

export function swaks(args: string[]): SwaksResult {
  const r = spawnSync("swaks", ["--hide-informational", "--suppress-data", ...args], {
    encoding: "utf8",
    timeout: 30_000,
  });
  const output = `${r.stdout}${r.stderr}`;
  const replies = output.split("\n").filter((l) => /^<[-~*]+\s+\d{3}[ -]/.test(l));
  const meaningful = replies.filter((l) => !/\s221[ -]/.test(l));
  return {
    status: r.status,
    output,
    lastReply: (meaningful[meaningful.length - 1] ?? "").replace(/^<[-~*]+\s+/, ""),
  };
}
