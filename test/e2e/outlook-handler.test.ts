// The Outlook send handler's built bundle (addin-outlook/dist/launchevent.js) against the real
// gateway: the policy comes from GET /api/v1/policy with the signed-in user's token and is cached
// in roamingSettings; with the gateway gone the cache decides, and with no cache it fails closed.
// The bundle runs alone in a vm context (as in classic Outlook's JavaScript-only runtime) with a
// fake Outlook host and the real fetch.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { RUNTIME_GLOBALS, loadBundle } from "../../addin-outlook/test/bundle.js";
import { fakeOffice, type FakeItem } from "../../addin-outlook/test/fake-office.js";
import { TestGateway } from "../helpers/gateway.js";

const USER = "taro@corp.example";
const PW = "outlook-handler-1";

const mail = (to: string): FakeItem => ({
  to: [{ emailAddress: to }],
  subject: "定例",
  body: "よろしくお願いします。",
});

describe("Outlook send handler with the real gateway", () => {
  const gw = new TestGateway();
  let token = "";

  before(async () => {
    gw.addUser(USER, PW);
    await gw.start();
    token = await gw.token(USER, PW);
  });
  after(() => gw.stop());

  /** A new runtime (the bundle loaded afresh) on a host with this roamingSettings content. */
  const runtime = (item: FakeItem, roaming: Record<string, unknown>) => {
    const host = fakeOffice({ item, roaming, user: USER });
    return { host, bundle: loadBundle(host, { ...RUNTIME_GLOBALS, fetch }) };
  };

  test("signed in: the gateway's policy decides (a colleague goes at once) and is cached", async () => {
    const { host, bundle } = runtime(mail("hanako@corp.example"), { gatewayUrl: `${gw.httpUrl}/`, token });
    assert.deepEqual(await bundle.fire("onRecipientsChanged"), {});
    assert.deepEqual(await bundle.fire("onSendGuard"), { allowEvent: true });
    const policy = await gw.api(token, "GET", "/policy");
    assert.deepEqual(host.roaming.policyCache, policy.body, "the policy is in roamingSettings");
    assert.ok(host.calls.includes("roamingSettings.saveAsync"));
    assert.equal(host.calls.filter((c) => c === "roamingSettings.saveAsync").length, 1, "written once");
  });

  test("signed in: an external recipient is blocked with the pane's button", async () => {
    const { bundle } = runtime(mail("sato@client.example"), { gatewayUrl: gw.httpUrl, token });
    const decision = await bundle.fire("onSendGuard");
    assert.equal(decision.allowEvent, false);
    assert.equal(decision.commandId, "SendguardComposePane");
    assert.doesNotMatch(decision.errorMessage ?? "", /ゲートウェイに接続できず/);
  });

  test("a token the gateway refuses, or the gateway stopped: the cached policy; nothing cached: fail closed", async () => {
    const cached = runtime(mail("hanako@corp.example"), { gatewayUrl: gw.httpUrl, token });
    await cached.bundle.fire("onSendGuard");
    const policyCache = cached.host.roaming.policyCache;
    assert.ok(policyCache);

    const refused = runtime(mail("hanako@corp.example"), {
      gatewayUrl: gw.httpUrl,
      token: "wrong",
      policyCache,
    });
    assert.deepEqual(await refused.bundle.fire("onSendGuard"), { allowEvent: true });

    await gw.stop();
    const down = { gatewayUrl: gw.httpUrl, token };
    assert.deepEqual(
      await runtime(mail("hanako@corp.example"), { ...down, policyCache }).bundle.fire("onSendGuard"),
      { allowEvent: true },
    );
    const closed = await runtime(mail("hanako@corp.example"), down).bundle.fire("onSendGuard");
    assert.equal(closed.allowEvent, false, "a colleague needs confirming when nothing is known");
    assert.match(closed.errorMessage ?? "", /ゲートウェイに接続できず/);
  });
});
