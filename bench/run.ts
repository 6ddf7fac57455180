// Runs the benchmarks in turn: `npm run bench` for all, `npm run bench -- intake due-burst` for some.
// Each prints a table with its baseline measured in the same run. Numbers only, no pass/fail.
import { cpus, totalmem } from "node:os";
import { performance } from "node:perf_hooks";

const BENCHES: Record<string, { about: string; load: () => Promise<{ run: () => Promise<void> }> }> = {
  intake: { about: "durable SMTP intake, 1/10/50 sessions, vs Postfix", load: () => import("./intake.js") },
  "large-message": { about: "peak RSS relaying one 100 MB message, vs idle and Postfix", load: () => import("./large-message.js") },
  "due-burst": { about: "1,000 messages due at once → all relayed, vs Postfix", load: () => import("./due-burst.js") },
};

async function main(args: string[]): Promise<number> {
  const wanted = args.filter((a) => !a.startsWith("-"));
  const unknown = wanted.filter((w) => !(w in BENCHES));
  if (unknown.length || args.includes("--help") || args.includes("-h")) {
    if (unknown.length) console.error(`unknown benchmark: ${unknown.join(", ")}`);
    console.error(`usage: npm run bench [-- NAME...]\n${Object.entries(BENCHES).map(([n, b]) => `  ${n.padEnd(14)} ${b.about}`).join("\n")}`);
    return unknown.length ? 2 : 0;
  }
  const names = wanted.length ? wanted : Object.keys(BENCHES);
  const cpu = cpus();
  console.log(
    `Sendguard benchmarks — node ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GB, ${new Date().toISOString()}`,
  );
  let failed = 0;
  for (const name of names) {
    const bench = BENCHES[name];
    if (!bench) continue;
    const started = performance.now();
    console.log(`\n=== ${name}: ${bench.about}`);
    try {
      await (await bench.load()).run();
      console.log(`(${name} took ${((performance.now() - started) / 1000).toFixed(0)} s)`);
    } catch (err) {
      failed++;
      console.error(`${name} failed: ${(err as Error).stack ?? String(err)}`);
    }
  }
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
