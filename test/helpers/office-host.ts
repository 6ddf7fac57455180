// Outlook for a task pane in real Chromium: the built add-in pages (addin-outlook/dist, or the
// gateway's /addin/outlook/) with office.js answered by a fake host (office-fake/office.ts) that a
// test seeds with one item and reads back: every host call the pane made, and the item as the pane
// left it.
import { transform } from "esbuild";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { closeRoutedPage } from "./browser.js";
import { ROOT } from "./gateway.js";
import type { HostCall, OfficeSeed, SeedItem } from "./office-fake/seed.js";
import { serveDirectory } from "./static.js";

export type { HostCall, OfficeSeed, SeedAttachment, SeedItem, SeedRecipient } from "./office-fake/seed.js";

export const OUTLOOK_DIST = join(ROOT, "addin-outlook/dist");
/** Where the pages load office.js from (Office requires Microsoft's CDN copy). */
export const OFFICE_JS = "https://appsforoffice.microsoft.com/**";

/** The built add-in files over HTTP (without a gateway: a pane that needs one gets its URL seeded). */
export function serveOutlookAddin() {
  return serveDirectory(OUTLOOK_DIST);
}

let compiled: Promise<string> | null = null;
/** The fake office.js, compiled once per test process (it is one file with no imports). */
function fakeOfficeJs(): Promise<string> {
  return (compiled ??= readFile(join(ROOT, "test/helpers/office-fake/office.ts"), "utf8").then(
    async (source) => (await transform(source, { loader: "ts", format: "iife", target: "es2022" })).code,
  ));
}

/** What the host holds after the pane's writes. */
export interface HostState {
  item: SeedItem;
  roaming: Record<string, unknown>;
  sent: boolean;
  closed: { discardItem: boolean } | null;
}

export interface OfficePane {
  page: Page;
  /** Every host call so far, in order. */
  calls(): Promise<HostCall[]>;
  /** The calls that changed something (setAsync, saveAsync, sendAsync, closeAsync …). */
  writes(): Promise<HostCall[]>;
  state(): Promise<HostState>;
  /** Uncaught exceptions in the page: a test that expects none asserts this is empty. */
  errors: string[];
  close(): Promise<void>;
}

export interface OpenPaneOptions {
  locale?: string;
  viewport?: { width: number; height: number };
}

/** Opens `url` (a task pane page) in a new page of `browser`, with office.js faked from `seed`. */
export async function openOfficePane(
  browser: Browser,
  url: string,
  seed: OfficeSeed,
  options: OpenPaneOptions = {},
): Promise<OfficePane> {
  const body = `window.__officeSeed = ${JSON.stringify(seed)};\n${await fakeOfficeJs()}`;
  const page = await browser.newPage({
    locale: options.locale ?? (seed.displayLanguage?.startsWith("en") ? "en-US" : "ja-JP"),
    // The task pane's width in Outlook on the web.
    viewport: options.viewport ?? { width: 360, height: 760 },
  });
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  await page.route(OFFICE_JS, (route) =>
    route.fulfill({ status: 200, contentType: "text/javascript; charset=utf-8", body }),
  );
  await page.goto(url);
  const calls = () => page.evaluate(() => window.__officeHost.calls) as Promise<HostCall[]>;
  return {
    page,
    calls,
    writes: async () => (await calls()).filter((c) => c.write),
    state: () =>
      page.evaluate(() => {
        const { item, roaming, sent, closed } = window.__officeHost;
        return { item, roaming, sent, closed };
      }) as Promise<HostState>,
    errors,
    close: () => closeRoutedPage(page),
  };
}
