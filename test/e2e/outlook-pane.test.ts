// The Outlook compose task pane (the built addin-outlook/dist/taskpane.html) in Chromium against
// the fake Office host: Send confirms (marker, header, sendAsync) and the real send handler then
// lets that very item pass; Cancel writes nothing; Convert to Bcc sets To, Cc and Bcc; an older
// client is told to press Send; without any policy the pane fails closed.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CONFIRMED_HEADER, FALLBACK_CLIENT_POLICY, type ClientPolicy } from "@sendguard/shared";
import type { Browser } from "playwright-core";
import { RUNTIME_GLOBALS, loadBundle } from "../../addin-outlook/test/bundle.js";
import { fakeOffice } from "../../addin-outlook/test/fake-office.js";
import { CONFIRMED_KEY } from "../../addin-outlook/src/handler/commands.js";
import { launchChromium } from "../helpers/browser.js";
import {
  openOfficePane,
  serveOutlookAddin,
  type OfficePane,
  type OfficeSeed,
  type SeedItem,
} from "../helpers/office-host.js";

const POLICY: ClientPolicy = {
  ...FALLBACK_CLIENT_POLICY,
  domains: { internal: ["corp.example"], semiInternal: ["group.example"] },
  hold: { internal: 5, semiInternal: 5, external: 5 },
  holdMinutes: 5,
  attachmentAction: "web_download",
  client: { ...FALLBACK_CLIENT_POLICY.client, bccSuggestThreshold: 2 },
};

const PDF = Buffer.from("%PDF-1.4 見積書");

const quote = (): SeedItem => ({
  to: [{ emailAddress: "sato@client.example", displayName: "佐藤", recipientType: "externalUser" }],
  cc: [{ emailAddress: "hanako@corp.example", displayName: "花子" }],
  subject: "見積書の送付",
  body: "見積書を添付します。",
  attachments: [{ name: "見積書.pdf", size: PDF.length, content: PDF.toString("base64") }],
});

const seeded = (item: SeedItem, change: Partial<OfficeSeed> = {}): OfficeSeed => ({
  mode: "compose",
  item,
  roaming: { policyCache: POLICY },
  ...change,
});

/** Ticks every box the dialog asks for, then Send. */
async function tickAndSend(pane: OfficePane): Promise<void> {
  const { page } = pane;
  await page.getByTestId("send").waitFor();
  for (const box of await page.getByRole("checkbox").all()) await box.check();
  await page.getByTestId("send").click();
}

/** The send handler's decision (the built bundle, as Outlook runs it) for the item as the host now holds it. */
async function handlerDecision(pane: OfficePane) {
  const { item } = await pane.state();
  const host = fakeOffice({
    item: { ...item, attachments: item.attachments?.map((a) => ({ name: a.name, size: a.size ?? 0 })) },
    roaming: { policyCache: POLICY },
  });
  return loadBundle(host, RUNTIME_GLOBALS).fire("onSendGuard");
}

