// The HTTP API with real HTTP requests: submission (raw and JSON), sign-in, CSRF, hostile input.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ClientPolicy } from "@sendguard/shared";
import { TestGateway, waitFor } from "../helpers/gateway.js";
import { bodyText, uniqueId } from "../helpers/fixtures.js";
import { SmtpSink } from "../helpers/sink.js";

const PW = "correct-horse-1";
const ALICE = "alice@corp.example";

describe("HTTP API", () => {
  const sink = new SmtpSink();
  let gw: TestGateway;
  let token: string;
  let admin: string;

  before(async () => {
    await sink.start();
    gw = new TestGateway({
      relayPort: sink.port,
      config: {
        organization: { holdMinutes: 0 },
        smtp: { maxMessageBytes: 100_000, authFailures: { perUser: 3, perIp: 100, windowSeconds: 60 } },
      },
    });
    gw.addUser(ALICE, PW, "--alias", "sales@corp.example");
    gw.addUser("jp@corp.example", PW, "--language", "ja");
    gw.addUser("held@corp.example", PW, "--hold-minutes", "60");
    gw.addUser("victim@corp.example", PW);
    gw.addUser("admin@corp.example", PW, "--role", "admin");
    await gw.start();
    token = await gw.token(ALICE, PW);
    admin = await gw.token("admin@corp.example", PW);
  });
  after(async () => {
    await gw.stop();
    await sink.stop();
  });

  const post = (
    path: string,
    body: string,
    type: string,
    auth: string | null = token,
    extra: Record<string, string> = {},
  ) =>
    fetch(`${gw.httpUrl}/api/v1${path}`, {
      method: "POST",
      headers: { "content-type": type, ...(auth ? { authorization: `Bearer ${auth}` } : {}), ...extra },
      body,
    });

  test("POST /messages with message/rfc822 (LF line endings repaired) → 202 and relayed with CRLF", async () => {
    const messageId = uniqueId("raw");
    const raw = `From: ${ALICE}\nTo: a@partner.example\nCc: b@partner.example\nBcc: c@partner.example\nSubject: raw upload\nMessage-ID: <${messageId}>\n\nline 1\nline 2\n`;
    const res = await post("/messages", raw, "message/rfc822");
    assert.equal(res.status, 202);
    const body = (await res.json()) as { id: string; status: string; releaseAt: string; groups: unknown[] };
    assert.equal(body.status, "held");
    assert.equal(body.groups.length, 1);
    const got = await waitFor(() => sink.messages.find((m) => m.messageId === messageId), 5000, "relay");
    assert.deepEqual(got.to.sort(), ["a@partner.example", "b@partner.example", "c@partner.example"]);
    assert.doesNotMatch(got.text, /^Bcc:/im);
    assert.ok(!/[^\r]\n/.test(got.text), "every line ends with CRLF");
  });

  test("POST /messages with JSON parts and an attachment → composed, Bcc only in the envelope", async () => {
    const res = await post(
      "/messages",
      JSON.stringify({
        to: ["取引先 <x@partner.example>", "y@partner.example"],
        bcc: "boss@corp.example",
        subject: "【見積】ご確認ください",
        text: "添付をご確認ください。",
        attachments: [
          {
            filename: "見積書.csv",
            contentType: "text/csv",
            content: Buffer.from("品目,金額\n").toString("base64"),
          },
        ],
      }),
      "application/json",
    );
    assert.equal(res.status, 202, await res.clone().text());
    const { id } = (await res.json()) as { id: string };
    const view = await gw.api<{ messageId: string; subject: string }>(token, "GET", `/messages/${id}`);
    assert.equal(view.body.subject, "【見積】ご確認ください");
    // Three copies: the colleague's as it came, and each partner's own (a download link each).
    const copies = await waitFor(
      () => {
        const found = sink.messages.filter((m) => m.messageId === view.body.messageId);
        return found.length === 3 ? found : undefined;
      },
      5000,
      "relay",
    );
    assert.deepEqual(copies.flatMap((m) => m.to).sort(), [
      "boss@corp.example",
      "x@partner.example",
      "y@partner.example",
    ]);
    const got = copies.find((m) => m.to.includes("boss@corp.example")) ?? assert.fail("no internal copy");
    for (const copy of copies) assert.doesNotMatch(copy.text, /^Bcc:/im);
    const { simpleParser } = await import("mailparser");
    const parsed = await simpleParser(got.raw);
    assert.equal(parsed.subject, "【見積】ご確認ください");
    assert.equal(parsed.attachments[0]?.filename, "見積書.csv");
    assert.equal(parsed.attachments[0]?.content.toString(), "品目,金額\n");
    assert.equal(await bodyText(got.raw), "添付をご確認ください。");
  });

  test("a message's views name the header From and the envelope sender", async () => {
    const res = await post(
      "/messages",
      JSON.stringify({
        from: "営業部 <sales@corp.example>",
        to: "a@partner.example",
        subject: "from-fields",
      }),
      "application/json",
    );
    assert.equal(res.status, 202, await res.clone().text());
    const { id } = (await res.json()) as { id: string };
    const view = await gw.api<{ from: string; envelopeSender: string }>(token, "GET", `/messages/${id}`);
    assert.equal(view.body.from, "sales@corp.example");
    assert.equal(view.body.envelopeSender, ALICE);
    const list = await gw.api<{ messages: { id: string; from: string; envelopeSender: string }[] }>(
      token,
      "GET",
      "/messages?limit=500",
    );
    const summary = list.body.messages.find((m) => m.id === id);
    assert.equal(summary?.from, "sales@corp.example");
    assert.equal(summary?.envelopeSender, ALICE);
  });

  const bad: [string, string, string, number, string, RegExp][] = [
    ["JSON that does not parse", "{not json", "application/json", 400, "bad_request", /not valid JSON/],
    [
      "an unknown JSON field",
      JSON.stringify({ to: "a@partner.example", evil: 1 }),
      "application/json",
      400,
      "bad_message",
      /unknown field evil/,
    ],
    [
      "an attachment that is not base64",
      JSON.stringify({ to: "a@partner.example", attachments: [{ filename: "a", content: "***" }] }),
      "application/json",
      400,
      "bad_message",
      /attachments\.0\.content: expected base64/,
    ],
    [
      "no recipients",
      JSON.stringify({ subject: "x", text: "y" }),
      "application/json",
      400,
      "no_recipients",
      /宛先がありません/,
    ],
    [
      "a From that is not the user",
      JSON.stringify({ from: "ceo@corp.example", to: "a@partner.example" }),
      "application/json",
      422,
      "sender_not_allowed",
      /ceo@corp\.example/,
    ],
    ["an unsupported content type", "hello", "text/plain", 415, "unsupported_media_type", /message\/rfc822/],
    [
      "a raw message with a broken header",
      "From: a@corp.example\r\nnot a header\r\n\r\nbody",
      "message/rfc822",
      400,
      "bad_message",
      /header line 2/,
    ],
    [
      "a raw message without recipients",
      `From: ${ALICE}\r\nSubject: x\r\n\r\nbody`,
      "message/rfc822",
      400,
      "no_recipients",
      /宛先がありません/,
    ],
    [
      "a raw message over the size limit",
      `From: ${ALICE}\r\nTo: a@partner.example\r\n\r\n${"x".repeat(120_000)}`,
      "message/rfc822",
      413,
      "too_large",
      /100000/,
    ],
    [
      "a JSON body over the size limit",
      JSON.stringify({ to: "a@partner.example", text: "x".repeat(200_000) }),
      "application/json",
      413,
      "too_large",
      /上限 140000 バイト/,
    ],
  ];
  // Users without a language of their own get the organisation's (ja): messages are checked in ja.
  for (const [name, body, type, status, code, message] of bad) {
    test(`POST /messages with ${name} → ${status} ${code}, nothing stored`, async () => {
      const before = (await gw.api<{ messages: unknown[] }>(admin, "GET", "/messages?all=1&limit=500")).body
        .messages.length;
      const res = await post("/messages", body, type);
      assert.equal(res.status, status);
      const err = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(err.error.code, code);
      assert.match(err.error.message, message);
      const afterCount = (await gw.api<{ messages: unknown[] }>(admin, "GET", "/messages?all=1&limit=500"))
        .body.messages.length;
      assert.equal(afterCount, before);
    });
  }

  test("errors come in the caller's language", async () => {
    const ja = await gw.token("jp@corp.example", PW);
    const r = await gw.api<{ error: { message: string } }>(ja, "GET", "/messages/nope");
    assert.equal(r.body.error.message, "見つかりません。");
    const anon = await fetch(`${gw.httpUrl}/api/v1/messages`, {
      headers: { "accept-language": "ja,en;q=0.5" },
    });
    assert.equal(anon.status, 401);
    assert.match(((await anon.json()) as { error: { message: string } }).error.message, /ログインが必要です/);
  });

  test("no token, a wrong token or a bad status filter are refused clearly", async () => {
    assert.equal((await fetch(`${gw.httpUrl}/api/v1/messages`)).status, 401);
    assert.equal((await gw.api("A".repeat(43), "GET", "/messages")).status, 401);
    const r = await gw.api<{ error: { code: string; message: string } }>(
      token,
      "GET",
      "/messages?status=bogus",
    );
    assert.equal(r.status, 400);
    assert.match(r.body.error.message, /status must be one of/);
  });

  test("password guessing on /tokens is rate limited with 429 and Retry-After", async () => {
    const attempt = () =>
      post(
        "/tokens",
        JSON.stringify({ email: "victim@corp.example", password: "wrong" }),
        "application/json",
        null,
      );
    for (let i = 0; i < 3; i++) assert.equal((await attempt()).status, 401);
    const locked = await attempt();
    assert.equal(locked.status, 429);
    assert.ok(Number(locked.headers.get("retry-after")) > 0);
    const right = await post(
      "/tokens",
      JSON.stringify({ email: "victim@corp.example", password: PW }),
      "application/json",
      null,
    );
    assert.equal(right.status, 429, "the right password does not get through a lockout either");
  });

  test("malformed sign-in bodies get 400", async () => {
    for (const body of [
      "",
      "[]",
      JSON.stringify({ email: 1, password: 2 }),
      JSON.stringify({ email: "a".repeat(400), password: "x" }),
    ]) {
      const res = await post("/tokens", body, "application/json", null);
      assert.equal(res.status, 400, body);
    }
  });

  test("session cookie: state changes need the CSRF token, and the cookie is HttpOnly and SameSite=Strict", async () => {
    const login = await post(
      "/auth/login",
      JSON.stringify({ email: "held@corp.example", password: PW }),
      "application/json",
      null,
    );
    assert.equal(login.status, 200);
    const cookie = login.headers.get("set-cookie") ?? "";
    assert.match(cookie, /sg_session=[A-Za-z0-9_-]{43}/);
    assert.match(cookie, /HttpOnly/i);
    assert.match(cookie, /SameSite=Strict/i);
    const { csrfToken } = (await login.json()) as { csrfToken: string };
    const session = cookie.split(";")[0] as string;
    const heldToken = await gw.token("held@corp.example", PW);
    const submitted = await post(
      "/messages",
      JSON.stringify({ to: "z@partner.example", subject: "s" }),
      "application/json",
      heldToken,
    );
    const { id } = (await submitted.json()) as { id: string };

    const withoutCsrf = await fetch(`${gw.httpUrl}/api/v1/messages/${id}/discard`, {
      method: "POST",
      headers: { cookie: session },
    });
    assert.equal(withoutCsrf.status, 403);
    assert.equal(((await withoutCsrf.json()) as { error: { code: string } }).error.code, "csrf");
    const wrongCsrf = await fetch(`${gw.httpUrl}/api/v1/messages/${id}/discard`, {
      method: "POST",
      headers: { cookie: session, "x-csrf-token": "x".repeat(43) },
    });
    assert.equal(wrongCsrf.status, 403);
    const list = await fetch(`${gw.httpUrl}/api/v1/messages?status=held`, { headers: { cookie: session } });
    assert.equal(list.status, 200, "reads need no CSRF token");
    const ok = await fetch(`${gw.httpUrl}/api/v1/messages/${id}/discard`, {
      method: "POST",
      headers: { cookie: session, "x-csrf-token": csrfToken },
    });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { id, status: "discarded" });

    const logout = await fetch(`${gw.httpUrl}/api/v1/auth/logout`, {
      method: "POST",
      headers: { cookie: session, "x-csrf-token": csrfToken },
    });
    assert.equal(logout.status, 204);
    assert.equal(
      (await fetch(`${gw.httpUrl}/api/v1/messages`, { headers: { cookie: session } })).status,
      401,
    );
  });

  test("GET /policy returns the effective client policy of the signed-in user", async () => {
    const held = await gw.token("held@corp.example", PW);
    const r = await gw.api<ClientPolicy>(held, "GET", "/policy");
    assert.equal(r.body.holdMinutes, 60);
    assert.deepEqual(r.body.domains.internal, ["corp.example"]);
    assert.equal(r.body.organization.timezone, "Asia/Tokyo");
    assert.deepEqual(r.body.hold, { internal: 60, semiInternal: 60, external: 60 });
    assert.equal(r.body.client.confirmExternal, true);
    assert.ok(r.body.client.attachmentReminderWords.includes("添付"));
    assert.equal(r.body.attachmentAction, "web_download", "the standard preset");
    assert.deepEqual(r.body.attachmentRules, [], "no rule chooses an attachment action");
    assert.equal(r.body.attachmentUnlessTls, null);
  });

  test("admin endpoints are for admins only; admins can add users", async () => {
    assert.equal((await gw.api(token, "GET", "/admin/users")).status, 403);
    const added = await gw.api<{ user: { email: string }; password: string }>(admin, "POST", "/admin/users", {
      email: "new@corp.example",
    });
    assert.equal(added.status, 201);
    assert.ok(added.body.password.length >= 16);
    assert.equal((await gw.api(admin, "POST", "/admin/users", { email: "new@corp.example" })).status, 409);
    const badEmail = await gw.api<{ error: { message: string } }>(admin, "POST", "/admin/users", {
      email: "not-an-address",
    });
    assert.equal(badEmail.status, 400);
    assert.match(badEmail.body.error.message, /local-part@domain/);
    await gw.token("new@corp.example", added.body.password);
  });

  test("/healthz and /metrics (Prometheus text) report the queue and the counters", async () => {
    const health = (await (await fetch(`${gw.httpUrl}/healthz`)).json()) as {
      status: string;
      queue: { held: number };
    };
    assert.equal(health.status, "ok");
    assert.equal(typeof health.queue.held, "number");
    const metrics = await (await fetch(`${gw.httpUrl}/metrics`)).text();
    assert.match(metrics, /^sendguard_messages_accepted_total\{source="http"\} [1-9]/m);
    assert.match(metrics, /^sendguard_messages_rejected_total\{source="http",code="bad_message"\} [1-9]/m);
    assert.match(metrics, /^sendguard_queue_depth\{state="held"\} \d+/m);
    assert.match(metrics, /^sendguard_intake_duration_seconds_bucket\{le="0\.05",source="http"\} \d+/m);
    assert.match(metrics, /^sendguard_recipients_sent_total [1-9]/m);
  });

  test("unknown paths and methods get a JSON 404", async () => {
    const r = await fetch(`${gw.httpUrl}/api/v1/nothing-here`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(r.status, 404);
    assert.equal(((await r.json()) as { error: { code: string } }).error.code, "not_found");
  });
});
