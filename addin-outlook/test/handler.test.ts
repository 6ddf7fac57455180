// The send handler's decisions against a fake Outlook host (office-addin-mock): allow at once,
// block and open the pane, fail closed, the pane's confirmation marker, distribution lists,
// attachments, meeting invitations, and a host that fails or does not answer.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FALLBACK_CLIENT_POLICY, type ClientPolicy } from "@sendguard/shared";
import { CONFIRMED_KEY } from "../src/handler/commands.js";
import { MAX_MESSAGE } from "../src/handler/decision.js";
import { confirmationDigest } from "../src/handler/marker.js";
import { createHandlers, type HandlerOptions } from "../src/handler/on-send.js";
import { fakeEvent, fakeOffice, type FakeHostOptions, type FakeItem } from "./fake-office.js";

const POLICY: ClientPolicy = {
  ...FALLBACK_CLIENT_POLICY,
  domains: { internal: ["corp.example"], semiInternal: ["group.example"] },
  client: { ...FALLBACK_CLIENT_POLICY.client, skipWhenInternalOnly: true },
};

const colleague = { emailAddress: "hanako@corp.example", displayName: "Hanako" };
const client = { emailAddress: "sato@client.example", displayName: "Sato", recipientType: "externalUser" };

const message = (change: Partial<FakeItem> = {}): FakeItem => ({
  to: [colleague],
  subject: "打ち合わせ",
  body: "よろしくお願いします。",
  ...change,
});

/** Runs Send once on a fresh host (a cached policy unless `roaming` says otherwise). */
async function send(options: Partial<FakeHostOptions> & { item: FakeItem }, handler: HandlerOptions = {}) {
  const host = fakeOffice({ roaming: { policyCache: POLICY }, ...options });
  (globalThis as { Office?: unknown }).Office = host.office;
  const { event, completed } = fakeEvent();
  await createHandlers(handler).onSendGuard(event);
  return { decision: await completed, host };
}

describe("Send: the decision", () => {
  test("internal recipients only: allowed at once, with nothing to show", async () => {
    const { decision } = await send({ item: message() });
    assert.deepEqual(decision, { allowEvent: true });
  });

  test("an external recipient: blocked, the pane's button, a short message naming the domain (ja)", async () => {
    const { decision } = await send({ item: message({ to: [colleague, client] }) });
    assert.equal(decision.allowEvent, false);
    assert.equal(decision.commandId, "SendguardComposePane");
    assert.equal(decision.cancelLabel, "確認する");
    assert.equal(
      decision.sendModeOverride,
      undefined,
      "no Send Anyway around a confirmation the policy asks for",
    );
    assert.match(decision.errorMessage ?? "", /^Sendguard: 送信する前に確認が必要です。/);
    assert.match(decision.errorMessage ?? "", /社外の宛先 1 件: client\.example/);
    assert.match(decision.errorMessage ?? "", /\[確認する\] を押すと/);
  });

  test("in English when Office's display language is English", async () => {
    const { decision } = await send({ item: message({ to: [client] }), displayLanguage: "en-US" });
    assert.match(decision.errorMessage ?? "", /^Sendguard: this message needs checking/);
    assert.match(decision.errorMessage ?? "", /External recipients: 1 \(client\.example\)/);
    assert.equal(decision.cancelLabel, "Review");
  });

  test("a policy that confirms internal mail too: blocked, and the message counts the recipients", async () => {
    const always = { ...POLICY, client: { ...POLICY.client, skipWhenInternalOnly: false } };
    const { decision } = await send({ item: message(), roaming: { policyCache: always } });
    assert.equal(decision.allowEvent, false);
    assert.match(decision.errorMessage ?? "", /宛先 1 件: corp\.example/);
  });

  test("a client before Mailbox 1.14: no button, the message says where the pane is", async () => {
    const { decision } = await send({ item: message({ to: [client] }), mailboxMinor: 13 });
    assert.equal(decision.allowEvent, false);
    assert.equal(decision.commandId, undefined);
    assert.equal(decision.cancelLabel, undefined);
    assert.match(decision.errorMessage ?? "", /リボンの \[Sendguard\] から確認画面を開き/);
  });

  test("200 recipients in 50 domains and many warnings: still at most 500 characters, the way to the pane kept", async () => {
    const to = Array.from({ length: 200 }, (_, i) => ({ emailAddress: `p${i}@client${i % 50}.example` }));
    const attachments = Array.from({ length: 10 }, (_, i) => ({ name: `見積書-${i}.exe`, size: 20_000_000 }));
    const { decision } = await send({ item: message({ to, attachments }) });
    const text = decision.errorMessage ?? "";
    assert.ok(text.length <= MAX_MESSAGE, `${text.length} characters`);
    assert.match(text, /組織のポリシーにより/, "the block-level reason comes first");
    assert.match(text, /\[確認する\] を押すと/);
  });

  test("the host is asked a fixed number of times, whatever the number of recipients", async () => {
    const one = await send({ item: message({ to: [client] }) });
    const to = Array.from({ length: 200 }, (_, i) => ({ emailAddress: `p${i}@client${i % 50}.example` }));
    const many = await send({ item: message({ to, attachments: [{ name: "a.pdf", size: 1 }] }) });
    assert.deepEqual(many.host.calls.sort(), one.host.calls.sort());
    assert.ok(one.host.calls.length <= 7, one.host.calls.join(", "));
  });
});

