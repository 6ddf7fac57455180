// The hold page from the notice, in a real Chromium: countdown, send now, cancel, language switch.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import type { Browser } from "playwright-core";
import { launchChromium } from "../helpers/browser.js";
import { TestGateway, waitFor } from "../helpers/gateway.js";
import { noticeLink, uniqueId } from "../helpers/fixtures.js";
import { SmtpSink } from "../helpers/sink.js";

const PW = "correct-horse-1";
const USER = "hanako@corp.example";
const SHOTS = process.env.SENDGUARD_SCREENSHOTS ?? "/tmp/sendguard-screenshots";

describe("hold page in Chromium", () => {
  const sink = new SmtpSink();
  let gw: TestGateway;
  let token: string;
  let browser: Browser;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    await sink.start();
    gw = new TestGateway({ relayPort: sink.port, config: { organization: { holdMinutes: 10 } } });
    gw.addUser(USER, PW);
    await gw.start();
    token = await gw.token(USER, PW);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gw.stop();
    await sink.stop();
  });

  /** Submits a message and returns the hold link from the notice the sender received. */
  async function heldLink(
    subject: string,
    more: Record<string, unknown> = {},
  ): Promise<{ id: string; url: string; messageId: string }> {
    const r = await gw.api<{ id: string }>(token, "POST", "/messages", {
      to: "client@partner.example",
      subject,
      text: "本文",
      ...more,
    });
    assert.equal(r.status, 202);
    const view = await gw.api<{ messageId: string }>(token, "GET", `/messages/${r.body.id}`);
    const notice = await waitFor(
      () => sink.to(USER).find((m) => m.text.includes(view.body.messageId)),
      5000,
      "notice",
    );
    const url = await noticeLink(notice.raw, "hold");
    return { id: r.body.id, url, messageId: view.body.messageId };
  }

  test("shows the message with a running countdown, and Send now relays it", async () => {
    const { url, messageId } = await heldLink("【社外秘】四半期報告");
    const page = await browser.newPage({ locale: "ja-JP" });
    await page.goto(url);
    assert.equal(await page.textContent("[data-testid=subject]"), "【社外秘】四半期報告");
    assert.equal(await page.textContent("[data-testid=status]"), "保留中");
    assert.equal(
      await page.textContent("[data-testid=attachments]"),
      "添付ファイルなし",
      "no planned action for a message without attachments",
    );
    const first = await page.textContent("[data-testid=countdown]");
    assert.match(first ?? "", /^(10|9):\d\d$/);
    await page.waitForFunction(
      (before) => document.querySelector("[data-testid=countdown]")?.textContent !== before,
      first,
    );
    await page.screenshot({ path: `${SHOTS}/hold-page-ja.png`, fullPage: true });
    await page.click("text=今すぐ送信");
    await page.waitForSelector("text=送信を開始しました。");
    await waitFor(() => sink.messages.find((m) => m.messageId === messageId), 5000, "relayed after Send now");
    await page.close();
  });

  test("a message with an attachment shows what its recipients get; text and HTML alone are no attachments", async () => {
    const { url } = await heldLink("見積書", {
      attachments: [{ filename: "見積書.pdf", content: Buffer.from("%PDF-1.4 quote").toString("base64") }],
    });
    const page = await browser.newPage({ locale: "ja-JP" });
    await page.goto(url);
    assert.equal(
      await page.textContent("[data-testid=attachments]"),
      "client@partner.example: Web ダウンロード (宛先ごとのリンク)",
      "the standard preset's action for a recipient outside",
    );
    await page.goto(`${url}?lang=en`);
    assert.equal(
      await page.textContent("[data-testid=attachments]"),
      "client@partner.example: web download (a link per recipient)",
    );
    await page.close();

    const alternative = await heldLink("HTML only", { html: "<p>本文</p>" });
    const english = await browser.newPage({ locale: "en-US" });
    await english.goto(`${alternative.url}?lang=en`);
    assert.equal(await english.textContent("[data-testid=attachments]"), "no attachments");
    await english.close();
  });

  test("Cancel sending asks for confirmation, then the message is discarded and never relayed", async () => {
    const { id, url, messageId } = await heldLink("誤送信テスト");
    const page = await browser.newPage({ locale: "ja-JP" });
    await page.goto(url);
    let dialogs = 0;
    page.on("dialog", (d) => {
      dialogs++;
      void (dialogs === 1 ? d.dismiss() : d.accept());
    });
    await page.click("text=送信を取り消す");
    assert.equal(
      await page.textContent("[data-testid=status]"),
      "保留中",
      "dismissing the dialog changes nothing",
    );
    await page.click("text=送信を取り消す");
    await page.waitForSelector("text=送信を取り消しました。このメールは配送されません。");
    assert.equal(await page.textContent("[data-testid=status]"), "取り消し済み");
    assert.equal(await page.locator("[data-testid=countdown]").count(), 0);
    await page.screenshot({ path: `${SHOTS}/hold-page-discarded.png`, fullPage: true });
    const view = await gw.api<{ status: string }>(token, "GET", `/messages/${id}`);
    assert.equal(view.body.status, "discarded");
    assert.equal(
      sink.messages.find((m) => m.messageId === messageId),
      undefined,
    );
    await page.close();
  });

  test("the page switches to English, and a tampered link shows not found", async () => {
    const { url } = await heldLink("language");
    const page = await browser.newPage();
    await page.goto(url);
    await page.click("text=English");
    assert.equal(await page.textContent("h1"), "Held message");
    assert.ok(await page.isVisible("text=Send now"));
    await page.screenshot({ path: `${SHOTS}/hold-page-en.png`, fullPage: true });
    const tampered = await page.goto(url.replace(/.$/, (c) => (c === "A" ? "B" : "A")));
    assert.equal(tampered?.status(), 404);
    assert.match((await page.textContent("body")) ?? "", /このリンクは無効か、有効期限が切れています。/);
    await page.close();
  });

  test("a forged POST without the CSRF token changes nothing", async () => {
    const { id, url } = await heldLink("csrf");
    const res = await fetch(`${url}/discard`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "csrf=forged",
    });
    assert.equal(res.status, 303);
    assert.match(res.headers.get("location") ?? "", /done=csrf/);
    assert.equal((await gw.api<{ status: string }>(token, "GET", `/messages/${id}`)).body.status, "held");
    void uniqueId;
  });
});
