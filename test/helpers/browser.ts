// Debian's Chromium driven by playwright-core (no browser download).
import { chromium, type Browser, type Page } from "playwright-core";

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/**
 * Closes a page whose requests go through page.route: a route callback still in flight (awaiting
 * route.fetch, e.g. for a poll the page made just now) would otherwise be rejected with "Request
 * context disposed" after its test has ended, as an unhandled rejection.
 */
export async function closeRoutedPage(page: Page): Promise<void> {
  await page.unrouteAll({ behavior: "wait" });
  await page.close();
}
