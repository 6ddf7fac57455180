// api mode and the "held until … — Undo" notice, against the typed fake of Thunderbird and a fake
// gateway (a fetch that answers like /api/v1 does).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FALLBACK_CLIENT_POLICY, type ClientPolicy } from "@sendguard/shared";
import type { ComposeDetailsLike } from "../src/browser-api.js";
import { submissionFromDraft } from "../src/mime-draft.js";
import { CONFIRMED_HEADER, SendGuard } from "../src/send-guard.js";
import { FakeBrowser } from "./fake-browser.js";

const POLICY: ClientPolicy = {
  ...FALLBACK_CLIENT_POLICY,
  domains: { internal: ["corp.example"], semiInternal: [] },
  client: { ...FALLBACK_CLIENT_POLICY.client, skipWhenInternalOnly: true },
};
const RELEASE_AT = "2026-11-27T01:05:00.000Z";

const DRAFT = [
  "From - Fri Nov 27 10:00:00 2026",
  "X-Mozilla-Status: 0001",
  "X-Mozilla-Draft-Info: internal/draft; vcard=0; receipt=0; DSN=0; uuencode=0;",
  " attachmentreminder=0; deliveryformat=1",
  "X-Identity-Key: id1",
  "Fcc: mailbox://nobody@Local%20Folders/Sent",
  "Message-ID: <d1@corp.example>",
  "From: Taro <taro@corp.example>",
  "To: hanako@corp.example",
  "Bcc: secret@corp.example",
  `${CONFIRMED_HEADER}: no confirmation needed; 2026-11-27T01:00:00Z`,
  "Subject: =?UTF-8?B?5omT44Gh5ZCI44KP44Gb?=",
  "",
  "本文 café\r\n",
].join("\r\n");

interface Call {
  method: string;
  path: string;
  body: string;
}

/** A gateway: the policy, POST /messages answering `submit`, by-message-id answering `lookup`. */
function gateway(options: { submit?: [number, unknown]; lookup?: [number, unknown] } = {}) {
  const calls: Call[] = [];
  const fetchImpl = (async (url: string | URL | Request, init?: RequestInit) => {
    const path = new URL(String(url)).pathname.replace("/api/v1", "");
    const body = init?.body instanceof Blob ? await init.body.text() : "";
    calls.push({ method: init?.method ?? "GET", path, body });
    const [status, json] =
      path === "/policy"
        ? [200, POLICY]
        : path === "/messages"
          ? (options.submit ?? [202, { id: "m1", status: "held", releaseAt: RELEASE_AT, groups: [] }])
          : (options.lookup ?? [404, { error: { code: "not_found", message: "no such message" } }]);
    return new Response(JSON.stringify(json), { status });
  }) as typeof fetch;
  return { calls, fetchImpl };
}

const details = (change: Partial<ComposeDetailsLike> = {}): ComposeDetailsLike => ({
  from: "Taro <taro@corp.example>",
  identityId: "id1",
  to: ["hanako@corp.example"],
  subject: "打ち合わせ",
  plainTextBody: "よろしくお願いします。",
  isPlainText: true,
  ...change,
});

function apiMode(fake = new FakeBrowser()) {
  fake.local.settings = { gatewayUrl: "https://gw.example", token: "tok", handoff: "api" };
  fake.draftMime = DRAFT;
  return fake;
}

async function settle(guard: SendGuard) {
  await Promise.all([...guard.handoffs]);
}

describe("submissionFromDraft", () => {
  const out = new TextDecoder().decode(submissionFromDraft(new TextEncoder().encode(DRAFT)));

  test("drops Thunderbird's own headers (folded ones whole) and the mbox line", () => {
    assert.doesNotMatch(out, /X-Mozilla|X-Identity-Key|Fcc:|attachmentreminder|^From - /im);
  });

  test("keeps every other header, Bcc included, and the body byte for byte", () => {
    assert.equal(
      out,
      [
        "Message-ID: <d1@corp.example>",
        "From: Taro <taro@corp.example>",
        "To: hanako@corp.example",
        "Bcc: secret@corp.example",
        `${CONFIRMED_HEADER}: no confirmation needed; 2026-11-27T01:00:00Z`,
        "Subject: =?UTF-8?B?5omT44Gh5ZCI44KP44Gb?=",
        "",
        "本文 café\r\n",
      ].join("\r\n"),
    );
  });

  test("8-bit header bytes survive, LF-only drafts work, a draft without a body separator is refused", () => {
    const raw = Uint8Array.from([
      ...new TextEncoder().encode("X-Account-Key: a\nSubject: "),
      0xe9,
      0x0a,
      0x0a,
      0x41,
    ]);
    assert.deepEqual(
      [...submissionFromDraft(raw)],
      [...new TextEncoder().encode("Subject: "), 0xe9, 0x0a, 0x0a, 0x41],
    );
    assert.throws(
      () => submissionFromDraft(new TextEncoder().encode("Subject: x")),
      /no header\/body separator/,
    );
  });
});