describe("Send: fail closed", () => {
  test("not signed in and nothing cached: a colleague needs confirming too, and the message says why", async () => {
    const { decision } = await send({ item: message(), roaming: {} });
    assert.equal(decision.allowEvent, false);
    assert.match(decision.errorMessage ?? "", /ゲートウェイに接続できず/);
    assert.match(decision.errorMessage ?? "", /社外の宛先 1 件: corp\.example/);
  });

  test("a cache edited by hand counts as none", async () => {
    const { decision } = await send({
      item: message(),
      roaming: { policyCache: { domains: "corp.example" } },
    });
    assert.equal(decision.allowEvent, false);
  });

  test("signed in but the gateway unreachable: the cached policy decides", async () => {
    const roaming = { gatewayUrl: "http://127.0.0.1:9", token: "t", policyCache: POLICY };
    const { decision } = await send({ item: message(), roaming });
    assert.deepEqual(decision, { allowEvent: true });
  });
});

describe("Send: the task pane's confirmation marker", () => {
  const item = () =>
    message({ to: [client], cc: [colleague], attachments: [{ name: "見積書.pdf", size: 120_000 }] });
  const digest = confirmationDigest({
    subject: "打ち合わせ",
    recipients: [
      { address: "hanako@corp.example", field: "cc" },
      { address: "Sato@Client.example", field: "to" },
    ],
    attachments: [{ name: "見積書.pdf", size: 120_000 }],
  });

  test("a marker for exactly this item lets it go", async () => {
    const { decision } = await send({ item: { ...item(), sessionData: { [CONFIRMED_KEY]: digest } } });
    assert.deepEqual(decision, { allowEvent: true });
  });

  test("an edit after confirming asks again: a recipient, a field, an attachment or the subject", async () => {
    const edits: Partial<FakeItem>[] = [
      { bcc: [{ emailAddress: "new@other.example" }] },
      { to: [], cc: [colleague, client] },
      { attachments: [{ name: "見積書.pdf", size: 120_001 }] },
      { subject: "打ち合わせ (改)" },
    ];
    for (const edit of edits) {
      const { decision } = await send({
        item: { ...item(), ...edit, sessionData: { [CONFIRMED_KEY]: digest } },
      });
      assert.equal(decision.allowEvent, false, JSON.stringify(edit));
    }
  });

  test("a marker never lets through what the policy blocks", async () => {
    const attachments = [{ name: "tool.exe", size: 10 }];
    const marker = confirmationDigest({
      subject: "打ち合わせ",
      recipients: [{ address: "hanako@corp.example", field: "to" }],
      attachments,
    });
    const { decision } = await send({
      item: message({ attachments, sessionData: { [CONFIRMED_KEY]: marker } }),
    });
    assert.equal(decision.allowEvent, false);
    assert.match(decision.errorMessage ?? "", /tool\.exe/);
  });
});

