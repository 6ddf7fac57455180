// Download of a 100 MB file from the download centre (decrypted segment by segment as it streams)
// and as the ZIP of all files, beside the same plaintext file served by express.static (send, the
// plain static file server) in the same process and run. The client reads over loopback HTTP and
// discards; MB/s is the best of three, RSS the growth over the process before the run.
import express from "express";
import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { DownloadCentre } from "../server/test/fixtures/downloads.js";
import { printTable } from "./lib/table.js";
import { MB, fmt } from "./lib/util.js";

const FILE_BYTES = 100 * MB;
const RUNS = 3;

/** Reads `url` to its end; returns the bytes and seconds. */
async function fetchAll(url: string, cookie: string): Promise<{ bytes: number; seconds: number }> {
  const started = performance.now();
  const res = await fetch(url, { headers: cookie ? { Cookie: cookie } : {} });
  if (res.status !== 200 || !res.body) throw new Error(`GET ${url}: ${res.status}`);
  let bytes = 0;
  for await (const chunk of res.body) bytes += (chunk as Uint8Array).byteLength;
  return { bytes, seconds: (performance.now() - started) / 1000 };
}

async function measure(
  url: string,
  cookie = "",
): Promise<{ mbps: number; rssGrowth: number; bytes: number }> {
  let best = Infinity;
  let bytes = 0;
  const base = process.memoryUsage().rss;
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  try {
    for (let i = 0; i < RUNS; i++) {
      const run = await fetchAll(url, cookie);
      best = Math.min(best, run.seconds);
      bytes = run.bytes;
    }
  } finally {
    clearInterval(sampler);
  }
  return { mbps: bytes / MB / best, rssGrowth: (peak - base) / MB, bytes };
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "sendguard-bench-download-"));
  const plain = join(dir, "big.bin");
  writeFileSync(plain, randomBytes(FILE_BYTES));
  const staticApp = express();
  staticApp.use(express.static(dir));
  const staticServer: Server = await new Promise((resolve) => {
    const s = staticApp.listen(0, "127.0.0.1", () => resolve(s));
  });
  const centre = new DownloadCentre();
  await centre.start();
  try {
    const storeStarted = performance.now();
    const { links, packageId } = await centre.service.createDownloadPackage({
      messageId: "bench",
      ownerUserId: null,
      files: [{ path: plain, name: "big.bin", contentType: "application/octet-stream" }],
      recipients: ["r@partner.example"],
      auth: { mode: "password", password: "Bench-Pass-42" },
      expiresAt: centre.clock + 86400_000,
    });
    const storeSeconds = (performance.now() - storeStarted) / 1000;
    const url = links[0]?.url ?? "";
    const form = await (await fetch(url)).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(form)?.[1] ?? "";
    const signIn = await fetch(`${url}/password`, {
      method: "POST",
      redirect: "manual",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf, password: "Bench-Pass-42" }),
    });
    const cookie = (signIn.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const fileId = (await centre.store.downloadPackage(packageId))?.files[0]?.id;

    const staticUrl = `http://127.0.0.1:${(staticServer.address() as AddressInfo).port}/big.bin`;
    const baseline = await measure(staticUrl);
    const one = await measure(`${url}/f/${fileId}`, cookie);
    const all = await measure(`${url}/all.zip`, cookie);
    const rel = (mbps: number) => `${fmt((mbps / baseline.mbps) * 100, 0)} %`;
    printTable(
      `Download of a ${FILE_BYTES / MB} MB file over loopback HTTP (best of ${RUNS})`,
      ["what", "MB/s", "vs static", "RSS growth MB"],
      [
        [
          "express.static, plaintext file (baseline)",
          fmt(baseline.mbps, 0),
          "100 %",
          fmt(baseline.rssGrowth, 0),
        ],
        [
          "download centre, one file (AES-256-GCM segments)",
          fmt(one.mbps, 0),
          rel(one.mbps),
          fmt(one.rssGrowth, 0),
        ],
        [
          "download centre, all as ZIP (zip.js, stored)",
          fmt(all.mbps, 0),
          rel(all.mbps),
          fmt(all.rssGrowth, 0),
        ],
      ],
      [
        `storing it (read, SHA-256, encrypt, write, fsync): ${fmt(FILE_BYTES / MB / storeSeconds, 0)} MB/s`,
        "server and client share this process (and its event loop) in every row alike",
      ],
    );
  } finally {
    await centre.stop();
    await new Promise((resolve) => staticServer.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}
