// Outlook's Send → the handler's decision (target < 200 ms for 200 recipients and 10 attachments;
// Outlook warns after about 5 s, script load included), beside a one-recipient message in the same
// run. The built bundle (addin-outlook/dist/launchevent.js) runs in a vm context with the fake host
// of the unit tests (each host call answers on a later turn of the event loop) and a cached policy,
// as after a recipients change: "warm" fires Send in a runtime already loaded, "cold" loads the
// bundle into a new context first (a runtime started for this Send). Then the bundle's size.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { gzipSync } from "node:zlib";
import { FALLBACK_CLIENT_POLICY, type ClientPolicy } from "@sendguard/shared";
import { BUNDLE, loadBundle } from "../addin-outlook/test/bundle.js";
import { fakeOffice, type FakeItem } from "../addin-outlook/test/fake-office.js";
import { printTable } from "./lib/table.js";
import { fmt, percentile } from "./lib/util.js";

const WARM_RUNS = 300;
const COLD_RUNS = 60;

const POLICY: ClientPolicy = {
  ...FALLBACK_CLIENT_POLICY,
  domains: { internal: ["corp.example"], semiInternal: [] },
  client: { ...FALLBACK_CLIENT_POLICY.client, skipWhenInternalOnly: true },
};

/** 100 internal and 100 external recipients (on 50 domains) in To and Cc, 10 attachments. */
function bigMessage(): FakeItem {
  const internal = Array.from({ length: 100 }, (_, i) => ({ emailAddress: `staff${i}@corp.example` }));
  const external = Array.from({ length: 100 }, (_, i) => ({
    emailAddress: `contact${i}@client${i % 50}.example`,
  }));
  return {
    to: [...internal.slice(0, 50), ...external.slice(0, 50)],
    cc: [...internal.slice(50), ...external.slice(50)],
    subject: "年末年始の営業日のお知らせ",
    body: "いつもお世話になっております。資料を添付します。\n".repeat(100),
    attachments: Array.from({ length: 10 }, (_, i) => ({ name: `資料-${i}.pdf`, size: 200_000 + i })),
  };
}

const oneRecipient = (): FakeItem => ({
  to: [{ emailAddress: "contact@client.example" }],
  subject: "お打ち合わせの件",
  body: "よろしくお願いします。",
});

/** Milliseconds from firing Send to event.completed, `runs` times. */
async function timeToDecision(item: FakeItem, runs: number, cold: boolean): Promise<number[]> {
  const times: number[] = [];
  let loaded = cold ? null : loadBundle(fakeOffice({ item, roaming: { policyCache: POLICY } }));
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    loaded ??= loadBundle(fakeOffice({ item, roaming: { policyCache: POLICY } }));
    const decision = await loaded.fire("onSendGuard");
    times.push(performance.now() - started);
    if (decision.allowEvent !== false) throw new Error("the external recipients were not stopped");
    if (cold) loaded = null;
  }
  return times;
}

export async function run(): Promise<void> {
  const rows: (string | number)[][] = [];
  for (const [name, item] of [
    ["1 recipient (baseline)", oneRecipient()],
    ["200 recipients + 10 attachments", bigMessage()],
  ] as const) {
    await timeToDecision(item, 20, false); // JIT warm-up, not counted
    for (const cold of [false, true]) {
      const t = await timeToDecision(item, cold ? COLD_RUNS : WARM_RUNS, cold);
      rows.push([
        name,
        cold ? "cold (bundle loaded first)" : "warm",
        t.length,
        fmt(percentile(t, 50), 2),
        fmt(percentile(t, 99), 2),
        fmt(Math.max(...t), 2),
      ]);
    }
  }
  printTable(
    "Outlook Send → decision in the fake host (cached policy, external recipients: blocked with the pane)",
    ["message", "runtime", "runs", "p50 ms", "p99 ms", "max ms"],
    rows,
    ["target: < 200 ms for 200 recipients + 10 attachments; Outlook warns after about 5 s"],
  );
  const code = readFileSync(BUNDLE);
  printTable(
    "Handler bundle (addin-outlook/dist/launchevent.js)",
    ["form", "KB"],
    [
      ["as served", fmt(code.length / 1024, 1)],
      ["gzipped (level 9)", fmt(gzipSync(code, { level: 9 }).length / 1024, 1)],
    ],
    ["target: < 100 KB gzipped"],
  );
}