describe("Outlook compose pane in Chromium", () => {
  let browser: Browser;
  let site: Awaited<ReturnType<typeof serveOutlookAddin>>;
  let url = "";

  before(async () => {
    site = await serveOutlookAddin();
    url = `${site.url}/taskpane.html`;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await site?.close();
  });

  test("Send: marker in sessionData, X-Sendguard-Confirmed, sendAsync; the handler then lets it go", async () => {
    const pane = await openOfficePane(browser, url, seeded(quote()));
    try {
      const { page } = pane;
      await page.getByTestId("group-external").getByText("sato@client.example").waitFor();
      assert.match(await page.getByTestId("attachments").innerText(), /見積書\.pdf/);
      assert.equal(
        await page.getByTestId("send").isDisabled(),
        true,
        "the external recipient needs its tick",
      );
      await tickAndSend(pane);
      await page.getByTestId("outcome").waitFor();
      const writes = await pane.writes();
      assert.deepEqual(
        writes.map((c) => c.name),
        ["sessionData.setAsync", "internetHeaders.setAsync", "sendAsync"],
      );
      assert.equal(writes[0]?.args[0], CONFIRMED_KEY);
      const header = (writes[1]?.args[0] as Record<string, string>)[CONFIRMED_HEADER] ?? "";
      assert.match(header, /^confirmed; \d{4}-\d\d-\d\dT/);
      assert.equal((await pane.state()).sent, true);
      assert.deepEqual(await handlerDecision(pane), { allowEvent: true }, "the marker matches the item");
      assert.deepEqual(pane.errors, []);
    } finally {
      await pane.close();
    }
  });

  test("an edit after confirming: the handler asks again", async () => {
    const pane = await openOfficePane(browser, url, seeded(quote(), { mailboxMinor: 14 }));
    try {
      await tickAndSend(pane);
      await pane.page.getByTestId("outcome").waitFor();
      // Outlook 1.14: no sendAsync; the user adds a recipient and presses Send.
      await pane.page.evaluate(() =>
        window.__officeHost.item.to?.push({ emailAddress: "suzuki@other.example" }),
      );
      const decision = await handlerDecision(pane);
      assert.equal(decision.allowEvent, false);
      assert.equal(decision.commandId, "SendguardComposePane");
    } finally {
      await pane.close();
    }
  });

  test("an older client (Mailbox 1.14): confirmed, and told to press Send; no sendAsync", async () => {
    const pane = await openOfficePane(browser, url, seeded(quote(), { mailboxMinor: 14 }));
    try {
      await tickAndSend(pane);
      const outcome = await pane.page.getByTestId("outcome").innerText();
      assert.match(outcome, /\[送信\] をもう一度押す/);
      assert.deepEqual(
        (await pane.writes()).map((c) => c.name),
        ["sessionData.setAsync", "internetHeaders.setAsync"],
      );
      assert.deepEqual(await handlerDecision(pane), { allowEvent: true });
    } finally {
      await pane.close();
    }
  });

  test("a meeting invitation: attendees checked, no Bcc offered, marker and sendAsync without headers", async () => {
    const meeting: SeedItem = {
      itemType: "appointment",
      requiredAttendees: [{ emailAddress: "a@client1.example" }, { emailAddress: "b@client2.example" }],
      optionalAttendees: [{ emailAddress: "hanako@corp.example" }],
      subject: "定例会議",
      body: "議題は追って。",
    };
    const pane = await openOfficePane(browser, url, seeded(meeting));
    try {
      await pane.page.getByTestId("group-external").getByText("a@client1.example").waitFor();
      assert.equal(await pane.page.getByTestId("convert-bcc").count(), 0, "a meeting has no Bcc");
      assert.equal(await pane.page.getByTestId("warning-many_external").count(), 0, "nor advice to use it");
      await tickAndSend(pane);
      await pane.page.getByTestId("outcome").waitFor();
      assert.deepEqual(
        (await pane.writes()).map((c) => c.name),
        ["sessionData.setAsync", "sendAsync"],
      );
      assert.deepEqual(await handlerDecision(pane), { allowEvent: true });
    } finally {
      await pane.close();
    }
  });

  test("Cancel: nothing written to Outlook", async () => {
    const pane = await openOfficePane(browser, url, seeded(quote()));
    try {
      await pane.page.getByTestId("cancel").click();
      assert.match(await pane.page.getByTestId("outcome").innerText(), /送信しませんでした/);
      assert.deepEqual(await pane.writes(), []);
      assert.ok(
        (await pane.calls()).some((c) => c.name === "to.getAsync"),
        "it did read the item",
      );
      await pane.page.getByTestId("again").click();
      await pane.page.getByTestId("send").waitFor();
      assert.deepEqual(await pane.writes(), []);
    } finally {
      await pane.close();
    }
  });

  test("Convert to Bcc: To, Cc and Bcc set with setAsync, and the dialog shows what Outlook now holds", async () => {
    const pane = await openOfficePane(
      browser,
      url,
      seeded({
        to: [{ emailAddress: "a@client1.example" }, { emailAddress: "b@client2.example", displayName: "B" }],
        cc: [{ emailAddress: "hanako@corp.example", displayName: "花子" }],
        subject: "ご案内",
        body: "各位",
      }),
    );
    try {
      const { page } = pane;
      await page.getByTestId("convert-bcc").click();
      await page.getByTestId("group-external").getByText("BCC: B <b@client2.example>").waitFor();
      assert.equal(await page.getByTestId("convert-bcc").count(), 0, "nothing left to convert");
      const writes = await pane.writes();
      assert.deepEqual(
        Object.fromEntries(writes.map((c) => [c.name, c.args[0]])),
        {
          "to.setAsync": [{ emailAddress: "taro@corp.example", displayName: "taro@corp.example" }],
          "cc.setAsync": [{ emailAddress: "hanako@corp.example", displayName: "花子" }],
          "bcc.setAsync": [
            { emailAddress: "a@client1.example", displayName: "a@client1.example" },
            { emailAddress: "b@client2.example", displayName: "B" },
          ],
        },
        "the sender in To, the externals in Bcc",
      );
      const { item } = await pane.state();
      assert.deepEqual(
        item.bcc?.map((r) => r.emailAddress),
        ["a@client1.example", "b@client2.example"],
      );
      assert.equal(writes.length, 3, "one call a field");
    } finally {
      await pane.close();
    }
  });

  test("no policy at all (never signed in, nothing cached): fail closed, a colleague needs a tick too; English", async () => {
    const pane = await openOfficePane(
      browser,
      url,
      seeded(
        { to: [{ emailAddress: "hanako@corp.example" }], subject: "Lunch", body: "12:00?" },
        {
          roaming: {},
          displayLanguage: "en-US",
        },
      ),
    );
    try {
      const { page } = pane;
      await page.getByTestId("fail-closed").waitFor();
      assert.match(
        await page.getByTestId("fail-closed").innerText(),
        /every recipient is checked as external/i,
      );
      await page.getByTestId("group-external").getByText("hanako@corp.example").waitFor();
      assert.equal(await page.getByTestId("send").isDisabled(), true);
      await page.getByTestId("sign-in").waitFor();
      assert.equal(await page.getByText("Check before sending").first().isVisible(), true);
    } finally {
      await pane.close();
    }
  });
});
