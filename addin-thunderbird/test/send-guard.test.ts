// The background logic against a typed fake of Thunderbird's API: no Thunderbird needed.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ClientPolicy } from "@sendguard/shared";
import { FALLBACK_CLIENT_POLICY } from "@sendguard/shared";
import type { ComposeDetailsLike } from "../src/browser-api.js";
import { CONFIRMED_HEADER, SendGuard, type ConfirmView } from "../src/send-guard.js";
import { FakeBrowser } from "./fake-browser.js";

const POLICY: ClientPolicy = {
  ...FALLBACK_CLIENT_POLICY,
  domains: { internal: ["corp.example"], semiInternal: [] },
  hold: { internal: 5, semiInternal: 5, external: 5 },
  holdMinutes: 5,
  client: { ...FALLBACK_CLIENT_POLICY.client, skipWhenInternalOnly: true, bccSuggestThreshold: 2 },
};

const gatewayUp = (policy: ClientPolicy = POLICY, seen: string[] = []) =>
  (async (url: string | URL | Request, init?: RequestInit) => {
    seen.push(`${String(url)} ${(init?.headers as Record<string, string>)?.authorization ?? ""}`);
    return new Response(JSON.stringify(policy), { status: 200 });
  }) as typeof fetch;
const gatewayDown = (async () => {
  throw new TypeError("fetch failed");
}) as typeof fetch;

/** A gateway whose answers wait until `release()`. */
function slowGateway() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  const fetchImpl = (async (url: string | URL | Request, init?: RequestInit) => {
    await opened;
    return gatewayUp()(url, init);
  }) as typeof fetch;
  return { fetchImpl, release: () => open() };
}

const details = (change: Partial<ComposeDetailsLike> = {}): ComposeDetailsLike => ({
  from: "Taro <taro@corp.example>",
  to: ["hanako@corp.example"],
  cc: [],
  bcc: [],
  subject: "打ち合わせ",
  plainTextBody: "よろしくお願いします。",
  isPlainText: true,
  ...change,
});

/** Sends, then answers the confirm window once it has been opened. */
async function sendAndAnswer(
  guard: SendGuard,
  fake: FakeBrowser,
  d: ComposeDetailsLike,
  act: (request: string, view: ConfirmView) => Promise<void>,
) {
  const before = fake.windowsOpened.length;
  const result = guard.onBeforeSend({ id: 1 }, d);
  for (let i = 0; i < 200 && fake.windowsOpened.length === before; i++)
    await new Promise((r) => setTimeout(r, 5));
  assert.equal(fake.windowsOpened.length, before + 1, "a confirm window was opened");
  await new Promise((r) => setTimeout(r, 0)); // let the window id be recorded
  const request = new URL(fake.windowsOpened[fake.windowsOpened.length - 1] as string).searchParams.get(
    "request",
  ) as string;
  const view = (await guard.onMessage({ type: "sendguard:get", request })) as ConfirmView;
  await act(request, view);
  return result;
}

