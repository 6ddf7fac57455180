// Approval in a real Chromium (the approver's page) and approval timeouts.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import nodemailer from "nodemailer";
import type { Browser } from "playwright-core";
import { launchChromium } from "../helpers/browser.js";
import { bodyText, noticeLink, uniqueId } from "../helpers/fixtures.js";
import { TestGateway, waitFor } from "../helpers/gateway.js";
import { SmtpSink } from "../helpers/sink.js";

const PW = "correct-horse-1";
const SHOTS = process.env.SENDGUARD_SCREENSHOTS ?? "/tmp/sendguard-screenshots";

describe("approval", () => {
  const sink = new SmtpSink();
  let gw: TestGateway;
  let admin: string;
  let browser: Browser;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    await sink.start();
    gw = new TestGateway({ relayPort: sink.port, config: { organization: { holdMinutes: 0 } } });
    gw.addUser("admin@corp.example", PW, "--role", "admin");
    await gw.start();
    admin = await gw.token("admin@corp.example", PW);
    const put = async (scope: string, doc: unknown) =>
      assert.equal((await gw.api(admin, "PUT", `/admin/policies/${scope}`, doc)).status, 200);
    await put("org", {
      preset: "self",
      rules: [
        {
          name: "external-needs-approval",
          when: { senderGroup: ["new"], recipientClass: ["external"] },
          then: { approve: {} },
        },
      ],
    });
    await put("user:auto-yes@corp.example", { approval: { timeoutMinutes: 0.05, timeoutAction: "approve" } });
    await put("user:auto-no@corp.example", { approval: { timeoutMinutes: 0.05, timeoutAction: "deny" } });
    for (const email of ["hanako@corp.example", "auto-yes@corp.example", "auto-no@corp.example"]) {
      const r = await gw.api(admin, "POST", "/admin/users", {
        email,
        password: PW,
        groups: ["new"],
        manager: "boss@corp.example",
      });
      assert.equal(r.status, 201);
    }
    await gw.api(admin, "POST", "/admin/users", {
      email: "boss@corp.example",
      password: PW,
      role: "approver",
    });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gw.stop();
    await sink.stop();
  });

  async function send(from: string, subject: string): Promise<{ id: string; messageId: string }> {
    const messageId = uniqueId("approval");
    const t = nodemailer.createTransport({
      host: "127.0.0.1",
      port: gw.ports.smtp,
      tls: { rejectUnauthorized: false },
      auth: { user: from, pass: PW },
    });
    const info = await t.sendMail({
      from,
      to: "client@partner.example",
      subject,
      text: "本文",
      messageId: `<${messageId}>`,
    });
    t.close();
    return { id: /Queued as (\S+);/.exec(info.response)?.[1] as string, messageId };
  }
  const status = async (id: string) =>
    (await gw.api<{ status: string }>(admin, "GET", `/messages/${id}`)).body.status;

  test("the approver denies with a comment on the page; the sender is told, nothing is relayed", async () => {
    const { id, messageId } = await send("hanako@corp.example", "見積書の送付");
    const request = await waitFor(
      () => sink.to("boss@corp.example").find((m) => m.text.includes(messageId)),
      5000,
      "request",
    );
    const link = await noticeLink(request.raw, "approve");
    const page = await browser.newPage({ locale: "ja-JP" });
    await page.goto(link);
    assert.equal(await page.textContent("[data-testid=subject]"), "見積書の送付");
    assert.equal(await page.textContent("[data-testid=status]"), "承認待ち");
    assert.ok(await page.isVisible("text=external-needs-approval"));
    await page.fill("textarea[name=comment]", "宛先のドメインを確認してください");
    await page.screenshot({ path: `${SHOTS}/approve-page-ja.png`, fullPage: true });
    await page.click("button[value=deny]");
    await page.waitForSelector("text=却下しました。送信者に通知します。");
    assert.equal(await page.textContent("[data-testid=status]"), "承認却下");
    assert.equal(await page.locator("textarea").count(), 0, "no form once decided");
    await page.close();
    assert.equal(await status(id), "approval_denied");
    const notice = await waitFor(
      () => sink.to("hanako@corp.example").find((m) => m.text.includes(messageId)),
      5000,
      "denied notice",
    );
    const text = await bodyText(notice.raw);
    assert.match(text, /却下した人: boss@corp\.example/);
    assert.match(text, /コメント: 宛先のドメインを確認してください/);
    assert.equal(sink.messages.filter((m) => m.messageId === messageId).length, 0);
  });

  test("the approver approves on the page and the message is relayed", async () => {
    const { id, messageId } = await send("hanako@corp.example", "承認テスト");
    const request = await waitFor(
      () => sink.to("boss@corp.example").find((m) => m.text.includes(messageId)),
      5000,
      "request",
    );
    const link = await noticeLink(request.raw, "approve");
    const page = await browser.newPage({ locale: "en-US" });
    await page.goto(`${link}?lang=en`);
    await page.click("text=Approve and send");
    await page.waitForSelector("text=Approved.");
    await page.close();
    await waitFor(
      () => sink.messages.some((m) => m.messageId === messageId && m.to.includes("client@partner.example")),
      5000,
      "relay",
    );
    await waitFor(async () => (await status(id)) === "sent", 5000, "sent");
  });

  test("a link for another approver, or a tampered one, shows not found", async () => {
    const { id } = await send("hanako@corp.example", "なりすまし");
    const res = await fetch(`${gw.httpUrl}/approve/${id}/mallory%40corp.example/${"A".repeat(43)}`);
    assert.equal(res.status, 404);
  });

  test("nobody decides: the timeout approves or denies as the policy says", async () => {
    const yes = await send("auto-yes@corp.example", "期限で承認");
    const no = await send("auto-no@corp.example", "期限で却下");
    assert.equal(await status(yes.id), "pending_approval");
    await waitFor(
      () =>
        sink.messages.some((m) => m.messageId === yes.messageId && m.to.includes("client@partner.example")),
      10_000,
      "approved by timeout and relayed",
    );
    await waitFor(async () => (await status(no.id)) === "approval_denied", 10_000, "denied by timeout");
    const audit = await gw.api<{ entries: { actor: string; action: string }[] }>(
      admin,
      "GET",
      `/admin/audit?messageId=${no.id}`,
    );
    assert.ok(audit.body.entries.some((e) => e.actor === "timeout" && e.action === "denied"));
  });
});
