// The fake Office host the Outlook task pane tests run against (helpers/office-host.ts), checked on
// its own in Chromium: a page that loads office.js from Microsoft's CDN gets the fake, which
// answers as Outlook does, keeps the pane's writes and records every call.
/// <reference types="office-js" />
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser } from "playwright-core";
import { launchChromium } from "../helpers/browser.js";
import { openOfficePane, type OfficeSeed } from "../helpers/office-host.js";
import { serveDirectory } from "../helpers/static.js";

/** A page that loads office.js and has Office's callback style as a promise: call((cb) => …). */
const PAGE = `<!doctype html><meta charset="utf-8">
<script src="https://appsforoffice.microsoft.com/lib/1/hosted/office.js"></script>
<script>window.call = (start) => new Promise((resolve, reject) =>
  start((r) => (r.status === "succeeded" ? resolve(r.value) : reject(new Error(r.error.message)))));</script>
<body>probe</body>`;

type Call = (start: (callback: never) => void) => Promise<unknown>;
declare global {
  interface Window {
    call: Call;
  }
}

const compose: OfficeSeed = {
  mode: "compose",
  item: {
    to: [{ emailAddress: "sato@client.example", displayName: "佐藤" }],
    cc: [{ emailAddress: "hanako@corp.example" }],
    subject: "見積",
    body: "添付します",
    attachments: [{ name: "a.pdf", content: Buffer.from("%PDF-1.4").toString("base64") }],
  },
  roaming: { gatewayUrl: "https://gw.example" },
  mailboxMinor: 15,
};

describe("fake Office host in Chromium", () => {
  let browser: Browser;
  let site: Awaited<ReturnType<typeof serveDirectory>>;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), "sendguard-office-"));
    writeFileSync(join(dir, "probe.html"), PAGE);
    site = await serveDirectory(dir);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await site?.close();
  });

  test("compose: reads, writes and sends are answered, kept and recorded", async () => {
    const pane = await openOfficePane(browser, `${site.url}/probe.html`, compose);
    try {
      const read = await pane.page.evaluate(async () => {
        const call = window.call;
        await Office.onReady();
        const item = Office.context.mailbox.item as Office.MessageCompose;
        const to = await call((cb) => item.to.getAsync(cb));
        const atts = (await call((cb) => item.getAttachmentsAsync(cb))) as { id: string }[];
        const content = await call((cb) => item.getAttachmentContentAsync(atts[0]!.id, cb));
        await call((cb) => item.bcc.setAsync(["sato@client.example"], cb));
        await call((cb) => item.to.setAsync([], cb));
        await call((cb) => item.sessionData.setAsync("k", "v", cb));
        await call((cb) => item.internetHeaders.setAsync({ "X-Test": "1" }, cb));
        await call((cb) => item.sendAsync(cb));
        return {
          to,
          content,
          ja: Office.context.displayLanguage,
          has15: Office.context.requirements.isSetSupported("Mailbox", "1.15"),
          url: Office.context.roamingSettings.get("gatewayUrl"),
        };
      });
      assert.deepEqual(read.to, [
        { emailAddress: "sato@client.example", displayName: "佐藤", recipientType: "user" },
      ]);
      assert.deepEqual(read.content, { format: "base64", content: compose.item.attachments?.[0]?.content });
      assert.equal(read.ja, "ja-JP");
      assert.equal(read.has15, true);
      assert.equal(read.url, "https://gw.example");

      const state = await pane.state();
      assert.deepEqual(state.item.to, []);
      assert.deepEqual(state.item.bcc, [{ emailAddress: "sato@client.example" }]);
      assert.deepEqual(state.item.sessionData, { k: "v" });
      assert.deepEqual(state.item.internetHeaders, { "X-Test": "1" });
      assert.equal(state.sent, true);
      assert.deepEqual(
        (await pane.writes()).map((c) => c.name),
        ["bcc.setAsync", "to.setAsync", "sessionData.setAsync", "internetHeaders.setAsync", "sendAsync"],
      );
      assert.deepEqual((await pane.calls()).find((c) => c.name === "bcc.setAsync")?.args, [
        ["sato@client.example"],
      ]);
      assert.deepEqual(pane.errors, []);
    } finally {
      await pane.close();
    }
  });

  test("faults: a seeded failure fails the call; an older client has no sendAsync success", async () => {
    const pane = await openOfficePane(browser, `${site.url}/probe.html`, {
      ...compose,
      mailboxMinor: 14,
      faults: { closeAsync: "error" },
    });
    try {
      const outcome = await pane.page.evaluate(async () => {
        const call = window.call;
        const item = Office.context.mailbox.item as Office.MessageCompose;
        // No named functions in here: tsx's keep-names helper does not exist in the page.
        const [send, close] = await Promise.allSettled([
          call((cb) => item.sendAsync(cb)),
          call((cb) => item.closeAsync({ discardItem: true }, cb)),
        ]);
        return {
          send: send.status === "rejected" ? String(send.reason) : "ok",
          close: close.status === "rejected" ? String(close.reason) : "ok",
          has15: Office.context.requirements.isSetSupported("Mailbox", "1.15"),
        };
      });
      assert.match(outcome.send, /1\.15/);
      assert.match(outcome.close, /fault seeded/);
      assert.equal(outcome.has15, false);
      const state = await pane.state();
      assert.equal(state.sent, false);
      assert.equal(state.closed, null);
    } finally {
      await pane.close();
    }
  });

  test("read mode: the item's fields and its internet headers", async () => {
    const pane = await openOfficePane(browser, `${site.url}/probe.html`, {
      mode: "read",
      displayLanguage: "en-US",
      item: {
        subject: "[配送保留] 見積",
        from: { emailAddress: "sendguard@corp.example" },
        internetMessageId: "<notice@corp.example>",
        internetHeaders: { "X-Sendguard-Message": "m1" },
      },
    });
    try {
      const read = await pane.page.evaluate(async () => {
        const call = window.call;
        const item = Office.context.mailbox.item as Office.MessageRead;
        return {
          subject: item.subject,
          from: item.from.emailAddress,
          mid: item.internetMessageId,
          headers: await call((cb) => item.getAllInternetHeadersAsync(cb)),
        };
      });
      assert.deepEqual(read, {
        subject: "[配送保留] 見積",
        from: "sendguard@corp.example",
        mid: "<notice@corp.example>",
        headers: "X-Sendguard-Message: m1\r\n",
      });
    } finally {
      await pane.close();
    }
  });
});
