// The Outlook task panes' settings (addin-outlook/src/pane/settings.ts) against the real gateway:
// the gateway that served the pages until a sign-in, the sign-in's token and gateway kept in
// roamingSettings (where the send handler reads them), a refused password and an unreachable
// gateway said in words, and the admin's hand-off from GET /api/v1/policy.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ClientPolicy } from "@sendguard/shared";
import { fakeOffice } from "../../addin-outlook/test/fake-office.js";
import {
  handoffOf,
  readSettings,
  servingGateway,
  signIn,
  signOut,
} from "../../addin-outlook/src/pane/settings.js";
import { TestGateway } from "../helpers/gateway.js";

const USER = "taro@corp.example";
const PW = "pane-settings-1";

/** A fresh mailbox's roamingSettings, as the Office global hostCall needs. */
function mailbox(roaming: Record<string, unknown> = {}) {
  const host = fakeOffice({ item: {}, roaming });
  (globalThis as { Office?: unknown }).Office = host.office;
  return { host, roaming: host.office.context.roamingSettings as unknown as Office.RoamingSettings };
}

describe("Outlook pane settings", () => {
  const gw = new TestGateway({ config: { outlook: { handoff: "api" } } });

  before(async () => {
    gw.addUser(USER, PW);
    await gw.start();
  });
  after(() => gw.stop());

  test("before a sign-in: the gateway the pages came from, under any path prefix", () => {
    assert.equal(servingGateway("https://gw.example/addin/outlook/taskpane.html?x=1"), "https://gw.example");
    assert.equal(
      servingGateway("https://example.jp/mail/addin/outlook/read.html"),
      "https://example.jp/mail",
    );
    assert.equal(servingGateway("http://127.0.0.1:9/taskpane.html"), "", "not served by a gateway");
    const { roaming } = mailbox();
    assert.deepEqual(readSettings(roaming, "https://gw.example/addin/outlook/taskpane.html"), {
      gatewayUrl: "https://gw.example",
      token: "",
    });
  });

  test("sign-in keeps the token and its gateway in roamingSettings; the handoff comes from the policy", async () => {
    const { host, roaming } = mailbox();
    const result = await signIn(roaming, { gatewayUrl: `${gw.httpUrl}/`, email: USER, password: PW }, "ja");
    assert.ok(result.ok);
    assert.equal(host.roaming.gatewayUrl, gw.httpUrl);
    assert.equal(typeof host.roaming.token, "string");
    assert.ok(host.calls.includes("roamingSettings.saveAsync"));
    assert.deepEqual(readSettings(roaming, "https://elsewhere.example/addin/outlook/taskpane.html"), {
      gatewayUrl: gw.httpUrl,
      token: host.roaming.token,
    });
    const policy = (await gw.api(String(host.roaming.token), "GET", "/policy")).body as ClientPolicy;
    assert.equal(handoffOf(policy), "api");
    assert.equal(handoffOf({ ...policy, outlook: undefined }), "relay", "older gateways: relay");

    await signOut(roaming);
    assert.equal(host.roaming.token, undefined);
    assert.equal(readSettings(roaming, `${gw.httpUrl}/addin/outlook/taskpane.html`).token, "");
  });

  test("a wrong password, a bad URL and a gateway that is not there: nothing stored, and why", async () => {
    const { host, roaming } = mailbox();
    const wrong = await signIn(roaming, { gatewayUrl: gw.httpUrl, email: USER, password: "nope" }, "en");
    assert.equal(wrong.ok, false);
    assert.match(!wrong.ok ? wrong.message : "", /\S/, "the gateway's reason");
    const bad = await signIn(roaming, { gatewayUrl: "gw.example", email: USER, password: PW }, "ja");
    assert.deepEqual(bad, { ok: false, message: "ゲートウェイの URL は https://… の形で入力してください。" });
    const gone = await signIn(roaming, { gatewayUrl: "http://127.0.0.1:9", email: USER, password: PW }, "en");
    assert.deepEqual(gone, {
      ok: false,
      message: "Cannot reach http://127.0.0.1:9. Check the URL and the network.",
    });
    assert.deepEqual(host.roaming, {});
  });
});
