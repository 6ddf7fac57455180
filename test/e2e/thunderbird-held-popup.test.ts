// The extension's toolbar popup (held messages) in Chromium against a real gateway: countdown, undo,
// send now, too late, not signed in, gateway down. The page's fetch goes to another origin; in
// Thunderbird the extension's host permissions allow that, here a route adds the CORS headers those
// permissions stand for.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { closeRoutedPage, launchChromium } from "../helpers/browser.js";
import { ROOT, TestGateway, waitFor } from "../helpers/gateway.js";
import { SmtpSink } from "../helpers/sink.js";
import { serveDirectory } from "../helpers/static.js";

const SHOTS = process.env.SENDGUARD_SCREENSHOTS ?? "/tmp/sendguard-screenshots";
const PW = "correct-horse-1";
const TARO = "taro@corp.example";
const JIRO = "jiro@corp.example";
const NOBODY = "empty@corp.example";
/** Semi-internal: held for the organisation's 60 minutes. */
const LONG_HOLD_TO = "client@group.example";
/** Internal: held 6 seconds by the organisation's policy. */
const SHORT_HOLD_TO = "hanako@corp.example";

/** Seconds in "あと 59 分 58 秒で送信" / "Sends in 1 hour 2 seconds". */
function seconds(text: string | null): number {
  const units: Record<string, number> = { 時間: 3600, hour: 3600, 分: 60, minute: 60, 秒: 1, second: 1 };
  const parts = [...(text ?? "").matchAll(/(\d+) ?(時間|分|秒|hour|minute|second)/g)];
  assert.ok(parts.length > 0, `a countdown in ${JSON.stringify(text)}`);
  return parts.reduce((total, [, n, unit]) => total + Number(n) * (units[unit as string] as number), 0);
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("Thunderbird held-messages popup in Chromium", () => {
  const sink = new SmtpSink();
  let site: Awaited<ReturnType<typeof serveDirectory>>;
  let gw: TestGateway;
  let browser: Browser;
  const tokens: Record<string, string> = {};
  const pages = new Set<Page>();

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    await sink.start();
    site = await serveDirectory(join(ROOT, "addin-thunderbird/dist/extension"));
    gw = new TestGateway({ relayPort: sink.port, config: { organization: { holdMinutes: 60 } } });
    for (const email of [TARO, JIRO, NOBODY]) gw.addUser(email, PW);
    gw.addUser("boss@corp.example", PW, "--role", "approver");
    gw.addUser("admin@corp.example", PW, "--role", "admin");
    await gw.start();
    for (const email of [TARO, JIRO, NOBODY]) tokens[email] = await gw.token(email, PW);
    const admin = await gw.token("admin@corp.example", PW);
    const org = await gw.api(admin, "PUT", "/admin/policies/org", {
      preset: "self",
      hold: { internal: 0.1 },
      rules: [
        {
          name: "approval-by-subject",
          when: { subjectContains: ["承認"] },
          then: { approve: { approvers: ["boss@corp.example"] } },
        },
      ],
    });
    assert.equal(org.status, 200, JSON.stringify(org.body));
    browser = await launchChromium();
  });
  /** The popup polls the gateway: a route callback can be in flight whenever a page closes. */
  async function close(page: Page): Promise<void> {
    if (pages.delete(page)) await closeRoutedPage(page);
  }
  // A test that failed half-way still closes its page that way.
  afterEach(async () => {
    for (const page of [...pages]) await close(page);
  });
  after(async () => {
    await browser?.close();
    await gw.stop();
    await sink.stop();
    await site.close();
  });

  async function submit(
    from: string,
    subject: string,
    to = LONG_HOLD_TO,
  ): Promise<{ id: string; messageId: string }> {
    const r = await gw.api<{ id: string }>(tokens[from] as string, "POST", "/messages", {
      to,
      subject,
      text: "本文",
    });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const view = await gw.api<{ messageId: string }>(tokens[from] as string, "GET", `/messages/${r.body.id}`);
    return { id: r.body.id, messageId: view.body.messageId };
  }
  const status = async (id: string) =>
    (await gw.api<{ status: string }>(tokens[TARO] as string, "GET", `/messages/${id}`)).body.status;

  /**
   * The popup with a fake `browser` (UI language, storage holding `settings`, openOptionsPage) and
   * the gateway reachable cross-origin; `slowActionsMs` delays undo / send now on the way.
   */
  async function open(
    lang: "ja" | "en",
    settings: { gatewayUrl: string; token: string } | null,
    slowActionsMs = 0,
  ): Promise<Page> {
    const page = await browser.newPage({
      locale: lang === "ja" ? "ja-JP" : "en-US",
      viewport: { width: 360, height: 520 },
    });
    pages.add(page);
    await page.route(`${gw.httpUrl}/**`, async (route) => {
      const cors = {
        "access-control-allow-origin": "*",
        "access-control-allow-headers": "authorization, content-type",
      };
      if (route.request().method() === "OPTIONS") return route.fulfill({ status: 204, headers: cors });
      if (route.request().method() === "POST" && slowActionsMs)
        await new Promise((r) => setTimeout(r, slowActionsMs));
      const response = await route.fetch();
      await route.fulfill({ response, headers: { ...response.headers(), ...cors } });
    });
    // A string, not a function: tsx compiles this file with keep-names helpers that do not exist in the page.
    await page.addInitScript({
      content: `
        window.__optionsOpened = 0;
        const local = ${JSON.stringify(settings ? { settings } : {})};
        window.browser = {
          i18n: { getUILanguage: () => ${JSON.stringify(lang)} },
          storage: {
            local: { get: async (k) => (k in local ? { [k]: local[k] } : {}), set: async () => {} },
            managed: { get: async () => { throw new Error("no policy"); } },
          },
          runtime: { openOptionsPage: async () => { window.__optionsOpened++; } },
        };`,
    });
    await page.goto(`${site.url}/held.html`);
    return page;
  }
  const signedIn = (email: string) => ({ gatewayUrl: gw.httpUrl, token: tokens[email] as string });
  const row = (page: Page, id: string) => page.locator(`[data-testid=held-row][data-id="${id}"]`);

  test("lists the user's held and pending messages with a running countdown, not another user's (ja)", async () => {
    const held = await submit(TARO, "四半期報告の送付");
    const pending = await submit(TARO, "承認をお願いします: 見積書");
    const others = await submit(JIRO, "次郎の私信");
    assert.equal(await status(pending.id), "pending_approval");

    const page = await open("ja", signedIn(TARO));
    await row(page, held.id).waitFor();
    assert.equal(await page.textContent("text=保留中のメール"), "保留中のメール");
    assert.match((await row(page, held.id).textContent()) ?? "", /四半期報告の送付/);
    const first = await row(page, held.id).getByTestId("countdown").textContent();
    assert.match(first ?? "", /^あと \d+ (時間|分|秒)( \d+ (時間|分|秒))*で送信$/);
    assert.ok(seconds(first) > 55 * 60, `about an hour left: ${first}`);
    assert.equal(await row(page, pending.id).getByTestId("status-text").textContent(), "承認待ち");
    assert.equal(await row(page, pending.id).getByTestId("countdown").count(), 0);
    assert.equal(
      await row(page, pending.id).getByTestId("send-now").count(),
      0,
      "approval cannot be skipped",
    );
    assert.equal(await row(page, others.id).count(), 0);
    assert.equal(await page.locator("text=次郎の私信").count(), 0);

    const countdown = () => row(page, held.id).getByTestId("countdown").textContent();
    // Two seconds of countdown, read off the page: a fixed sleep plus a slow read on a busy machine
    // could see more than the bound below.
    await waitFor(async () => seconds(await countdown()) <= seconds(first) - 2, 10_000, "2 s of countdown");
    const later = await countdown();
    const elapsed = seconds(first) - seconds(later);
    assert.ok(elapsed >= 1 && elapsed <= 4, `${first} → ${later}`);
    // The bar shows how much of the hour has passed: a little, and nothing for a pending approval.
    const progress = Number(
      await row(page, held.id).locator("[role=progressbar]").getAttribute("aria-valuenow"),
    );
    assert.ok(progress > 0 && progress < 0.1, `hold progress ${progress}`);
    assert.equal(await row(page, pending.id).getByTestId("hold-progress").count(), 0);
    await page.screenshot({ path: `${SHOTS}/thunderbird-held-popup.png`, fullPage: true });
    await close(page);
  });

  test("Undo discards the message: buttons wait for the gateway, the row goes, nothing is relayed (ja)", async () => {
    const msg = await submit(TARO, "取り消すメール");
    const page = await open("ja", signedIn(TARO), 600);
    await row(page, msg.id).getByTestId("undo").click();
    assert.ok(await row(page, msg.id).getByTestId("undo").isDisabled(), "disabled while in flight");
    assert.ok(await row(page, msg.id).getByTestId("send-now").isDisabled());
    await page.getByTestId("notice").waitFor();
    assert.equal(await page.getByTestId("notice").textContent(), "送信を取り消しました: 取り消すメール");
    await row(page, msg.id).waitFor({ state: "detached" });
    assert.equal(await status(msg.id), "discarded");
    await page.waitForTimeout(500);
    assert.ok(!sink.messages.some((m) => m.messageId === msg.messageId), "the relay never got it");
    await close(page);
  });

  test("Send now relays the message at once and it leaves the list (en)", async () => {
    const msg = await submit(TARO, "Send me now");
    const page = await open("en", signedIn(TARO));
    await row(page, msg.id).getByTestId("send-now").click();
    await page.getByTestId("notice").waitFor();
    assert.equal(await page.getByTestId("notice").textContent(), "Sent: Send me now");
    await waitFor(() => sink.messages.find((m) => m.messageId === msg.messageId), 10_000, "relay");
    await row(page, msg.id).waitFor({ state: "detached", timeout: 10_000 });
    assert.equal(await waitFor(async () => (await status(msg.id)) === "sent" && "sent", 5000), "sent");
    await close(page);
  });

  test("a message whose countdown runs out leaves the list once the gateway has sent it (en)", async () => {
    const msg = await submit(TARO, "Short hold", SHORT_HOLD_TO);
    const page = await open("en", signedIn(TARO));
    const first = await row(page, msg.id).getByTestId("status-text").textContent();
    assert.match(first ?? "", /^Sends in \d seconds?$|^Sending$/);
    await row(page, msg.id).waitFor({ state: "detached", timeout: 20_000 });
    assert.ok(
      sink.messages.some((m) => m.messageId === msg.messageId),
      "relayed",
    );
    await close(page);
  });

  test("Undo after the gateway has sent it says it is too late (ja)", async () => {
    const msg = await submit(TARO, "もう遅いメール");
    const page = await open("ja", signedIn(TARO));
    await row(page, msg.id).waitFor();
    // Sent behind the popup's back, before its next poll notices.
    assert.equal((await gw.api(tokens[TARO] as string, "POST", `/messages/${msg.id}/release`)).status, 200);
    await waitFor(async () => (await status(msg.id)) === "sent", 5000, "sent");
    await row(page, msg.id).getByTestId("undo").click();
    await page.getByTestId("notice").waitFor();
    assert.equal(
      await page.getByTestId("notice").textContent(),
      "すでに送信が始まっているため取り消せません。",
    );
    await row(page, msg.id).waitFor({ state: "detached" });
    await close(page);
  });

  test("an empty list says so (en)", async () => {
    const page = await open("en", signedIn(NOBODY));
    await page.getByTestId("empty").waitFor();
    assert.equal(await page.getByTestId("empty").textContent(), "No messages are held.");
    await close(page);
  });

  for (const [lang, text] of [
    ["ja", "ゲートウェイにサインインしていません。設定を開いてサインインしてください。"],
    ["en", "Not signed in to the gateway: open the settings and sign in."],
  ] as const) {
    test(`not signed in: says so and opens the options page (${lang})`, async () => {
      const page = await open(lang, null);
      await page.getByTestId("not-signed-in").waitFor();
      assert.equal(await page.getByTestId("not-signed-in").textContent(), text);
      await page.getByTestId("open-settings").click();
      await page.waitForFunction("window.__optionsOpened === 1");
      await close(page);
    });
  }

  test("a token the gateway no longer accepts counts as not signed in", async () => {
    const page = await open("en", { gatewayUrl: gw.httpUrl, token: "revoked-token" });
    await page.getByTestId("not-signed-in").waitFor();
    await close(page);
  });

  test("a gateway that does not answer shows the unreachable error (ja)", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const page = await open("ja", { gatewayUrl: url, token: tokens[TARO] as string });
    await page.getByTestId("error").waitFor();
    const text = (await page.getByTestId("error").textContent()) ?? "";
    assert.ok(text.startsWith(`ゲートウェイに接続できません (${url}: `), text);
    assert.equal(await page.getByTestId("held-row").count(), 0);
    await close(page);
  });
});
