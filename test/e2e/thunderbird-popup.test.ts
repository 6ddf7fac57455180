// The Thunderbird confirm window (the built extension page) in Chromium, with a fake runtime that
// answers as the background would.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  buildConfirmModel,
  convertExternalToBcc,
  FALLBACK_CLIENT_POLICY,
  type ClientPolicy,
  type Draft,
} from "@sendguard/shared";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "../helpers/browser.js";
import { ROOT } from "../helpers/gateway.js";
import { serveDirectory } from "../helpers/static.js";

const SHOTS = process.env.SENDGUARD_SCREENSHOTS ?? "/tmp/sendguard-screenshots";
const EXTENSION = join(ROOT, "addin-thunderbird/dist/extension");

const policy: ClientPolicy = {
  ...FALLBACK_CLIENT_POLICY,
  domains: { internal: ["corp.example"], semiInternal: ["group.example"] },
  hold: { internal: 5, semiInternal: 5, external: 5 },
  holdMinutes: 5,
  attachmentAction: "web_download",
  attachmentRules: [
    { name: "client2 zip", recipientDomain: ["client2.example"], action: "encrypt_zip", conditional: false },
  ],
  client: { ...FALLBACK_CLIENT_POLICY.client, bccSuggestThreshold: 2 },
};

const draft: Draft = {
  from: "taro@corp.example",
  recipients: [
    { address: "hanako@corp.example", name: "花子", field: "to" },
    { address: "jiro@group.example", field: "cc" },
    { address: "a@client1.example", name: "取引先A", field: "to" },
    { address: "b@client2.example", field: "cc" },
  ],
  subject: "見積書の送付",
  body: "見積書を添付します。",
  attachments: [{ name: "見積書.pdf", size: 123_456 }],
};

