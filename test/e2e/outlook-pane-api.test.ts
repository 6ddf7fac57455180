// The Outlook compose pane's api hand-off against the real gateway, in Chromium with the fake
// Office host: the pane (served by the gateway under /addin/outlook/) posts the item's parts to
// /api/v1/messages and discards the item; the gateway holds the message; sent now through the API
// it reaches the real SMTP sink with every attachment byte for byte. With the gateway unreachable
// nothing is sent or discarded, and the pane says why.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { simpleParser } from "mailparser";
import { FALLBACK_CLIENT_POLICY, type ClientPolicy, type MessageSummary } from "@sendguard/shared";
import type { Browser } from "playwright-core";
import { launchChromium } from "../helpers/browser.js";
import { uniqueId } from "../helpers/fixtures.js";
import { TestGateway, waitFor } from "../helpers/gateway.js";
import { openOfficePane, serveOutlookAddin, type OfficePane, type SeedItem } from "../helpers/office-host.js";
import { freePort, SmtpSink } from "../helpers/sink.js";

const USER = "taro@corp.example";
const PW = "outlook-pane-api-1";
const PDF = Buffer.concat([Buffer.from("%PDF-1.7\n"), randomBytes(40_000)]);
const LOGO = randomBytes(600);
const EML = "From: sato@client.example\r\nSubject: 前回の見積\r\n\r\n前回の見積です。\r\n";

function item(subject: string): SeedItem {
  return {
    to: [{ emailAddress: "sato@client.example", displayName: "佐藤 一郎", recipientType: "externalUser" }],
    cc: [{ emailAddress: "hanako@corp.example", displayName: "花子" }],
    subject,
    body: "見積書を添付します。",
    html: '<html><body><p>見積書を添付します。</p><img src="cid:logo@corp.example"></body></html>',
    attachments: [
      { name: "見積書.pdf", size: PDF.length, content: PDF.toString("base64") },
      {
        name: "logo.png",
        size: LOGO.length,
        content: LOGO.toString("base64"),
        isInline: true,
        contentId: "logo@corp.example",
      },
      { name: "前回の見積", size: EML.length, attachmentType: "item", content: EML },
    ],
  };
}

async function tickAndSend(pane: OfficePane): Promise<void> {
  await pane.page.getByTestId("send").waitFor();
  for (const box of await pane.page.getByRole("checkbox").all()) await box.check();
  await pane.page.getByTestId("send").click();
}

describe("Outlook compose pane, api hand-off", () => {
  const sink = new SmtpSink();
  let gw: TestGateway;
  let browser: Browser;
  let token = "";

  before(async () => {
    await sink.start();
    gw = new TestGateway({
      relayPort: sink.port,
      config: { organization: { holdMinutes: 60 }, outlook: { handoff: "api" } },
    });
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

  test("the gateway holds the message, the item is discarded; sent now, the sink gets every byte", async () => {
    const subject = `見積書の送付 ${uniqueId("pane")}`;
    const pane = await openOfficePane(browser, `${gw.httpUrl}/addin/outlook/taskpane.html`, {
      mode: "compose",
      item: item(subject),
      user: { emailAddress: USER, displayName: "山田 太郎" },
      roaming: { gatewayUrl: gw.httpUrl, token },
    });
    try {
      await tickAndSend(pane);
      const outcome = await pane.page.getByTestId("outcome").innerText();
      assert.match(outcome, /ゲートウェイが受け付けました。\d\d:\d\d に送信されます/);
      const writes = (await pane.writes()).map((c) => c.name);
      assert.ok(writes.includes("closeAsync"));
      assert.ok(!writes.includes("sendAsync") && !writes.includes("sessionData.setAsync"));
      assert.deepEqual((await pane.state()).closed, { discardItem: true });
      assert.deepEqual(pane.errors, []);
    } finally {
      await pane.close();
    }

    const held = await gw.api<{ messages: MessageSummary[] }>(token, "GET", "/messages?status=held");
    const message = held.body.messages.find((m) => m.subject === subject);
    assert.ok(message, "held at the gateway");
    assert.deepEqual(
      sink.messages.flatMap((m) => m.to).filter((to) => to !== USER),
      [],
      "nothing relayed while held (but the hold notice to the sender)",
    );
    const released = await gw.api(token, "POST", `/messages/${message.id}/release`);
    assert.equal(released.status, 200, JSON.stringify(released.body));

    const copies = await waitFor(
      () => (sink.to("hanako@corp.example").length && sink.to("sato@client.example").length ? sink : null),
      15_000,
      "both copies at the sink",
    );
    const raw = copies.to("hanako@corp.example")[0]!.raw;
    const parsed = await simpleParser(raw, { keepCidLinks: true });
    assert.equal(parsed.subject, subject);
    assert.equal(parsed.from?.value[0]?.address, USER);
    assert.match(parsed.text ?? "", /見積書を添付します。/);
    assert.match(String(parsed.html), /cid:logo@corp\.example/);
    const byName = new Map(parsed.attachments.map((a) => [a.filename, a]));
    assert.deepEqual(byName.get("見積書.pdf")?.content, PDF, "the PDF byte for byte");
    assert.equal(byName.get("見積書.pdf")?.contentType, "application/pdf");
    const logo = parsed.attachments.find((a) => a.cid === "logo@corp.example");
    assert.deepEqual(logo?.content, LOGO, "the inline image, byte for byte, with its Content-ID");
    const eml = byName.get("前回の見積.eml");
    assert.equal(eml?.contentType, "message/rfc822");
    assert.equal(eml?.content.toString("utf8"), EML, "the attached message as it was");
    const outside = await simpleParser(copies.to("sato@client.example")[0]!.raw);
    assert.equal(outside.subject, subject);
  });

  test("api mode and the gateway unreachable: nothing sent or discarded, the pane says why", async () => {
    const site = await serveOutlookAddin();
    const policy: ClientPolicy = {
      ...FALLBACK_CLIENT_POLICY,
      domains: { internal: ["corp.example"], semiInternal: [] },
      outlook: { handoff: "api" },
    };
    const pane = await openOfficePane(browser, `${site.url}/taskpane.html`, {
      mode: "compose",
      item: item("届かない"),
      roaming: { gatewayUrl: `http://127.0.0.1:${await freePort()}`, token, policyCache: policy },
    });
    try {
      await tickAndSend(pane);
      const problem = await pane.page.getByTestId("problem").innerText();
      assert.match(problem, /ゲートウェイに渡せませんでした: .*127\.0\.0\.1.*メールは送信されていません/);
      await pane.page.getByTestId("send").waitFor();
      const writes = (await pane.writes()).map((c) => c.name);
      assert.deepEqual(writes, [], "no send, no discard, not even a policy write");
      assert.equal((await pane.state()).closed, null);
    } finally {
      await pane.close();
      await site.close();
    }
  });
});
