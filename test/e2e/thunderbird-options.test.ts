// The extension's options page in Chromium, signing in against a real gateway. The page's fetch
// goes to another origin; in Thunderbird the extension's host permissions allow that, here a route
// adds the CORS headers those permissions stand for.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { closeRoutedPage, launchChromium } from "../helpers/browser.js";
import { ROOT, TestGateway } from "../helpers/gateway.js";
import { serveDirectory } from "../helpers/static.js";

const SHOTS = process.env.SENDGUARD_SCREENSHOTS ?? "/tmp/sendguard-screenshots";
const PW = "correct-horse-1";

describe("Thunderbird options page in Chromium", () => {
  let site: Awaited<ReturnType<typeof serveDirectory>>;
  let gw: TestGateway;
  let browser: Browser;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    site = await serveDirectory(join(ROOT, "addin-thunderbird/dist/extension"));
    gw = new TestGateway();
    gw.addUser("taro@corp.example", PW);
    await gw.start();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gw.stop();
    await site.close();
  });

  /** The page with a fake storage (local + optionally managed) and the gateway reachable cross-origin. */
  /** `managed` is what policies.json gives the extension: {settings: {gatewayUrl, token}}. */
  async function open(managed: { settings: Record<string, string> } | null): Promise<Page> {
    const page = await browser.newPage({ locale: "ja-JP" });
    await page.route(`${gw.httpUrl}/**`, async (route) => {
      const cors = {
        "access-control-allow-origin": "*",
        "access-control-allow-headers": "content-type, accept-language",
      };
      if (route.request().method() === "OPTIONS") return route.fulfill({ status: 204, headers: cors });
      const response = await route.fetch();
      await route.fulfill({ response, headers: { ...response.headers(), ...cors } });
    });
    await page.addInitScript({
      content: `
        window.__local = {};
        const managed = ${JSON.stringify(managed)};
        window.browser = {
          i18n: { getUILanguage: () => "ja" },
          storage: {
            local: { get: async (k) => (k in window.__local ? { [k]: window.__local[k] } : {}),
                     set: async (items) => { Object.assign(window.__local, items); } },
            managed: { get: async (k) => { if (!managed) throw new Error("no policy"); return k in managed ? { [k]: managed[k] } : {}; } },
          },
        };`,
    });
    await page.goto(`${site.url}/options.html`);
    await page.waitForSelector("[data-testid=sign-in]");
    return page;
  }

  test("a wrong password shows the gateway's message; the right one stores a token and shows the connection", async () => {
    const page = await open(null);
    await page.fill("input[name=gatewayUrl]", gw.httpUrl);
    await page.fill("input[name=email]", "taro@corp.example");
    await page.fill("input[name=password]", "wrong-password");
    await page.click("[data-testid=sign-in]");
    await page.waitForSelector("[data-testid=error]");
    assert.match(
      (await page.textContent("[data-testid=error]")) ?? "",
      /メールアドレスまたはパスワードが正しくありません/,
    );
    await page.fill("input[name=password]", PW);
    await page.click("[data-testid=sign-in]");
    await page.waitForSelector("[data-testid=connected]");
    assert.match(
      (await page.textContent("[data-testid=connected]")) ?? "",
      /接続済み: http:\/\/127\.0\.0\.1:/,
    );
    const stored = (await page.evaluate("window.__local")) as {
      settings: { gatewayUrl: string; token: string };
    };
    assert.equal(stored.settings.gatewayUrl, gw.httpUrl);
    assert.match(stored.settings.token, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(!JSON.stringify(stored).includes(PW), "the password is not stored");
    const policy = await gw.api<{ organization: { timezone: string } }>(
      stored.settings.token,
      "GET",
      "/policy",
    );
    assert.equal(policy.status, 200, "the stored token works against the gateway");
    await page.screenshot({ path: `${SHOTS}/thunderbird-options-ja.png`, fullPage: true });
    await closeRoutedPage(page);
  });

  test("settings managed through policies.json are shown locked", async () => {
    const page = await open({
      settings: { gatewayUrl: "https://sendguard.example.co.jp", token: "managed-token" },
    });
    await page.waitForSelector("[data-testid=managed]");
    assert.ok(await page.isDisabled("input[name=gatewayUrl]"));
    assert.ok(await page.isDisabled("[data-testid=sign-in]"));
    assert.equal(await page.inputValue("input[name=gatewayUrl]"), "https://sendguard.example.co.jp");
    await closeRoutedPage(page);
  });
});
