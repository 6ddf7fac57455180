// Outlook's read-mode task pane (addin-outlook/src/pane/read.tsx) in real Chromium against the fake
// Office host, served by a real gateway as Outlook loads it (/addin/outlook/read.html): the user's
// held messages with countdowns, Undo (discarded, never relayed) and Send now, the message of a
// hold notice open in Outlook first, and the sign-in when the pane has no token.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, afterEach, before, describe, test } from "node:test";
import { simpleParser } from "mailparser";
import type { Browser } from "playwright-core";
import { launchChromium } from "../helpers/browser.js";
import { TestGateway, waitFor } from "../helpers/gateway.js";
import { openOfficePane, type OfficePane, type OfficeSeed } from "../helpers/office-host.js";
import { SmtpSink } from "../helpers/sink.js";

const SHOTS = process.env.SENDGUARD_SCREENSHOTS ?? "/tmp/sendguard-screenshots";
const PW = "read-pane-pw-1";
const TARO = "taro@corp.example";
const PARTNER = "client@partner.example";

describe("Outlook read pane in Chromium", () => {
  const sink = new SmtpSink();
  let gw: TestGateway;
  let token: string;
  let browser: Browser;
  const panes = new Set<OfficePane>();

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    await sink.start();
    gw = new TestGateway({ relayPort: sink.port, config: { organization: { holdMinutes: 60 } } });
    gw.addUser(TARO, PW);
    await gw.start();
    token = await gw.token(TARO, PW);
    browser = await launchChromium();
  });
  afterEach(async () => {
    for (const pane of panes) {
      assert.deepEqual(pane.errors, [], "no uncaught exception in the pane");
      await pane.close();
    }
    panes.clear();
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
    await sink.stop();
  });

  async function submit(subject: string): Promise<{ id: string; messageId: string }> {
    const r = await gw.api<{ id: string }>(token, "POST", "/messages", {
      to: PARTNER,
      subject,
      text: "本文",
    });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const view = await gw.api<{ messageId: string }>(token, "GET", `/messages/${r.body.id}`);
    return { id: r.body.id, messageId: view.body.messageId };
  }
  const status = async (id: string) =>
    (await gw.api<{ status: string }>(token, "GET", `/messages/${id}`)).body.status;
  const relayed = (messageId: string) => sink.messages.some((m) => m.messageId === messageId);

  /** The pane as Outlook opens it on `item`, signed in unless `roaming` says otherwise. */
  async function open(item: OfficeSeed["item"], lang: "ja" | "en", roaming?: Record<string, unknown>) {
    const pane = await openOfficePane(browser, `${gw.httpUrl}/addin/outlook/read.html`, {
      mode: "read",
      item,
      roaming: roaming ?? { gatewayUrl: gw.httpUrl, token },
      displayLanguage: lang === "ja" ? "ja-JP" : "en-US",
    });
    panes.add(pane);
    return pane;
  }
  const row = (pane: OfficePane, id: string) => pane.page.locator(`[data-testid=held-row][data-id="${id}"]`);

  test("lists the held messages with countdowns; Undo discards one, which is never relayed (ja)", async () => {
    const keep = await submit("四半期報告");
    const undo = await submit("取り消すメール");
    const pane = await open({ subject: "打ち合わせの件", body: "よろしくお願いします。" }, "ja");
    await row(pane, undo.id).waitFor();
    assert.equal(await pane.page.getByTestId("focused").count(), 0, "an ordinary mail is about no message");
    assert.match(
      (await row(pane, keep.id).getByTestId("countdown").textContent()) ?? "",
      /^あと (59 分|1 時間)( \d+ 秒)?で送信$/,
    );
    await row(pane, undo.id).getByTestId("undo").click();
    await pane.page.getByTestId("notice").waitFor();
    assert.equal(await pane.page.getByTestId("notice").textContent(), "送信を取り消しました: 取り消すメール");
    await row(pane, undo.id).waitFor({ state: "detached" });
    assert.equal(await status(undo.id), "discarded");
    assert.equal(await status(keep.id), "held");
    await pane.page.screenshot({ path: `${SHOTS}/outlook-read-pane-ja.png`, fullPage: true });
    // Nothing of it reaches the relay, not even later: the gateway has nothing left to send.
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(!relayed(undo.messageId), "the undone message never reached the relay");
    // The pane called only what a read pane may: no writes to the item.
    assert.deepEqual(
      (await pane.writes()).map((c) => c.name),
      [],
    );
  });

  test("on a hold notice the pane shows that message first; Send now relays it (en)", async () => {
    const other = await submit("Another one");
    const held = await submit("Figures for Q3");
    const mail = await waitFor(
      () => sink.to(TARO).find((m) => m.text.includes(held.messageId)),
      10_000,
      "the hold notice to the sender",
    );
    const notice = await simpleParser(mail.raw);
    assert.match(notice.subject ?? "", /^\[配送保留\] Figures for Q3$/);
    const pane = await open({ subject: notice.subject ?? "", body: notice.text ?? "" }, "en");
    const focused = pane.page.getByTestId("focused");
    await focused.waitFor();
    assert.equal(await focused.getAttribute("data-id"), held.id);
    assert.match((await focused.textContent()) ?? "", /The message in this notice.*Figures for Q3.*Sends in/);
    await row(pane, other.id).waitFor();
    assert.equal(await row(pane, held.id).count(), 1, "listed once, in the notice's place");
    await pane.page.screenshot({ path: `${SHOTS}/outlook-read-pane-notice-en.png`, fullPage: true });

    await focused.getByTestId("send-now").click();
    await pane.page.getByTestId("notice").waitFor();
    assert.equal(await pane.page.getByTestId("notice").textContent(), "Sent: Figures for Q3");
    await waitFor(() => relayed(held.messageId), 10_000, "relay");
    await waitFor(
      async () => /Status of this message: Sent$/.test((await focused.textContent()) ?? ""),
      10_000,
      "the notice's message shown as sent",
    );
    assert.equal(await status(other.id), "held");
  });

  test("a notice of no message of the user's says so (ja)", async () => {
    const pane = await open(
      {
        subject: "[配送保留] 知らないメール",
        body: `今すぐ送信、または送信を取り消すには次のページを開いてください:\n${gw.httpUrl}/hold/AAAAAAAAAAAAAAAA/${"s".repeat(43)}\n`,
      },
      "ja",
    );
    await pane.page.getByTestId("focused-unknown").waitFor();
    assert.match(
      (await pane.page.getByTestId("focused-unknown").textContent()) ?? "",
      /このメールはゲートウェイにありません/,
    );
  });

  test("without a token the pane signs in against the gateway that served it, then lists (ja)", async () => {
    const msg = await submit("サインイン後に見えるメール");
    const pane = await open({ subject: "件名", body: "本文" }, "ja", {});
    await pane.page.getByTestId("open-settings").click();
    assert.equal(await pane.page.inputValue("input[name=gatewayUrl]"), gw.httpUrl);
    await pane.page.fill("input[name=email]", TARO);
    await pane.page.fill("input[name=password]", PW);
    await pane.page.click("[data-testid=sign-in]");
    await row(pane, msg.id).waitFor();
    const { roaming } = await pane.state();
    assert.equal(roaming.gatewayUrl, gw.httpUrl);
    assert.match(String(roaming.token), /^[A-Za-z0-9_-]{43}$/);
    assert.ok(!JSON.stringify(roaming).includes(PW), "the password is not kept");
  });
});