describe("Thunderbird confirm window in Chromium", () => {
  let site: Awaited<ReturnType<typeof serveDirectory>>;
  let browser: Browser;
  let base: string;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    site = await serveDirectory(EXTENSION);
    base = site.url;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await site.close();
  });

  /**
   * The confirm page with a stand-in for the background page: like the real one it renders the
   * dialog from another realm (a frame that imported confirm-ui.js) into the confirm window, and
   * answers its messages, recording them.
   */
  async function open(lang: "ja" | "en", d: Draft = draft, p: ClientPolicy = policy): Promise<Page> {
    const view = { model: buildConfirmModel(d, p, lang), lang, converted: false };
    const converted = {
      model: buildConfirmModel(convertExternalToBcc(d, p), p, lang),
      lang,
      converted: true,
    };
    const page = await browser.newPage({
      locale: lang === "ja" ? "ja-JP" : "en-US",
      viewport: { width: 640, height: 760 },
    });
    // A string, not a function: tsx compiles this file with keep-names helpers that do not exist in the page.
    await page.addInitScript({
      content: `
        window.__sent = [];
        window.close = () => { window.__closed = true; };
        const view = ${JSON.stringify(view)}, converted = ${JSON.stringify(converted)};
        const answer = async (m) => {
          window.__sent.push(m);
          if (m.type === "sendguard:convertBcc") return converted;
          return m.type === "sendguard:answer" ? null : view;
        };
        const background = async () => {
          const frame = document.createElement("iframe");
          frame.hidden = true;
          document.documentElement.append(frame);
          const ui = await frame.contentWindow.eval('import("' + location.origin + '/confirm-ui.js")');
          if (ui.mountConfirm.constructor === Function) throw new Error("confirm-ui.js ran in the page's realm");
          return { sendguardConfirm: { mount: async (win, request) => ui.mountConfirm(win, request, answer) } };
        };
        // As when the background is suspended: extension.getBackgroundPage has none, runtime's wakes it.
        window.browser = {
          extension: { getBackgroundPage: () => null },
          runtime: { sendMessage: answer, getBackgroundPage: background },
        };`,
    });
    await page.goto(`${base}/confirm.html?request=r1`);
    await page.waitForSelector("[data-testid=send]");
    return page;
  }

  const sent = (page: Page) =>
    page.evaluate("window.__sent") as Promise<{ type: string; answer?: unknown }[]>;
  /** The window closed after answering `action` to the background. */
  async function answered(page: Page, action: "send" | "cancel"): Promise<void> {
    await page.waitForFunction("window.__closed === true");
    const messages = await sent(page);
    assert.deepEqual(messages[messages.length - 1], {
      type: "sendguard:answer",
      request: "r1",
      answer: { action },
    });
  }

  test("groups recipients, warns, and enables Send only when externals and attachments are ticked", async () => {
    const page = await open("ja");
    assert.match(
      (await page.textContent("[data-testid=group-internal]")) ?? "",
      /社内 \(1\).*hanako@corp\.example/,
    );
    assert.match((await page.textContent("[data-testid=group-semi_internal]")) ?? "", /グループ会社 \(1\)/);
    assert.match(
      (await page.textContent("[data-testid=group-external]")) ?? "",
      /社外 \(2\).*client1\.example.*client2\.example/,
    );
    assert.ok(await page.isVisible("[data-testid=warning-many_external]"));
    assert.deepEqual(await page.locator("[data-testid=attachment-plan]").allTextContents(), [
      "社内: そのまま",
      "グループ会社 (group.example): Web ダウンロードに変換 (受信者はダウンロードページから受け取ります)",
      "社外 (client1.example): Web ダウンロードに変換 (受信者はダウンロードページから受け取ります)",
      "社外 (client2.example): 暗号化 ZIP に変換 (パスワードは別のメールで)",
    ]);
    assert.ok(await page.isDisabled("[data-testid=send]"));
    assert.match(
      (await page.textContent("[data-testid=hint]")) ?? "",
      /チェックが必要な項目が残っています: 3 件/,
    );
    await page.screenshot({ path: `${SHOTS}/thunderbird-confirm-ja.png`, fullPage: true });
    await page.getByLabel(/取引先A/).check();
    await page.getByLabel(/b@client2\.example/).check();
    assert.ok(await page.isDisabled("[data-testid=send]"), "the attachment is not ticked yet");
    await page.getByLabel(/見積書\.pdf/).check();
    assert.ok(await page.isEnabled("[data-testid=send]"));
    assert.match(
      (await page.textContent("[data-testid=hint]")) ?? "",
      /送信してから 5 分以内なら取り消せます/,
    );
    await page.click("[data-testid=send]");
    // "Many external To/Cc" is a warning of severity confirm: Send asks once more.
    assert.match((await page.textContent("[data-testid=again]")) ?? "", /To \/ Cc に社外の宛先が 2 件/);
    await page.click("[data-testid=again-send]");
    await answered(page, "send");
    await page.close();
  });

  test("Convert to Bcc asks the background and shows the converted recipients", async () => {
    const page = await open("en");
    await page.click("[data-testid=convert-bcc]");
    await page.waitForSelector("[data-testid=convert-bcc]", { state: "detached" });
    assert.match((await page.textContent("[data-testid=group-external]")) ?? "", /BCC: .*a@client1\.example/);
    assert.match(
      (await page.locator("[data-testid=attachment-plan]").allTextContents()).join("\n"),
      /^Internal: as they are\n.*\nExternal \(client1\.example\): converted to a web download .*\nExternal \(client2\.example\): sent as an encrypted ZIP/,
    );
    assert.ok((await sent(page)).some((m) => m.type === "sendguard:convertBcc"));
    await page.screenshot({ path: `${SHOTS}/thunderbird-confirm-en-bcc.png`, fullPage: true });
    await page.close();
  });

  test("a background that cannot show the dialog closes the window, which cancels the Send", async () => {
    const page = await browser.newPage();
    await page.addInitScript({
      content: `
        window.close = () => { window.__closed = true; };
        const broken = { sendguardConfirm: { mount: async () => { throw new Error("confirm-ui.js failed"); } } };
        window.browser = {
          extension: { getBackgroundPage: () => broken },
          runtime: { sendMessage: async () => null, getBackgroundPage: async () => broken },
        };`,
    });
    await page.goto(`${base}/confirm.html?request=r1`);
    await page.waitForFunction("window.__closed === true");
    assert.equal(await page.locator("[data-testid=send]").count(), 0);
    await page.close();
  });

  test("Cancel answers cancel and closes the window", async () => {
    const page = await open("en");
    await page.click("[data-testid=cancel]");
    await answered(page, "cancel");
    await page.close();
  });

  test("a warning of severity confirm asks once more after Send; Back returns to the dialog", async () => {
    const flagged: ClientPolicy = {
      ...policy,
      client: { ...policy.client, unsafeWords: [{ word: "極秘", action: "confirm" }] },
    };
    const page = await open(
      "ja",
      { ...draft, recipients: draft.recipients.slice(0, 3), body: "極秘の見積書です。" },
      flagged,
    );
    await page.getByLabel(/取引先A/).check();
    await page.getByLabel(/見積書\.pdf/).check();
    await page.click("[data-testid=send]");
    await page.waitForSelector("[data-testid=again]");
    assert.match((await page.textContent("[data-testid=again]")) ?? "", /本当に送信しますか\?.*「極秘」/);
    await page.screenshot({ path: `${SHOTS}/thunderbird-confirm-again.png`, fullPage: true });
    await page.click("[data-testid=again-back]");
    await page.waitForSelector("[data-testid=again]", { state: "detached" });
    assert.ok(!(await sent(page)).some((m) => m.type === "sendguard:answer"), "Back did not answer");
    await page.click("[data-testid=send]");
    await page.click("[data-testid=again-send]");
    await answered(page, "send");
    await page.close();
  });

  test("a long list of colleagues is folded until asked for; the external ones always show", async () => {
    const colleagues = Array.from({ length: 30 }, (_, i) => ({
      address: `staff${i}@corp.example`,
      field: "cc" as const,
    }));
    const page = await open("en", { ...draft, recipients: [...draft.recipients, ...colleagues] });
    const internal = page.locator("[data-testid=group-internal]");
    assert.match((await internal.textContent()) ?? "", /Internal \(31\).*Show all 31 recipients/);
    assert.doesNotMatch((await internal.textContent()) ?? "", /staff0@/);
    assert.match((await page.textContent("[data-testid=group-external]")) ?? "", /a@client1\.example/);
    await internal.locator("[data-testid=show-all]").click();
    assert.match((await internal.textContent()) ?? "", /CC: staff29@corp\.example/);
    await page.close();
  });

  test("a long list of external recipients shows its first rows at once and all of them right after", async () => {
    const many = Array.from({ length: 80 }, (_, i) => ({
      address: `c${i}@client${i}.example`,
      field: "to" as const,
    }));
    const page = await open("ja", { ...draft, recipients: many });
    await page.waitForFunction("document.querySelectorAll('input[type=checkbox]').length === 81");
    assert.match(
      (await page.textContent("[data-testid=group-external]")) ?? "",
      /社外 \(80\).*c79@client79\.example/,
    );
    const marks = await page.evaluate(
      "['sendguard:confirm-shown', 'sendguard:confirm-complete'].map((n) => performance.getEntriesByName(n).length)",
    );
    assert.deepEqual(marks, [1, 1], "both timing marks are set once");
    await page.close();
  });
});
