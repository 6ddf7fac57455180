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
      const r = await gw.api<{ user: { id: string } }>(admin, "POST", "/admin/users", {
        email,
        password: PW,
        groups: ["new"],
        manager: "boss@corp.example",
      });
      assert.equal(r.status, 201);
      if (email === "hanako@corp.example") {
        const alias = { aliases: ["sales@corp.example"] };
        assert.equal((await gw.api(admin, "PATCH", `/admin/users/${r.body.user.id}`, alias)).status, 200);
      }
    }
    // Someone who is neither the sender nor an approver of hanako's messages.
    assert.equal(
      (await gw.api(admin, "POST", "/admin/users", { email: "taro@corp.example", password: PW })).status,
      201,
    );
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

  /** Sends as `from` (AUTH and MAIL FROM); the header From is `headerFrom`, by default the same. */
  async function send(
    from: string,
    subject: string,
    headerFrom = from,
  ): Promise<{ id: string; messageId: string }> {
    const messageId = uniqueId("approval");
    const t = nodemailer.createTransport({
      host: "127.0.0.1",
      port: gw.ports.smtp,
      tls: { rejectUnauthorized: false },
      auth: { user: from, pass: PW },
    });
    const info = await t.sendMail({
      envelope: { from, to: "client@partner.example" },
      from: headerFrom,
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

  test("the page shows the header From and the envelope sender, each named", async () => {
    const { messageId } = await send("hanako@corp.example", "差出人の表示", "営業部 <sales@corp.example>");
    const request = await waitFor(
      () => sink.to("boss@corp.example").find((m) => m.text.includes(messageId)),
      5000,
      "request",
    );
    const page = await browser.newPage({ locale: "en-US" });
    await page.goto(`${await noticeLink(request.raw, "approve")}?lang=en`);
    assert.equal(await page.textContent("[data-testid=from]"), "sales@corp.example");
    assert.equal(await page.textContent("[data-testid=envelope-sender]"), "hanako@corp.example");
    assert.ok(await page.isVisible("text=Envelope sender (MAIL FROM)"));
    await page.close();
  });

  test("an approver may approve or deny but not send now or cancel: 403 not_sender, nothing changes", async () => {
    const { id } = await send("hanako@corp.example", "承認者は送信できない");
    const boss = await gw.token("boss@corp.example", PW);
    const taro = await gw.token("taro@corp.example", PW);
    const before = await gw.api<{ status: string; groups: { id: string; status: string }[] }>(
      admin,
      "GET",
      `/messages/${id}`,
    );
    assert.equal(before.body.status, "pending_approval");
    const group = before.body.groups[0]?.id;
    for (const action of ["release", "discard"]) {
      for (const path of [`/messages/${id}/${action}`, `/messages/${id}/groups/${group}/${action}`]) {
        const r = await gw.api<{ error: { code: string; message: string } }>(boss, "POST", path);
        assert.equal(r.status, 403, `${path}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.error.code, "not_sender");
        assert.match(r.body.error.message, /only its sender|送信者だけ/);
        // Neither sender nor approver: the message does not exist for them.
        const stranger = await gw.api<{ error: { code: string } }>(taro, "POST", path);
        assert.equal(stranger.status, 404);
        assert.equal(stranger.body.error.code, "not_found");
      }
    }
    const after = await gw.api(admin, "GET", `/messages/${id}`);
    assert.deepEqual(after.body, before.body, "the message is unchanged");
    // The approver can still see it and decide; the sender can still cancel it.
    assert.equal((await gw.api(boss, "GET", `/messages/${id}`)).status, 200);
    const hanako = await gw.token("hanako@corp.example", PW);
    const discarded = await gw.api<{ status: string }>(hanako, "POST", `/messages/${id}/discard`);
    assert.equal(discarded.status, 200);
    assert.equal(discarded.body.status, "discarded");
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