describe("Send: recipients and attachments as Outlook gives them", () => {
  test("a distribution list at an internal address counts as external and is named", async () => {
    const list = {
      emailAddress: "sales@corp.example",
      displayName: "営業部",
      recipientType: "distributionList",
    };
    const { decision } = await send({ item: message({ to: [colleague], cc: [list] }) });
    assert.equal(decision.allowEvent, false);
    assert.match(decision.errorMessage ?? "", /営業部 は配布リストです/);
  });

  test("a contact group without an address is still named", async () => {
    const group = { emailAddress: "", displayName: "プロジェクト関係者", recipientType: "distributionList" };
    const { decision } = await send({ item: message({ to: [colleague, group] }) });
    assert.match(decision.errorMessage ?? "", /プロジェクト関係者 は配布リストです/);
  });

  test("an inline image is no attachment: '添付' in the body with only a pasted image asks", async () => {
    const body = "資料を添付します。";
    const inline = { name: "image001.png", size: 5000, isInline: true };
    const { decision } = await send({ item: message({ body, attachments: [inline] }) });
    assert.equal(decision.allowEvent, false);
    assert.match(decision.errorMessage ?? "", /ファイルが添付されていません/);
    assert.doesNotMatch(decision.errorMessage ?? "", /添付ファイル \d+ 件/);
    const withFile = await send({
      item: message({ body, attachments: [inline, { name: "資料.pdf", size: 1 }] }),
    });
    assert.deepEqual(withFile.decision, { allowEvent: true });
  });

  test("an attached message (item attachment) counts as an attachment", async () => {
    const forwarded = { name: "RE: 見積もり", size: 48_000, attachmentType: "item" as const };
    const { decision } = await send({
      item: message({ to: [client], body: "添付の通りです。", attachments: [forwarded] }),
    });
    assert.match(decision.errorMessage ?? "", /添付ファイル 1 件/);
    assert.doesNotMatch(decision.errorMessage ?? "", /ファイルが添付されていません/);
  });

  test("a meeting invitation: required and optional attendees are checked, with the appointment pane", async () => {
    const meeting = (optional: (typeof client)[]) => ({
      itemType: "appointment" as const,
      requiredAttendees: [colleague],
      optionalAttendees: optional,
      subject: "定例会議",
      body: "",
    });
    const internal = await send({ item: meeting([]) });
    assert.deepEqual(internal.decision, { allowEvent: true });
    assert.ok(!internal.host.calls.some((c) => /^(to|cc|bcc)\./.test(c)), internal.host.calls.join(", "));
    const { decision } = await send({ item: meeting([client]) });
    assert.equal(decision.allowEvent, false);
    assert.equal(decision.commandId, "SendguardAppointmentPane");
    assert.match(decision.errorMessage ?? "", /client\.example/);
    const many = Array.from({ length: 12 }, (_, i) => ({
      ...client,
      emailAddress: `guest${i}@client.example`,
    }));
    const crowded = await send({ item: meeting(many) });
    assert.equal(crowded.decision.allowEvent, false);
    assert.doesNotMatch(crowded.decision.errorMessage ?? "", /Bcc/, "a meeting has no Bcc to advise");
  });
});

describe("Send: never left hanging", () => {
  test("a host call that throws or fails ends in a decision that says what went wrong", async () => {
    for (const fault of ["throw", "error"] as const) {
      const { decision } = await send({ item: message(), faults: { getAttachmentsAsync: fault } });
      assert.equal(decision.allowEvent, false);
      assert.match(
        decision.errorMessage ?? "",
        /Sendguard はこのメールを確認できませんでした \(getAttachmentsAsync/,
      );
      assert.equal(decision.commandId, "SendguardComposePane");
    }
  });

  test("a host that never answers: a decision when the time budget is up", async () => {
    const { decision } = await send(
      { item: message(), faults: { "body.getAsync": "hang" } },
      { budgetMs: 50 },
    );
    assert.equal(decision.allowEvent, false);
    assert.match(
      decision.errorMessage ?? "",
      /Outlook から 0\.05 秒以内にメールの内容を受け取れませんでした/,
    );
  });

  test("no item at all (an odd client state): still a decision", async () => {
    const host = fakeOffice({ item: message() });
    host.office.context.mailbox.item = undefined;
    (globalThis as { Office?: unknown }).Office = host.office;
    const { event, completed } = fakeEvent();
    await createHandlers().onSendGuard(event);
    const decision = await completed;
    assert.equal(decision.allowEvent, false);
    assert.match(decision.errorMessage ?? "", /確認できませんでした/);
  });
});

describe("recipients or attachments changed", () => {
  test("the prepare handlers complete their event, signed in or not", async () => {
    const host = fakeOffice({ item: message(), roaming: { gatewayUrl: "http://127.0.0.1:9", token: "t" } });
    (globalThis as { Office?: unknown }).Office = host.office;
    const handlers = createHandlers();
    for (const prepare of [handlers.onRecipientsChanged, handlers.onAttachmentsChanged]) {
      const { event, completed } = fakeEvent();
      await prepare(event);
      assert.deepEqual(await completed, {});
    }
  });
});