describe("api mode", () => {
  test("cancels Thunderbird's send, posts the draft, files it in Sent, closes the window, deletes the draft", async () => {
    const fake = apiMode();
    fake.busySaves = 2; // Thunderbird is still winding down the cancelled send
    const gw = gateway();
    const guard = new SendGuard(fake, { fetchImpl: gw.fetchImpl, handoff: { retryMs: 5 } });

    assert.deepEqual(await guard.onBeforeSend({ id: 9 }, details()), { cancel: true });
    await settle(guard);

    const posted = gw.calls.filter((c) => c.path === "/messages");
    assert.equal(posted.length, 1);
    assert.match(posted[0]!.body, /^Message-ID: <d1@corp\.example>\r\n/);
    assert.doesNotMatch(posted[0]!.body, /X-Mozilla|Fcc:/);
    assert.match(
      fake.composeChanges[0]?.customHeaders?.find((h) => h.name === CONFIRMED_HEADER)?.value ?? "",
      /^no confirmation needed; /,
      "the confirmation header is put into the draft",
    );
    assert.deepEqual(fake.inFolder("account1://Sent"), [posted[0]!.body], "a copy in a new Sent folder");
    assert.deepEqual(fake.inFolder("account1://Drafts"), [], "the draft is gone");
    assert.deepEqual(fake.closedTabs, [9]);
    assert.equal(fake.notices.length, 1);
    assert.equal(fake.notices[0]!.title, "送信を保留しました");
    const time = new Date(RELEASE_AT).toLocaleTimeString("ja-JP", { hour: "2-digit", minute: "2-digit" });
    assert.equal(
      fake.notices[0]!.message,
      `「打ち合わせ」は ${time} に送信されます。取り消すにはクリックしてください。`,
    );
  });

  test("an existing Sent folder is used", async () => {
    const fake = apiMode();
    fake.folderList.push({
      id: "account1://Sent Mail",
      accountId: "account1",
      name: "Sent Mail",
      specialUse: ["sent"],
    });
    const guard = new SendGuard(fake, { fetchImpl: gateway().fetchImpl });
    await guard.onBeforeSend({ id: 9 }, details());
    await settle(guard);
    assert.equal(fake.inFolder("account1://Sent Mail").length, 1);
    assert.equal(fake.folderList.length, 3, "no folder created");
  });

  test("a rule refuses it: the compose window stays open, no Sent copy, the draft is deleted, the user is told why", async () => {
    const fake = apiMode();
    const gw = gateway({
      submit: [422, { error: { code: "rejected", rule: "no-pii", message: "個人番号が含まれています。" } }],
    });
    const guard = new SendGuard(fake, { fetchImpl: gw.fetchImpl });
    assert.deepEqual(await guard.onBeforeSend({ id: 9 }, details()), { cancel: true });
    await settle(guard);
    assert.deepEqual(fake.closedTabs, []);
    assert.deepEqual(fake.inFolder("account1://Sent"), []);
    assert.equal(fake.stored.size, 0, "the draft is deleted");
    assert.deepEqual(
      fake.notices.map((n) => [n.title, n.message]),
      [["送信できませんでした", "個人番号が含まれています。"]],
    );
  });

  test("the gateway cannot be reached: nothing sent, the window stays, the user is told", async () => {
    const fake = apiMode();
    const down = gateway();
    const fetchImpl = (async (url: string | URL | Request, init?: RequestInit) => {
      if (String(url).endsWith("/messages")) throw new TypeError("fetch failed");
      return down.fetchImpl(url, init);
    }) as typeof fetch;
    const guard = new SendGuard(fake, { fetchImpl });
    await guard.onBeforeSend({ id: 9 }, details());
    await settle(guard);
    assert.deepEqual(fake.closedTabs, []);
    assert.equal(fake.stored.size, 0);
    assert.equal(fake.notices[0]?.title, "ゲートウェイに渡せませんでした");
    assert.match(fake.notices[0]?.message ?? "", /https:\/\/gw\.example: TypeError: fetch failed/);
  });

  test("not signed in: the send is cancelled without a draft, and the user is told to sign in", async () => {
    const fake = new FakeBrowser();
    fake.managed = { settings: { handoff: "api" } };
    const guard = new SendGuard(fake, { fetchImpl: gateway().fetchImpl });
    const result = guard.onBeforeSend({ id: 9 }, details());
    // Fail closed: without a policy even internal mail is confirmed.
    for (let i = 0; i < 100 && fake.windowsOpened.length === 0; i++)
      await new Promise((r) => setTimeout(r, 5));
    const request = new URL(fake.windowsOpened[0]!).searchParams.get("request")!;
    await guard.onMessage({ type: "sendguard:answer", request, answer: { action: "send" } });
    assert.deepEqual(await result, { cancel: true });
    assert.equal(fake.stored.size, 0);
    assert.match(fake.notices[0]?.message ?? "", /サインインしていません/);
  });
});