describe("SendGuard.onBeforeSend", () => {
  test("internal-only mail goes without a window, stamped with the confirmation header", async () => {
    const fake = new FakeBrowser();
    fake.local.settings = { gatewayUrl: "https://gw.example", token: "tok" };
    const seen: string[] = [];
    const result = await new SendGuard(fake, { fetchImpl: gatewayUp(POLICY, seen) }).onBeforeSend(
      { id: 1 },
      details(),
    );
    assert.equal(fake.windowsOpened.length, 0);
    assert.ok("details" in result);
    assert.match(
      result.details.customHeaders?.find((h) => h.name === CONFIRMED_HEADER)?.value ?? "",
      /^no confirmation needed; /,
    );
    assert.deepEqual(seen, ["https://gw.example/api/v1/policy Bearer tok"]);
    assert.deepEqual(fake.local.policyCache, POLICY, "the policy is cached for later");
  });

  test("external recipients open the confirm window; Send goes ahead once answered", async () => {
    const fake = new FakeBrowser();
    fake.local.settings = { gatewayUrl: "https://gw.example", token: "tok" };
    const guard = new SendGuard(fake, { fetchImpl: gatewayUp() });
    const result = await sendAndAnswer(
      guard,
      fake,
      details({ to: ["Client <client@partner.example>"] }),
      async (request, view) => {
        assert.deepEqual(view.model.mustTick, ["client@partner.example"]);
        assert.equal(view.lang, "ja");
        await guard.onMessage({ type: "sendguard:answer", request, answer: { action: "send" } });
      },
    );
    assert.ok("details" in result);
    assert.match(result.details.customHeaders?.[0]?.value ?? "", /^confirmed; /);
    assert.equal(result.details.to, undefined, "recipients unchanged");
  });

  test("Cancel, or closing the window, cancels the send", async () => {
    const fake = new FakeBrowser();
    const guard = new SendGuard(fake, { fetchImpl: gatewayUp() });
    fake.local.settings = { gatewayUrl: "https://gw.example", token: "tok" };
    const cancelled = await sendAndAnswer(guard, fake, details({ to: ["x@partner.example"] }), (request) =>
      guard
        .onMessage({ type: "sendguard:answer", request, answer: { action: "cancel" } })
        .then(() => undefined),
    );
    assert.deepEqual(cancelled, { cancel: true });
    const closed = await sendAndAnswer(guard, fake, details({ to: ["x@partner.example"] }), async () =>
      guard.onWindowRemoved(42),
    );
    assert.deepEqual(closed, { cancel: true });
  });

  test("convert to Bcc moves external To/Cc to Bcc in the sent details", async () => {
    const fake = new FakeBrowser();
    fake.local.settings = { gatewayUrl: "https://gw.example", token: "tok" };
    const guard = new SendGuard(fake, { fetchImpl: gatewayUp() });
    const d = details({ to: ["a@client1.example", "b@client2.example"], cc: ["hanako@corp.example"] });
    const result = await sendAndAnswer(guard, fake, d, async (request, view) => {
      assert.equal(view.model.suggestBcc, true);
      const converted = (await guard.onMessage({ type: "sendguard:convertBcc", request })) as ConfirmView;
      assert.equal(converted.converted, true);
      assert.equal(converted.model.suggestBcc, false);
      await guard.onMessage({ type: "sendguard:answer", request, answer: { action: "send" } });
    });
    assert.ok("details" in result);
    assert.deepEqual(result.details.bcc, ["a@client1.example", "b@client2.example"]);
    assert.deepEqual(result.details.cc, ["hanako@corp.example"]);
    assert.equal(result.details.to?.length, 1, "the sender goes into the emptied To");
  });

  test("gateway unreachable and nothing cached: fail closed, even internal mail is confirmed", async () => {
    const fake = new FakeBrowser();
    fake.local.settings = { gatewayUrl: "https://gw.example", token: "tok" };
    const guard = new SendGuard(fake, { fetchImpl: gatewayDown });
    const result = await sendAndAnswer(guard, fake, details(), async (request, view) => {
      assert.deepEqual(view.model.mustTick, ["hanako@corp.example"], "no internal domain is known");
      await guard.onMessage({ type: "sendguard:answer", request, answer: { action: "send" } });
    });
    assert.ok("details" in result);
  });

  test("the policy cache is written when the policy changed, not on every Send", async () => {
    const fake = new FakeBrowser();
    fake.local.settings = { gatewayUrl: "https://gw.example", token: "tok" };
    const changed = { ...POLICY, language: "en" as const };
    fake.local.policyCache = changed;
    const writes: string[][] = [];
    const set = fake.storage.local.set;
    fake.storage.local.set = (items) => (writes.push(Object.keys(items)), set(items));
    const guard = new SendGuard(fake, { fetchImpl: gatewayUp(POLICY) });
    await guard.onBeforeSend({ id: 1 }, details());
    await new Promise((r) => setTimeout(r, 0));
    assert.deepEqual(writes, [["policyCache"]], "a changed policy is written");
    assert.deepEqual(fake.local.policyCache, POLICY);
    await guard.onBeforeSend({ id: 1 }, details());
    await new Promise((r) => setTimeout(r, 0));
    assert.deepEqual(writes, [["policyCache"]], "the same policy is not written again");
  });

  test("gateway unreachable: the cached policy applies", async () => {
    const fake = new FakeBrowser();
    fake.local.settings = { gatewayUrl: "https://gw.example", token: "tok" };
    fake.local.policyCache = POLICY;
    const result = await new SendGuard(fake, { fetchImpl: gatewayDown }).onBeforeSend({ id: 1 }, details());
    assert.equal(fake.windowsOpened.length, 0, "internal-only mail is skipped by the cached policy");
    assert.ok("details" in result);
  });

  test("managed settings (policies.json) win over the user's", async () => {
    const fake = new FakeBrowser();
    fake.local.settings = { gatewayUrl: "https://user-typed.example", token: "user" };
    fake.managed = { settings: { gatewayUrl: "https://managed.example/", token: "managed" } };
    const seen: string[] = [];
    await new SendGuard(fake, { fetchImpl: gatewayUp(POLICY, seen) }).onBeforeSend({ id: 1 }, details());
    assert.deepEqual(seen, ["https://managed.example/api/v1/policy Bearer managed"]);
  });

  test("a reply to a new domain and a forgotten attachment are warned about", async () => {
    const fake = new FakeBrowser();
    fake.local.settings = { gatewayUrl: "https://gw.example", token: "tok" };
    const guard = new SendGuard(fake, { fetchImpl: gatewayUp() });
    const d = details({
      type: "reply",
      relatedMessageId: 7,
      to: ["client@partner.example", "other@newco.example"],
      plainTextBody: "資料を添付します。",
    });
    await sendAndAnswer(guard, fake, d, async (request, view) => {
      const codes = view.model.warnings.map((w) => w.code);
      assert.ok(codes.includes("new_domain"), codes.join());
      assert.ok(codes.includes("attachment_forgotten"), codes.join());
      await guard.onMessage({ type: "sendguard:answer", request, answer: { action: "cancel" } });
    });
  });

  test("the window opens on the last known policy while the fresh one loads, and closes if it needs none", async () => {
    const fake = new FakeBrowser();
    fake.local.settings = { gatewayUrl: "https://gw.example", token: "tok" };
    // Cached: corp.example not yet internal, so internal mail would need a confirmation.
    fake.local.policyCache = { ...POLICY, domains: { internal: [], semiInternal: [] } };
    const { fetchImpl: slow, release } = slowGateway();
    const result = new SendGuard(fake, { fetchImpl: slow }).onBeforeSend({ id: 1 }, details());
    for (let i = 0; i < 100 && fake.windowsOpened.length === 0; i++)
      await new Promise((r) => setTimeout(r, 5));
    assert.equal(fake.windowsOpened.length, 1, "opened before the policy came");
    release();
    const r = await result;
    assert.ok("details" in r, "sent without asking: the fresh policy knows corp.example");
    assert.deepEqual(fake.windowsRemoved, [42]);
  });

  test("the window waits for the fresh policy: what it shows comes from the gateway, not the cache", async () => {
    const fake = new FakeBrowser();
    fake.local.settings = { gatewayUrl: "https://gw.example", token: "tok" };
    fake.local.policyCache = { ...POLICY, domains: { internal: [], semiInternal: [] } };
    const { fetchImpl: slow, release } = slowGateway();
    const guard = new SendGuard(fake, { fetchImpl: slow });
    const result = guard.onBeforeSend(
      { id: 1 },
      details({ to: ["hanako@corp.example", "x@partner.example"] }),
    );
    for (let i = 0; i < 100 && fake.windowsOpened.length === 0; i++)
      await new Promise((r) => setTimeout(r, 5));
    const request = new URL(fake.windowsOpened[0]!).searchParams.get("request")!;
    const view = guard.onMessage({ type: "sendguard:get", request }) as Promise<ConfirmView>;
    release();
    assert.deepEqual(
      (await view).model.mustTick,
      ["x@partner.example"],
      "hanako is internal by the fresh policy",
    );
    await guard.onMessage({ type: "sendguard:answer", request, answer: { action: "send" } });
    assert.ok("details" in (await result));
    assert.deepEqual(fake.windowsRemoved, []);
  });
});
