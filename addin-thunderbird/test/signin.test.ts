import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { BrowserApi } from "../src/browser-api.js";
import { managedKeys, signIn } from "../src/options/signin.js";
import { FakeBrowser } from "./fake-browser.js";

function fakeApi(
  local: Record<string, unknown> = {},
  managed: Record<string, unknown> | null = null,
): BrowserApi {
  const fake = new FakeBrowser();
  fake.local = local;
  fake.managed = managed;
  return fake;
}

const respond = (status: number, body: unknown) =>
  (async () => new Response(JSON.stringify(body), { status })) as typeof fetch;

describe("signIn", () => {
  test("stores the gateway URL and the token, never the password, and keeps other settings", async () => {
    const local: Record<string, unknown> = { settings: { mode: "relay" } };
    let sent = "";
    const fetchImpl = (async (url: string | URL | Request, init?: RequestInit) => {
      sent = `${String(url)} ${String(init?.body)}`;
      return new Response(JSON.stringify({ token: "t".repeat(43) }), { status: 201 });
    }) as typeof fetch;
    const r = await signIn(
      fakeApi(local),
      { gatewayUrl: " https://gw.example.co.jp/ ", email: "a@corp.example ", password: "pw" },
      "ja",
      fetchImpl,
    );
    assert.deepEqual(r, {
      ok: true,
      settings: { gatewayUrl: "https://gw.example.co.jp", token: "t".repeat(43), handoff: "relay" },
    });
    assert.equal(sent, 'https://gw.example.co.jp/api/v1/tokens {"email":"a@corp.example","password":"pw"}');
    assert.deepEqual(local.settings, {
      mode: "relay",
      gatewayUrl: "https://gw.example.co.jp",
      token: "t".repeat(43),
    });
    assert.ok(!JSON.stringify(local).includes('"pw"'));
  });

  test("a refused sign-in stores nothing", async () => {
    const local: Record<string, unknown> = {};
    const refused = await signIn(
      fakeApi(local),
      { gatewayUrl: "https://gw.example", email: "a@b.c", password: "x" },
      "en",
      respond(401, { error: { code: "bad_credentials", message: "Wrong e-mail address or password." } }),
    );
    assert.deepEqual(refused, { ok: false, message: "Wrong e-mail address or password." });
    assert.deepEqual(local, {});
  });

  test("managedKeys lists what policies.json sets, and nothing without a policy", async () => {
    assert.deepEqual(await managedKeys(fakeApi({}, { settings: { gatewayUrl: "https://x", token: "" } })), [
      "gatewayUrl",
    ]);
    assert.deepEqual(await managedKeys(fakeApi()), []);
  });
});
