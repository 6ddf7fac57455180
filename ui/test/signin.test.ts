import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { requestToken } from "../src/signin.js";

const respond = (status: number, body: unknown) =>
  (async () => new Response(JSON.stringify(body), { status })) as typeof fetch;

describe("requestToken", () => {
  test("posts the e-mail and password to the trimmed gateway URL and answers its token", async () => {
    let sent = "";
    const fetchImpl = (async (url: string | URL | Request, init?: RequestInit) => {
      sent = `${String(url)} ${String(init?.body)}`;
      return new Response(JSON.stringify({ token: "t".repeat(43) }), { status: 201 });
    }) as typeof fetch;
    const r = await requestToken(
      { gatewayUrl: " https://gw.example.co.jp/ ", email: "a@corp.example ", password: "pw" },
      "ja",
      fetchImpl,
    );
    assert.deepEqual(r, { ok: true, gatewayUrl: "https://gw.example.co.jp", token: "t".repeat(43) });
    assert.equal(sent, 'https://gw.example.co.jp/api/v1/tokens {"email":"a@corp.example","password":"pw"}');
  });

  test("a bad URL, an unreachable gateway and a refused password give clear messages", async () => {
    const bad = await requestToken(
      { gatewayUrl: "gw.example", email: "a@b.c", password: "x" },
      "en",
      respond(201, {}),
    );
    assert.deepEqual(bad, { ok: false, message: "Enter the gateway URL as https://…" });
    const down = await requestToken(
      { gatewayUrl: "https://gw.example", email: "a@b.c", password: "x" },
      "ja",
      (async () => {
        throw new TypeError("fetch failed");
      }) as typeof fetch,
    );
    assert.equal(down.ok, false);
    assert.match(!down.ok ? down.message : "", /https:\/\/gw\.example に接続できません/);
    const refused = await requestToken(
      { gatewayUrl: "https://gw.example", email: "a@b.c", password: "x" },
      "ja",
      respond(401, {
        error: { code: "bad_credentials", message: "メールアドレスまたはパスワードが正しくありません。" },
      }),
    );
    assert.deepEqual(refused, { ok: false, message: "メールアドレスまたはパスワードが正しくありません。" });
  });
});
