// Accounts against the real gateway process: password guessing over SMTP, token expiry, listing and
// revoking tokens, changing passwords, disabling and deleting users (admin API and CLI), and who may
// read /metrics. Real HTTP, real SMTP clients (nodemailer, swaks, a raw session), a real sink.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import nodemailer from "nodemailer";
import { TestGateway, waitFor } from "../helpers/gateway.js";
import { SmtpSink } from "../helpers/sink.js";
import { authPlain, RawSmtp } from "../helpers/smtp-raw.js";
import { swaks } from "../helpers/swaks.js";

const PW = "correct-horse-1";
const ADMIN = "admin@corp.example";
const API_TOKEN_DAYS = 30;

type Caller = { token: string } | { session: string; csrf?: string } | null;
interface Answer {
  status: number;
  body: { error?: { code: string; message: string } } & Record<string, unknown>;
}

interface TokenListed {
  id: string;
  kind: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  current: boolean;
}

describe("accounts", () => {
  const sink = new SmtpSink();
  let gw: TestGateway;
  let admin: string;

  before(async () => {
    await sink.start();
    gw = new TestGateway({
      relayPort: sink.port,
      config: {
        smtp: { authFailures: { perUser: 5, perIp: 1000, windowSeconds: 600 } },
        auth: { apiTokenDays: API_TOKEN_DAYS },
      },
    });
    gw.addUser(ADMIN, PW, "--role", "admin");
    gw.addUser("approver@corp.example", PW, "--role", "approver");
    for (const name of ["alice", "bob", "carol", "dave", "erin", "frank", "flood", "grace", "victim"]) {
      gw.addUser(`${name}@corp.example`, PW);
    }
    await gw.start();
    admin = await gw.token(ADMIN, PW);
  });
  after(async () => {
    await gw.stop();
    await sink.stop();
  });

  async function call(caller: Caller, method: string, path: string, body?: unknown): Promise<Answer> {
    const headers: Record<string, string> = { "accept-language": "en" };
    if (caller && "token" in caller) headers.authorization = `Bearer ${caller.token}`;
    if (caller && "session" in caller) {
      headers.cookie = caller.session;
      if (caller.csrf) headers["x-csrf-token"] = caller.csrf;
    }
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${gw.httpUrl}/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Answer["body"] };
  }

  async function login(email: string, password = PW): Promise<{ session: string; csrf: string }> {
    const res = await fetch(`${gw.httpUrl}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password }),
    });
    assert.equal(res.status, 200, `login of ${email}`);
    const { csrfToken } = (await res.json()) as { csrfToken: string };
    return { session: (res.headers.get("set-cookie") ?? "").split(";")[0] as string, csrf: csrfToken };
  }

  async function signIn(email: string, password: string): Promise<Answer> {
    return call(null, "POST", "/tokens", { email, password });
  }

  async function userId(email: string): Promise<number> {
    const r = await call({ token: admin }, "GET", "/admin/users");
    const found = (r.body.users as { id: number; email: string }[]).find((u) => u.email === email);
    assert.ok(found, `user ${email}`);
    return found.id;
  }

  /** Works: the token (or session) is accepted by a read that every signed-in user may make. */
  async function works(caller: Caller): Promise<boolean> {
    const status = (await call(caller, "GET", "/messages")).status;
    assert.ok(status === 200 || status === 401, `GET /messages answered ${status}`);
    return status === 200;
  }

  async function audit(action: string, email: string) {
    const r = await call({ token: admin }, "GET", "/admin/audit?limit=1000");
    return (r.body.entries as { actor: string; action: string; detail: Record<string, unknown> }[]).filter(
      (e) => e.action === action && e.detail.email === email,
    );
  }

  /** An SMTP session that has authenticated, ready for MAIL FROM. */
  async function smtpSession(email: string): Promise<RawSmtp> {
    const client = await RawSmtp.open(gw.ports.smtp);
    assert.match(await client.command("EHLO client.test"), /^250/);
    await client.startTls();
    assert.match(await client.command(authPlain(email, PW)), /^235/);
    return client;
  }

  /** AUTH with nodemailer (it upgrades with STARTTLS first); the reply code of the AUTH. */
  async function smtpAuth(user: string, pass: string): Promise<{ code: number; response: string }> {
    const transport = nodemailer.createTransport({
      host: "127.0.0.1",
      port: gw.ports.smtp,
      tls: { rejectUnauthorized: false },
      auth: { user, pass },
    });
    try {
      await transport.verify();
      return { code: 235, response: "235" };
    } catch (err) {
      const e = err as { responseCode?: number; response?: string };
      return { code: e.responseCode ?? 0, response: e.response ?? String(err) };
    } finally {
      transport.close();
    }
  }

  test("an SMTP AUTH flood: only as many wrong passwords as the limit are judged, the rest and then the right one get 454", async () => {
    const results = await Promise.all(
      Array.from({ length: 15 }, (_, i) => smtpAuth("flood@corp.example", `wrong-${i}`)),
    );
    const codes = results.map((r) => r.code);
    assert.equal(codes.filter((c) => c === 535).length, 5, `codes: ${codes.join(" ")}`);
    assert.equal(codes.filter((c) => c === 454).length, 10, `codes: ${codes.join(" ")}`);
    for (const r of results.filter((x) => x.code === 454)) {
      assert.match(r.response, /^454 4\.7\.0 Too many failed logins; try again in \d+ s/);
    }
    const right = swaks([
      "--server",
      `127.0.0.1:${gw.ports.smtp}`,
      "--tls",
      "--auth",
      "PLAIN",
      "--auth-user",
      "flood@corp.example",
      "--auth-password",
      PW,
      "--from",
      "flood@corp.example",
      "--to",
      "x@partner.example",
    ]);
    assert.match(right.lastReply, /^454 4\.7\.0 Too many failed logins/);
  });

  test("an API token expires after auth.apiTokenDays; GET /tokens lists own tokens by id, never the secret", async () => {
    const made = await signIn("alice@corp.example", PW);
    assert.equal(made.status, 201);
    const { token, id, expiresAt } = made.body as { token: string; id: string; expiresAt: string };
    const days = (Date.parse(expiresAt) - Date.now()) / 86400_000;
    assert.ok(days > API_TOKEN_DAYS - 0.01 && days <= API_TOKEN_DAYS, `expires in ${days} days`);
    const [row] = await gw.query<{ expires_at: number }>("SELECT expires_at FROM tokens WHERE id = ?", [id]);
    assert.equal(row?.expires_at, Date.parse(expiresAt), "the expiry is what the store enforces");

    const { session } = await login("alice@corp.example");
    const listed = await call({ token }, "GET", "/tokens");
    assert.equal(listed.status, 200);
    const tokens = listed.body.tokens as TokenListed[];
    const mine = tokens.find((t) => t.id === id);
    assert.ok(mine);
    assert.equal(mine.kind, "api");
    assert.equal(mine.current, true);
    assert.ok(mine.lastUsedAt, "this very request used it");
    assert.deepEqual(Object.keys(mine).sort(), [
      "createdAt",
      "current",
      "expiresAt",
      "id",
      "kind",
      "lastUsedAt",
    ]);
    assert.ok(
      tokens.some((t) => t.kind === "session" && !t.current),
      "the session is listed too",
    );
    const text = JSON.stringify(listed.body);
    assert.ok(!text.includes(token), "the secret is not in the list");
    assert.ok(!text.includes(session.split("=")[1] as string), "nor the session's");
  });

  test("DELETE /tokens/:id revokes one's own token; another user's token id is 404 and keeps working", async () => {
    const first = (await signIn("bob@corp.example", PW)).body as { token: string; id: string };
    const second = (await signIn("bob@corp.example", PW)).body as { token: string; id: string };
    const alices = (await signIn("alice@corp.example", PW)).body as { token: string; id: string };

    const foreign = await call({ token: first.token }, "DELETE", `/tokens/${alices.id}`);
    assert.equal(foreign.status, 404);
    assert.equal(foreign.body.error?.code, "not_found");
    assert.equal(await works({ token: alices.token }), true);
    assert.equal((await call({ token: first.token }, "DELETE", "/tokens/no-such-id")).status, 404);

    assert.equal((await call({ token: first.token }, "DELETE", `/tokens/${second.id}`)).status, 204);
    assert.equal(await works({ token: second.token }), false);
    assert.equal(await works({ token: first.token }), true);
    const entries = await audit("token_revoked", "bob@corp.example");
    assert.equal(entries[0]?.actor, "bob@corp.example");
    assert.equal(entries[0]?.detail.tokenId, second.id);
  });

  test("POST /me/password checks the current password, the new one's length, and revokes the other tokens", async () => {
    const email = "grace@corp.example";
    const current = (await signIn(email, PW)).body as { token: string };
    const other = (await signIn(email, PW)).body as { token: string };
    const browser = await login(email);
    const open = await smtpSession(email);

    const wrong = await call({ token: current.token }, "POST", "/me/password", {
      currentPassword: "not-it-at-all",
      newPassword: "a-new-password-1",
    });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.body.error?.code, "wrong_password");
    const short = await call({ token: current.token }, "POST", "/me/password", {
      currentPassword: PW,
      newPassword: "short",
    });
    assert.equal(short.status, 400);
    assert.match(short.body.error?.message ?? "", /at least 10 characters/);
    const malformed = await call({ token: current.token }, "POST", "/me/password", { password: PW });
    assert.equal(malformed.status, 400);
    assert.equal(await works({ token: other.token }), true, "a refused change changes nothing");

    const changed = await call({ token: current.token }, "POST", "/me/password", {
      currentPassword: PW,
      newPassword: "a-new-password-1",
    });
    assert.equal(changed.status, 204);
    assert.equal(await works({ token: current.token }), true, "the caller's own token stays");
    assert.equal(await works({ token: other.token }), false);
    assert.equal(await works({ session: browser.session }), false, "sessions elsewhere end too");
    assert.equal((await signIn(email, PW)).status, 401);
    assert.equal((await signIn(email, "a-new-password-1")).status, 201);
    assert.equal(
      (await smtpAuth(email, "a-new-password-1")).code,
      235,
      "SMTP AUTH takes the new password at once",
    );
    try {
      assert.match(
        await open.command(`MAIL FROM:<${email}>`),
        /^530 5\.7\.0 The password of grace@corp\.example was changed .*sign in again/,
        "an SMTP session opened with the old password submits no more",
      );
      assert.match(await open.command(authPlain(email, PW)), /^535/);
      assert.match(await open.command(authPlain(email, "a-new-password-1")), /^235/);
      assert.match(await open.command(`MAIL FROM:<${email}>`), /^250/, "signed in again, it goes on");
    } finally {
      open.close();
    }
    const [entry] = await audit("password_changed", email);
    assert.equal(entry?.actor, email);
    assert.equal(entry?.detail.tokensRevoked, 2);
  });

  test("every new route refuses anonymous callers, users and approvers; nothing changes for the refused", async () => {
    const victim = await userId("victim@corp.example");
    const victimToken = await gw.token("victim@corp.example", PW);
    const user = { token: await gw.token("alice@corp.example", PW) };
    const approver = { token: await gw.token("approver@corp.example", PW) };
    const own = [
      ["GET", "/tokens"],
      ["DELETE", "/tokens/some-id"],
      ["POST", "/me/password"],
    ];
    const adminRoutes = [
      ["POST", `/admin/users/${victim}/disable`],
      ["POST", `/admin/users/${victim}/enable`],
      ["POST", `/admin/users/${victim}/password`],
      ["DELETE", `/admin/users/${victim}/tokens`],
      ["DELETE", `/admin/users/${victim}`],
    ];
    for (const [method, path] of [...own, ...adminRoutes] as [string, string][]) {
      const r = await call(null, method, path, method === "GET" ? undefined : {});
      assert.equal(r.status, 401, `anonymous ${method} ${path}`);
      assert.equal(r.body.error?.code, "unauthorized");
    }
    for (const caller of [user, approver]) {
      for (const [method, path] of adminRoutes as [string, string][]) {
        const r = await call(caller, method, path, {});
        assert.equal(r.status, 403, `${method} ${path}`);
        assert.equal(r.body.error?.code, "forbidden");
      }
    }
    assert.equal(await works({ token: victimToken }), true, "the victim's token survived");
    assert.equal((await signIn("victim@corp.example", PW)).status, 201, "and their password");
  });

  test("session callers of the state-changing routes must send the CSRF token", async () => {
    const alice = await login("alice@corp.example");
    const adminSession = await login(ADMIN);
    const bob = await userId("bob@corp.example");
    const bobsToken = (await signIn("bob@corp.example", PW)).body as { token: string; id: string };
    const attempts: [Caller & object, string, string, unknown][] = [
      [alice, "DELETE", "/tokens/whatever", undefined],
      [alice, "POST", "/me/password", { currentPassword: PW, newPassword: "x".repeat(12) }],
      [adminSession, "POST", `/admin/users/${bob}/disable`, undefined],
      [adminSession, "POST", `/admin/users/${bob}/password`, {}],
      [adminSession, "DELETE", `/admin/users/${bob}/tokens`, undefined],
      [adminSession, "DELETE", `/admin/users/${bob}`, undefined],
    ];
    for (const [caller, method, path, body] of attempts) {
      const r = await call({ session: (caller as { session: string }).session }, method, path, body);
      assert.equal(r.status, 403, `${method} ${path} without CSRF`);
      assert.equal(r.body.error?.code, "csrf");
    }
    assert.equal(await works({ token: bobsToken.token }), true, "nothing was done to bob");
    assert.equal((await call(alice, "GET", "/tokens")).status, 200, "reads need no CSRF token");
    const withCsrf = await call(adminSession, "POST", `/admin/users/${bob}/disable`);
    assert.equal(withCsrf.status, 200);
    assert.equal((await call(adminSession, "POST", `/admin/users/${bob}/enable`)).status, 200);
  });

  test("an admin disables a user: token, session, SMTP AUTH and an open SMTP session stop at once", async () => {
    const email = "carol@corp.example";
    const id = await userId(email);
    const token = (await signIn(email, PW)).body as { token: string };
    const browser = await login(email);
    const open = await smtpSession(email);
    try {
      assert.match(await open.command(`MAIL FROM:<${email}>`), /^250/);
      assert.match(await open.command("RSET"), /^250/);

      const disabled = await call({ token: admin }, "POST", `/admin/users/${id}/disable`);
      assert.equal(disabled.status, 200);
      assert.ok((disabled.body.user as { disabledAt: string | null }).disabledAt);
      assert.equal(await works({ token: token.token }), false);
      assert.equal(await works(browser), false);
      assert.match(
        await open.command(`MAIL FROM:<${email}>`),
        /^550 5\.7\.1 The account carol@corp\.example is disabled/,
      );
      const auth = await smtpAuth(email, PW);
      assert.equal(auth.code, 535);
      assert.match(auth.response, /this account is disabled/);
      const refused = await signIn(email, PW);
      assert.equal(refused.status, 403);
      assert.equal(refused.body.error?.code, "account_disabled");
      assert.match(refused.body.error?.message ?? "", /disabled/);

      assert.equal((await call({ token: admin }, "POST", `/admin/users/${id}/enable`)).status, 200);
      assert.equal(await works({ token: token.token }), true, "unexpired tokens work again");
      assert.match(await open.command(`MAIL FROM:<${email}>`), /^250/);
      assert.equal((await audit("user_disabled", email))[0]?.actor, ADMIN);
      assert.equal((await audit("user_enabled", email))[0]?.actor, ADMIN);
    } finally {
      open.close();
    }
  });

  test("an admin may not disable or delete their own account", async () => {
    const self = await userId(ADMIN);
    for (const [method, path] of [
      ["POST", `/admin/users/${self}/disable`],
      ["DELETE", `/admin/users/${self}`],
    ] as const) {
      const r = await call({ token: admin }, method, path);
      assert.equal(r.status, 409);
      assert.equal(r.body.error?.code, "own_account");
    }
    assert.equal(await works({ token: admin }), true);
  });

  test("admin: reset a password (generated, or given), revoke a user's tokens, delete a user keeping their mail's trail", async () => {
    const email = "erin@corp.example";
    const id = await userId(email);
    const before = (await signIn(email, PW)).body as { token: string };
    const submitted = await call(before, "POST", "/messages", {
      to: "someone@partner.example",
      subject: "before the account went",
      text: "本文",
    });
    assert.equal(submitted.status, 202);
    const messageId = submitted.body.id as string;

    const reset = await call({ token: admin }, "POST", `/admin/users/${id}/password`, {});
    assert.equal(reset.status, 200);
    const generated = reset.body.password as string;
    assert.ok(generated.length >= 10);
    assert.equal(await works(before), false, "a reset revokes the user's tokens");
    assert.equal((await signIn(email, PW)).status, 401);
    assert.equal((await signIn(email, generated)).status, 201);
    const short = await call({ token: admin }, "POST", `/admin/users/${id}/password`, { password: "short" });
    assert.equal(short.status, 400);
    const given = await call({ token: admin }, "POST", `/admin/users/${id}/password`, {
      password: "given-password-1",
    });
    assert.equal(given.status, 200);
    assert.equal(given.body.password, undefined, "a given password is not echoed");
    assert.equal((await audit("password_reset", email)).length, 2);

    const t1 = (await signIn(email, "given-password-1")).body as { token: string };
    const t2 = (await signIn(email, "given-password-1")).body as { token: string };
    const revoked = await call({ token: admin }, "DELETE", `/admin/users/${id}/tokens`);
    assert.deepEqual(revoked, { status: 200, body: { revoked: 2 } });
    assert.equal(await works(t1), false);
    assert.equal(await works(t2), false);
    assert.equal((await audit("tokens_revoked", email))[0]?.actor, ADMIN);

    const t3 = (await signIn(email, "given-password-1")).body as { token: string };
    assert.equal((await call({ token: admin }, "DELETE", `/admin/users/${id}`)).status, 204);
    assert.equal(await works(t3), false, "deleting revokes the tokens");
    assert.equal((await signIn(email, "given-password-1")).status, 401);
    assert.equal((await call({ token: admin }, "DELETE", `/admin/users/${id}`)).status, 404);
    const users = (await call({ token: admin }, "GET", "/admin/users")).body.users as { email: string }[];
    assert.ok(!users.some((u) => u.email === email));
    const kept = await call({ token: admin }, "GET", `/messages/${messageId}`);
    assert.equal(kept.status, 200, "the message stays");
    const trail = await call({ token: admin }, "GET", `/admin/audit?messageId=${messageId}`);
    assert.ok((trail.body.entries as unknown[]).length > 0, "and its audit trail");
    const [deleted] = await audit("user_deleted", email);
    assert.equal(deleted?.actor, ADMIN);
    assert.equal(deleted?.detail.tokensRevoked, 1);
    const [row] = await gw.query<{ user_id: number | null }>("SELECT user_id FROM messages WHERE id = ?", [
      messageId,
    ]);
    assert.equal(row?.user_id, null);
  });

  test("CLI (another process): disable, enable, password, token revoke, delete — the running gateway follows", async () => {
    const email = "dave@corp.example";
    const token = (await signIn(email, PW)).body as { token: string };
    const open = await smtpSession(email);
    try {
      const off = gw.cli(["user", "disable", email]);
      assert.equal(off.status, 0, off.stderr);
      assert.match(off.stdout, /^Disabled dave@corp\.example/);
      assert.equal(await works(token), false, "the token stops with the next request");
      assert.equal((await smtpAuth(email, PW)).code, 535);
      // The open session reads the account at most ACCOUNT_RECHECK_MAX_AGE_MS (1 s) old.
      const refusal = await waitFor(
        async () => {
          const reply = await open.command(`MAIL FROM:<${email}>`);
          if (reply.startsWith("250")) await open.command("RSET");
          return reply.startsWith("550") ? reply : undefined;
        },
        3000,
        "the open session to be refused",
      );
      assert.match(refusal, /^550 5\.7\.1 The account dave@corp\.example is disabled/);
    } finally {
      open.close();
    }
    assert.equal((await audit("user_disabled", email))[0]?.actor, "cli");

    const on = gw.cli(["user", "enable", email]);
    assert.equal(on.status, 0, on.stderr);
    assert.match(on.stdout, /token revoke dave@corp\.example/);
    assert.equal(await works(token), true);

    const revoke = gw.cli(["token", "revoke", email]);
    assert.equal(revoke.status, 0, revoke.stderr);
    assert.match(revoke.stdout, /^Revoked 1 token and session of dave@corp\.example/);
    assert.equal(await works(token), false);

    const given = gw.cli(["user", "password", email, "--password-stdin"], "stdin-password-1\n");
    assert.equal(given.status, 0, given.stderr);
    assert.doesNotMatch(given.stdout, /shown once/);
    assert.equal((await signIn(email, PW)).status, 401);
    assert.equal((await signIn(email, "stdin-password-1")).status, 201);
    const generated = gw.cli(["user", "password", email]);
    assert.equal(generated.status, 0, generated.stderr);
    const password = /Password \(shown once\): (\S+)/.exec(generated.stdout)?.[1] ?? "";
    assert.equal((await signIn(email, password)).status, 201);
    assert.equal(
      (await audit("password_reset", email)).every((e) => e.actor === "cli"),
      true,
    );

    const deleted = gw.cli(["user", "delete", email]);
    assert.equal(deleted.status, 0, deleted.stderr);
    assert.equal((await signIn(email, password)).status, 401);
    assert.equal((await audit("user_deleted", email))[0]?.actor, "cli");

    const missing = gw.cli(["user", "disable", email]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no user dave@corp\.example/);
    const noEmail = gw.cli(["token", "revoke"]);
    assert.equal(noEmail.status, 2);
    assert.match(noEmail.stderr, /token revoke needs an EMAIL/);
    const help = gw.cli(["--help"]);
    for (const line of [
      "user disable EMAIL",
      "user enable EMAIL",
      "user delete EMAIL",
      "user password EMAIL [--password-stdin]",
      "token revoke EMAIL",
    ]) {
      assert.ok(help.stdout.includes(line), `--help shows ${line}`);
    }
  });
});

describe("/metrics access", () => {
  let open: TestGateway;
  let closed: TestGateway;
  const tokens = { openAdmin: "", openUser: "", closedAdmin: "", closedUser: "" };

  before(async () => {
    open = new TestGateway();
    closed = new TestGateway({ config: { metrics: { allowNetworks: ["10.0.0.0/8"] } } });
    for (const gw of [open, closed]) {
      gw.addUser(ADMIN, PW, "--role", "admin");
      gw.addUser("user@corp.example", PW);
    }
    await Promise.all([open.start(), closed.start()]);
    tokens.openAdmin = await open.token(ADMIN, PW);
    tokens.openUser = await open.token("user@corp.example", PW);
    tokens.closedAdmin = await closed.token(ADMIN, PW);
    tokens.closedUser = await closed.token("user@corp.example", PW);
  });
  after(async () => {
    await Promise.all([open.stop(), closed.stop()]);
  });

  const scrape = (gw: TestGateway, headers: Record<string, string> = {}) =>
    fetch(`${gw.httpUrl}/metrics`, { headers: { "accept-language": "en", ...headers } });

  async function refused(res: Response): Promise<void> {
    assert.equal(res.status, 403);
    assert.deepEqual(await res.json(), {
      error: {
        code: "metrics_forbidden",
        message: "Metrics are served to admin tokens and to the networks in metrics.allowNetworks only.",
      },
    });
  }

  test("by default a loopback client without a token may scrape", async () => {
    const res = await scrape(open);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /sendguard_queue_depth/);
  });

  test("a client outside the allowed networks is refused with the error body", async () => {
    await refused(await scrape(closed));
  });

  test("a public client forwarded by a proxy on loopback is refused, though the socket is loopback", async () => {
    await refused(await scrape(open, { "x-forwarded-for": "203.0.113.9" }));
  });

  test("a forwarded address cannot open it from a socket outside the allowed networks", async () => {
    await refused(await scrape(closed, { "x-forwarded-for": "10.1.2.3" }));
  });

  test("an admin token is allowed from anywhere", async () => {
    const res = await scrape(closed, { authorization: `Bearer ${tokens.closedAdmin}` });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /sendguard_messages_accepted_total/);
    const forwarded = await scrape(open, {
      authorization: `Bearer ${tokens.openAdmin}`,
      "x-forwarded-for": "203.0.113.9",
    });
    assert.equal(forwarded.status, 200);
  });

  test("a user's token is refused, even from an allowed network; a wrong token is 401", async () => {
    await refused(await scrape(closed, { authorization: `Bearer ${tokens.closedUser}` }));
    await refused(await scrape(open, { authorization: `Bearer ${tokens.openUser}` }));
    assert.equal((await scrape(open, { authorization: `Bearer ${"A".repeat(43)}` })).status, 401);
  });
});