describe("relay mode: held until … — Undo", () => {
  const view = {
    id: "m7",
    messageId: "abc@corp.example",
    subject: "Quote",
    status: "held",
    releaseAt: RELEASE_AT,
  };

  test("after Thunderbird's send, the gateway's record gives the notice", async () => {
    const fake = new FakeBrowser();
    fake.i18n.getUILanguage = () => "en-US";
    fake.local.settings = { gatewayUrl: "https://gw.example", token: "tok" };
    const gw = gateway({ lookup: [200, view] });
    await new SendGuard(fake, { fetchImpl: gw.fetchImpl }).onAfterSend({
      mode: "sendNow",
      headerMessageId: "abc@corp.example",
    });
    assert.deepEqual(
      gw.calls.map((c) => c.path),
      ["/messages/by-message-id/abc%40corp.example"],
    );
    const time = new Date(RELEASE_AT).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
    assert.deepEqual(fake.notices, [
      {
        id: "sendguard-held-m7",
        title: "Held before sending",
        message: `"Quote" will be sent at ${time}. Click to undo.`,
      },
    ]);
  });

  test("a message already sent, unknown to the gateway, a failed send or api mode: no notice", async () => {
    const fake = new FakeBrowser();
    fake.local.settings = { gatewayUrl: "https://gw.example", token: "tok" };
    const options = { lookupAttempts: 2, lookupIntervalMs: 1 };
    const sent = gateway({ lookup: [200, { ...view, status: "sent" }] });
    await new SendGuard(fake, { ...options, fetchImpl: sent.fetchImpl }).onAfterSend({
      mode: "sendNow",
      headerMessageId: "a@b",
    });
    const unknown = gateway();
    await new SendGuard(fake, { ...options, fetchImpl: unknown.fetchImpl }).onAfterSend({
      mode: "sendNow",
      headerMessageId: "a@b",
    });
    assert.equal(unknown.calls.length, 2, "looked up twice");
    const failed = gateway({ lookup: [200, view] });
    await new SendGuard(fake, { fetchImpl: failed.fetchImpl }).onAfterSend({
      mode: "sendNow",
      error: "Send aborted",
    });
    assert.equal(failed.calls.length, 0);
    fake.local.settings = { gatewayUrl: "https://gw.example", token: "tok", handoff: "api" };
    await new SendGuard(fake, { fetchImpl: failed.fetchImpl }).onAfterSend({
      mode: "sendNow",
      headerMessageId: "a@b",
    });
    assert.equal(failed.calls.length, 0);
    assert.deepEqual(fake.notices, []);
  });

  test("clicking the notice opens the held-messages list in one window, brought forward when clicked again", async () => {
    const fake = new FakeBrowser();
    const guard = new SendGuard(fake);
    await guard.onNotificationClicked("other-extension-1");
    assert.deepEqual(fake.windowsOpened, []);
    await guard.onNotificationClicked("sendguard-held-m7");
    await guard.onNotificationClicked("sendguard-held-m8");
    assert.deepEqual(fake.windowsOpened, ["moz-extension://x/held.html"]);
    assert.deepEqual(fake.windowsFocused, [42]);
    // Thunderbird suspended the background meanwhile: the new one still finds the window.
    await new SendGuard(fake).onNotificationClicked("sendguard-held-m9");
    assert.deepEqual(fake.windowsOpened, ["moz-extension://x/held.html"]);
    assert.deepEqual(fake.windowsFocused, [42, 42]);
    fake.windowsRemoved.push(42); // the user closed it
    await guard.onNotificationClicked("sendguard-held-m10");
    assert.equal(fake.windowsOpened.length, 2);
  });
});
