// Every route of the HTTP app, read from the Express routers themselves (a new route is fuzzed
// without anyone listing it), fuzzed over real HTTP against a real gateway: hostile path parameters,
// query strings, cookies, headers and bodies, as anonymous, user, approver and admin. Whatever comes
// in, nothing answers 5xx, and every error is {error:{code, message}} in the caller's language, or on
// the capability pages (/hold, /approve) the localised error page.
import assert from "node:assert/strict";
import { request } from "node:http";
import { connect } from "node:net";
import { parse as parseQuery } from "node:querystring";
import { after, before, describe, test } from "node:test";
import { isLanguage, pickLanguage, t, type Language, type MessageKey } from "@sendguard/shared";
import fc from "fast-check";
import { parseConfig } from "../../server/src/config/load.js";
import { createApp, type WebDeps } from "../../server/src/web/app.js";
import { noticeLink, rawMessage } from "../helpers/fixtures.js";
import { TestGateway, waitFor } from "../helpers/gateway.js";
import { SmtpSink } from "../helpers/sink.js";

const PW = "correct-horse-1";
const ORG_LANGUAGE: Language = "ja";
/** Where errors are a page for a person, not JSON: the routers mark these with errorsAsPage. */
const PAGE_PREFIXES = ["/hold/", "/approve/", "/d/"];
const PROPERTY_RUNS = 250;

interface Route {
  method: string;
  path: string;
  params: string[];
}

/** The routes as Express will match them, walked from the app's router stack. */
function appRoutes(): Route[] {
  const config = parseConfig({}, "route listing");
  // Building the app must not use its dependencies; handlers do, and they never run here.
  const unused = new Proxy(
    {},
    {
      get: (_target, name) => {
        throw new Error(`building the app used a dependency's ${String(name)}: list routes another way`);
      },
    },
  );
  const deps = new Proxy({} as WebDeps, { get: (_target, name) => (name === "config" ? config : unused) });
  interface Layer {
    route?: { path: string | string[]; methods: Record<string, boolean> };
    handle?: { stack?: Layer[] };
    rawPath?: string;
  }
  const routes: Route[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const path of [layer.route.path].flat()) {
          const full = `${prefix}${path}`.replace(/\/+/g, "/");
          // Literal segments and :name only: other syntax needs the fuzzer taught how to fill it.
          assert.match(
            full,
            /^(\/([\w.-]+|:\w+))*\/?$/,
            `route path syntax this test does not know: ${full}`,
          );
          const params = [...full.matchAll(/:(\w+)/g)].map((m) => m[1] as string);
          for (const method of Object.keys(layer.route.methods)) {
            routes.push({ method: method.toUpperCase(), path: full, params });
          }
        }
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack, layer.rawPath && layer.rawPath !== "/" ? prefix + layer.rawPath : prefix);
      }
    }
  };
  walk((createApp(deps) as unknown as { router: { stack: Layer[] } }).router.stack, "");
  return routes;
}

const isPage = (path: string) => PAGE_PREFIXES.some((prefix) => path.startsWith(prefix));

// ---- what is sent ------------------------------------------------------------------------------

type Who = "anonymous" | "user" | "approver" | "admin";
interface Identity {
  token: string;
  session: string;
  csrf: string;
}

interface Probe {
  method: string;
  /** Exactly what goes on the request line: already percent-encoded, or deliberately not. */
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** For the failure message: who, and how they authenticated. */
  label: string;
}

/** Path segments as they go on the wire; node:http sends them as given (fetch would resolve `..`). */
const hostileSegment = fc.oneof(
  fc.constantFrom(
    ..."% %00 %zz %E0%A4%A %C0%AF %FF .. %2e%2e %2F..%2F.. . %20 -1 0 1.5 1e309 NaN 9007199254740993".split(
      " ",
    ),
    "__proto__",
    "constructor",
    "a".repeat(3000),
    ...["例え.jp", "taro@例え.jp", "😀".repeat(100), "<script>alert(1)</script>", "' OR 1=1 --"].map(
      encodeURIComponent,
    ),
    ...["group:", "user:nobody@corp.example"].map(encodeURIComponent),
  ),
  fc.string({ unit: "grapheme", maxLength: 30 }).map(encodeURIComponent),
);

const queryValue = fc.oneof(
  fc.constantFrom(
    "",
    ..."me 1 held pending_approval ja en approved denied already_final csrf anything toString".split(" "),
  ),
  hostileSegment,
);
const queryKey = fc.oneof(
  fc.constantFrom("status", "limit", "all", "approver", "user", "messageId", "lang", "done", "__proto__"),
  fc.constantFrom("a[b]", "a[]", "%", "%zz", ""),
);
const queryString = fc.oneof(
  { weight: 3, arbitrary: fc.constant("") },
  {
    weight: 6,
    arbitrary: fc
      .array(fc.tuple(queryKey, queryValue), { minLength: 1, maxLength: 4 })
      .map((pairs) => `?${pairs.map(([k, v]) => `${k}=${v}`).join("&")}`),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom("?", "?&&", "?%", "?=x", "?lang=en&lang=ja", `?limit=${"9".repeat(400)}`),
  },
);

/** How the caller authenticates, given their identity (none for anonymous). */
const AUTH_MODES = [
  "bearer",
  "session",
  "session-no-csrf",
  "session-wrong-csrf",
  "junk-bearer",
  "empty-bearer",
  "basic",
  "other-scheme",
  "bearer-two-words",
  "long-bearer",
  "bad-cookie",
  "junk-cookie",
  "cookie-twice",
  "cookie-no-equals",
  "none",
] as const;
type AuthMode = (typeof AUTH_MODES)[number];
/** Mostly a working sign-in, so that probes get past authentication into the handlers. */
const authMode = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<AuthMode>("bearer", "session") },
  { weight: 2, arbitrary: fc.constantFrom(...AUTH_MODES) },
);

function authHeaders(mode: AuthMode, who: Identity | undefined): Record<string, string> {
  const token = who?.token ?? "x";
  const session = who?.session ?? "x";
  switch (mode) {
    case "bearer":
      return who ? { authorization: `Bearer ${token}` } : {};
    case "session":
      return { cookie: `sg_session=${session}`, "x-csrf-token": who?.csrf ?? "x" };
    case "session-no-csrf":
      return { cookie: `other=1; sg_session=${session}` };
    case "session-wrong-csrf":
      return { cookie: `sg_session=${session}`, "x-csrf-token": "%" };
    case "junk-bearer":
      return { authorization: "Bearer junk" };
    case "empty-bearer":
      return { authorization: "Bearer " };
    case "basic":
      return { authorization: `Basic ${Buffer.from(`alice@corp.example:${PW}`).toString("base64")}` };
    case "other-scheme":
      return { authorization: `Token ${token}` };
    case "bearer-two-words":
      return { authorization: `bearer ${token} ${token}` };
    case "long-bearer":
      return { authorization: `Bearer ${"A".repeat(3000)}` };
    case "bad-cookie":
      return { cookie: "sg_session=%" };
    case "junk-cookie":
      return { cookie: `sg_session=${Buffer.from("例え", "utf8").toString("latin1")}%zz` };
    case "cookie-twice":
      return { cookie: `sg_session=junk; sg_session=${session}` };
    case "cookie-no-equals":
      return { cookie: "sg_session; =; ;;" };
    case "none":
      return {};
  }
}

const contentType = fc.constantFrom(
  undefined,
  "application/json",
  "application/json",
  "application/json; charset=utf-8",
  "application/json; charset=latin-9",
  'application/json; charset="',
  "text/plain",
  "message/rfc822",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/yaml",
  "*/*",
  "garbage",
  ";;;",
);

/** Field names of the API's bodies, so that random JSON objects hit the validators. */
const FIELDS = (
  "email password comment verdict csrf to cc bcc from subject text html attachments role language " +
  "holdMinutes aliases groups manager domain selector preset rules token name expiresInDays " +
  "currentPassword newPassword disabled"
).split(" ");
const deep = (open: string, close: string, depth: number) => open.repeat(depth) + close.repeat(depth);
const body = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "",
      "{",
      '{"email":',
      "nul",
      "'single'",
      "1e999999",
      "\u0000",
      "\ufeff{}",
      "null",
      "5",
      '"string"',
      "[]",
      deep("[", "]", 4000),
      deep('{"a":', "}", 2000).replace(/:}/, ":1}"),
      JSON.stringify({ text: "x".repeat(300_000) }),
      "csrf=x&verdict=approve&comment=%",
      Array.from({ length: 30 }, (_, i) => `p${i}=1`).join("&"),
      rawMessage({ from: "alice@corp.example", to: ["x@partner.example"] }),
      rawMessage({ from: "CEO <ceo@corp.example>", to: ["x@partner.example"] }),
      "From: a\nTo: b\n\n.\n",
      "garbage",
    ),
  },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  {
    weight: 4,
    arbitrary: fc
      .dictionary(
        fc.constantFrom(...FIELDS),
        fc.oneof(fc.jsonValue({ maxDepth: 2 }), hostileSegment.map(decodeOr)),
        { maxKeys: 5 },
      )
      .map((v) => JSON.stringify(v)),
  },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.tuple(fc.constantFrom("csrf", "verdict", "comment", "x"), queryValue), { maxLength: 12 })
      .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join("&")),
  },
);

function decodeOr(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

const acceptLanguage = fc.constantFrom(
  undefined,
  "ja",
  "en",
  "en-US,en;q=0.9",
  "ja-JP",
  "fr",
  "*",
  "en;q=0",
  ",,;q=abc",
  "x".repeat(2000),
  Buffer.from("日本語", "utf8").toString("latin1"),
);
const forwardedFor = fc.constantFrom(
  undefined,
  "garbage",
  "",
  "1.2.3.4, 5.6.7.8",
  "2001:db8::1",
  "[::1]",
  "%",
);
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

// ---- what must come back -----------------------------------------------------------------------

interface Answer {
  status: number;
  type: string;
  text: string;
}

function send(port: number, probe: Probe): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      // A connection per request: a kept-alive socket the server closes between two requests
      // would fail the next one for reasons that have nothing to do with the input.
      {
        host: "127.0.0.1",
        port,
        method: probe.method,
        path: probe.path,
        // Node frames a GET's body only when told its length.
        headers: {
          ...probe.headers,
          ...(probe.body === undefined ? {} : { "content-length": String(Buffer.byteLength(probe.body)) }),
        },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers["content-type"] ?? ""),
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.setTimeout(20_000, () => req.destroy(new Error("no answer within 20 s")));
    req.on("error", reject);
    req.end(probe.body);
  });
}

/** Bytes as they are, on a connection of their own: for what node:http would not send. */
function sendRaw(port: number, bytes: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.setTimeout(20_000, () => socket.destroy(new Error("no answer within 20 s")));
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => {
      const [head = "", ...rest] = Buffer.concat(chunks).toString("utf8").split("\r\n\r\n");
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0),
        type: /^content-type: *(.*)$/im.exec(head)?.[1] ?? "",
        text: rest.join("\r\n\r\n"),
      });
    });
  });
}

/** A catalog text as a pattern: its {placeholders} stand for anything. */
function catalogPattern(lang: Language, key: string): RegExp {
  let template: string;
  try {
    template = t(lang, key as MessageKey);
  } catch {
    throw new Error(`no ${lang} catalog text for ${key}`);
  }
  const parts = template.split(/\{\w+\}/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${parts.join("[\\s\\S]*")}$`);
}

function checkAnswer(probe: Probe, answer: Answer): void {
  const what = `${probe.method} ${probe.path.slice(0, 300)} (${probe.label}) → ${answer.status} ${answer.text.slice(0, 300)}`;
  assert.ok(answer.status >= 200 && answer.status < 500, `no 5xx: ${what}`);
  if (answer.status < 400 || probe.method === "HEAD") return;
  const path = probe.path.split("?")[0] as string;
  if (isPage(path)) {
    assert.match(answer.type, /^text\/html/, `an error page, not ${answer.type}: ${what}`);
    const lang = /<html lang="(ja|en)">/.exec(answer.text)?.[1] as Language | undefined;
    assert.ok(lang, `the page says its language: ${what}`);
    const asked = parseQuery(probe.path.split("?").slice(1).join("?")).lang;
    if (isLanguage(asked)) assert.equal(lang, asked, `?lang= chooses the language: ${what}`);
    const said = (["page.notFound", "page.badRequest"] as const).some((key) =>
      answer.text.includes(t(lang, key)),
    );
    assert.ok(said, `the page says what went wrong, in ${lang}: ${what}`);
    return;
  }
  assert.match(answer.type, /^application\/json/, `a JSON error, not ${answer.type}: ${what}`);
  const parsed = JSON.parse(answer.text) as { error?: { code?: unknown; message?: unknown } };
  const { code, message } = parsed.error ?? {};
  assert.ok(typeof code === "string" && /^[a-z_]+$/.test(code), `error.code: ${what}`);
  assert.ok(typeof message === "string", `error.message: ${what}`);
  // The test's users have no language of their own: the caller's Accept-Language decides.
  const lang = pickLanguage(probe.headers["accept-language"], ORG_LANGUAGE);
  assert.match(message, catalogPattern(lang, `error.${code}`), `the ${lang} text for ${code}: ${what}`);
}

// ---- the test ----------------------------------------------------------------------------------

describe("HTTP fuzzing of every route", () => {
  const routes = appRoutes();
  const sink = new SmtpSink();
  let gw: TestGateway;
  const identities = {} as Record<Exclude<Who, "anonymous">, Identity>;
  /**
   * Parameter values that exist, so that probes also get past the lookups into the handlers; a set
   * with `under` fits only the routes below that path (a user id is no message id).
   */
  const known: { values: Record<string, string>; under?: string }[] = [];
  /** The known parameter sets that fill all of the route's parameters. */
  const knownFor = (route: Route) =>
    known
      .filter(
        ({ values, under }) =>
          route.params.every((p) => p in values) && (!under || route.path.startsWith(under)),
      )
      .map(({ values }) => values);

  async function signIn(email: string): Promise<Identity> {
    const token = await gw.token(email, PW);
    const res = await fetch(`${gw.httpUrl}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password: PW }),
    });
    assert.equal(res.status, 200);
    const session = /sg_session=([^;]+)/.exec(res.headers.get("set-cookie") ?? "")?.[1];
    assert.ok(session);
    return { token, session, csrf: ((await res.json()) as { csrfToken: string }).csrfToken };
  }

  /** The /hold or /approve link of the notice about `messageId` that `to` received, as parameters. */
  async function linkParams(
    to: string,
    messageId: string,
    kind: "hold" | "approve",
  ): Promise<Record<string, string>> {
    const notice = await waitFor(() => sink.to(to).find((m) => m.text.includes(messageId)), 10_000, kind);
    const segments = new URL(await noticeLink(notice.raw, kind)).pathname.split("/").slice(2);
    return kind === "hold"
      ? { id: segments[0] as string, sig: segments[1] as string }
      : { id: segments[0] as string, approver: segments[1] as string, sig: segments[2] as string };
  }

  before(async () => {
    await sink.start();
    gw = new TestGateway({
      relayPort: sink.port,
      config: {
        organization: { holdMinutes: 60, language: ORG_LANGUAGE },
        smtp: {
          maxMessageBytes: 100_000,
          authFailures: { perUser: 1000, perIp: 100_000, windowSeconds: 60 },
        },
      },
    });
    gw.addUser("admin@corp.example", PW, "--role", "admin");
    gw.addUser("alice@corp.example", PW);
    gw.addUser("boss@corp.example", PW, "--role", "approver");
    gw.addUser("hanako@corp.example", PW, "--group", "new", "--manager", "boss@corp.example");
    await gw.start();
    identities.admin = await signIn("admin@corp.example");
    identities.user = await signIn("alice@corp.example");
    identities.approver = await signIn("boss@corp.example");
    const put = await gw.api(identities.admin.token, "PUT", "/admin/policies/org", {
      preset: "self",
      rules: [
        {
          name: "new-people-need-approval",
          when: { senderGroup: ["new"], recipientClass: ["external"] },
          then: { approve: {} },
        },
      ],
    });
    assert.equal(put.status, 200);

    const held = await gw.api<{ id: string }>(identities.user.token, "POST", "/messages", {
      to: "x@partner.example",
      subject: "held for fuzzing",
      text: "本文",
    });
    assert.equal(held.status, 202);
    const view = await gw.api<{ messageId: string; groups: { id: string }[] }>(
      identities.user.token,
      "GET",
      `/messages/${held.body.id}`,
    );
    const hanako = await gw.token("hanako@corp.example", PW);
    const pending = await gw.api<{ id: string }>(hanako, "POST", "/messages", {
      to: "client@partner.example",
      subject: "waiting for approval",
      text: "本文",
    });
    assert.equal(pending.status, 202);
    const pendingView = await gw.api<{ messageId: string }>(hanako, "GET", `/messages/${pending.body.id}`);
    const users = await gw.api<{ users: { id: number; email: string }[] }>(
      identities.admin.token,
      "GET",
      "/admin/users",
    );
    const alice = users.body.users.find((u) => u.email === "alice@corp.example");
    hold = await linkParams("alice@corp.example", view.body.messageId, "hold");
    approve = await linkParams("boss@corp.example", pendingView.body.messageId, "approve");
    known.push(
      { values: { id: String(alice?.id) }, under: "/api/v1/admin/users/" },
      { values: hold },
      { values: approve },
      { values: { id: held.body.id, group: view.body.groups[0]?.id ?? "" } },
      { values: { id: pending.body.id } },
      { values: { mid: encodeURIComponent(`<${view.body.messageId}>`) } },
      { values: { scope: "org" } },
      { values: { scope: encodeURIComponent("user:alice@corp.example") } },
      { values: { scope: encodeURIComponent("group:new") } },
      { values: { file: "manifest.xml" }, under: "/addin/outlook/" },
      { values: { file: "icon-16.png" }, under: "/addin/outlook/" },
    );
  });
  after(async () => {
    await gw?.stop();
    await sink.stop();
  });

  test("the routers' stack was read: the routes this test knows are among them", () => {
    const listed = new Set(routes.map((r) => `${r.method} ${r.path}`));
    for (const route of [
      "GET /healthz",
      "GET /hold/:id/:sig",
      "POST /approve/:id/:approver/:sig/decide",
      "POST /api/v1/messages",
      "PUT /api/v1/admin/policies/:scope",
      "GET /addin/outlook/:file",
    ]) {
      assert.ok(listed.has(route), `${route} is listed`);
    }
  });

  /** The route's path with its parameters filled: from one known set, or hostile. */
  function fill(route: Route, values: Record<string, string>): string {
    return route.path.replace(/:(\w+)/g, (_all, name: string) => values[name] ?? "x");
  }
  const probe = (
    method: string,
    path: string,
    who: Who,
    mode: AuthMode,
    extra: { headers?: Record<string, string | undefined>; body?: string } = {},
  ): Probe => {
    const headers: Record<string, string> = {
      ...authHeaders(mode, who === "anonymous" ? undefined : identities[who]),
    };
    for (const [name, value] of Object.entries(extra.headers ?? {}))
      if (value !== undefined) headers[name] = value;
    return {
      method,
      path,
      headers,
      body: extra.body,
      label: `${who}, ${mode}, ${JSON.stringify(extra.headers ?? {})}`,
    };
  };
  /** The capability links of a held message and of one waiting for approval, as route parameters. */
  let hold: Record<string, string>;
  let approve: Record<string, string>;
  const firstKnown = (route: Route) => knownFor(route)[0] ?? {};

  test("table: each route with malformed, hostile and mismatched input", async () => {
    const rows: [string, (route: Route) => Probe][] = [
      [
        "every parameter a lone %",
        (r) =>
          probe(
            r.method,
            fill(r, { id: "%", sig: "%", approver: "%", group: "%", mid: "%", scope: "%" }),
            "admin",
            "bearer",
          ),
      ],
      [
        "every parameter 3000 characters of unicode, anonymous",
        (r) =>
          probe(r.method, r.path.replace(/:\w+/g, encodeURIComponent("例".repeat(300))), "anonymous", "none"),
      ],
      [
        "real parameters, invalid JSON, session cookie with CSRF",
        (r) =>
          probe(r.method, fill(r, firstKnown(r)), "admin", "session", {
            headers: { "content-type": "application/json", "accept-language": "en" },
            body: '{"email":',
          }),
      ],
      [
        "real parameters, a 4000-deep array as the user",
        (r) =>
          probe(r.method, fill(r, firstKnown(r)), "user", "bearer", {
            headers: { "content-type": "application/json" },
            body: deep("[", "]", 4000),
          }),
      ],
      [
        "real parameters, JSON sent as text/plain, approver",
        (r) =>
          probe(r.method, fill(r, firstKnown(r)), "approver", "bearer", {
            headers: { "content-type": "text/plain" },
            body: '{"comment":"x","email":"boss@corp.example","password":"x"}',
          }),
      ],
      ["Cookie: sg_session=%", (r) => probe(r.method, fill(r, firstKnown(r)), "anonymous", "bad-cookie")],
      [
        "Authorization: Bearer junk",
        (r) =>
          probe(r.method, fill(r, firstKnown(r)), "anonymous", "junk-bearer", {
            headers: { "accept-language": "en" },
          }),
      ],
      ["Authorization: Basic", (r) => probe(r.method, fill(r, firstKnown(r)), "anonymous", "basic")],
    ];
    for (const route of routes) {
      for (const [name, make] of rows) {
        const p = make(route);
        p.label = `${name}; ${p.label}`;
        checkAnswer(p, await send(gw.ports.http, p));
      }
    }
  });

  test("table: what answered 500 before, and page errors as pages", async () => {
    const port = gw.ports.http;
    const cases: [Probe, number][] = [
      [probe("GET", "/api/v1/policy", "anonymous", "bad-cookie"), 401],
      [
        probe("GET", "/api/v1/policy", "user", "session-no-csrf", { headers: { cookie: "sg_session=%zz%" } }),
        401,
      ],
      [
        probe(
          "GET",
          `/approve/${approve.id}/${approve.approver}/${approve.sig}?done=anything`,
          "anonymous",
          "none",
        ),
        200,
      ],
      [
        probe(
          "GET",
          `/approve/${approve.id}/${approve.approver}/${approve.sig}?done=toString`,
          "anonymous",
          "none",
        ),
        200,
      ],
      [probe("POST", "/api/v1/admin/users", "admin", "bearer", { body: '{"email":"x@corp.example"}' }), 400],
      [probe("GET", "/api/v1/messages?approver=me&status=bogus", "approver", "bearer"), 400],
      [probe("GET", "/hold/%/x", "anonymous", "none"), 400],
      [probe("GET", "/hold/%/x?lang=en", "anonymous", "none"), 400],
      [probe("GET", "/approve/%zz/a/b", "anonymous", "none"), 400],
      [probe("GET", "/hold/only-one-segment", "anonymous", "none"), 404],
      [
        probe("POST", `/hold/${hold.id}/${hold.sig}/release`, "anonymous", "none", {
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: `csrf=${"x".repeat(5000)}`,
        }),
        413,
      ],
      [
        probe(
          "POST",
          `/approve/${approve.id}/${approve.approver}/${approve.sig}/decide`,
          "anonymous",
          "none",
          {
            headers: { "content-type": "application/x-www-form-urlencoded", "content-encoding": "x-junk" },
            body: "verdict=approve",
          },
        ),
        415,
      ],
    ];
    for (const [p, status] of cases) {
      const answer = await send(port, p);
      checkAnswer(p, answer);
      assert.equal(answer.status, status, `${p.method} ${p.path}: ${answer.text.slice(0, 200)}`);
    }
    const page = await send(
      port,
      probe(
        "GET",
        `/approve/${approve.id}/${approve.approver}/${approve.sig}?done=anything`,
        "anonymous",
        "none",
      ),
    );
    assert.doesNotMatch(page.text, /class="notice/, "an unknown ?done= shows no notice");
    const unauthorized = await send(
      port,
      probe("GET", "/api/v1/policy", "anonymous", "bad-cookie", { headers: { "accept-language": "en" } }),
    );
    assert.equal((JSON.parse(unauthorized.text) as { error: { code: string } }).error.code, "unauthorized");
  });

  test(`property: ${PROPERTY_RUNS} random requests over all routes`, async () => {
    const who = fc.constantFrom<Who>("anonymous", "user", "approver", "admin");
    const target = fc.oneof(
      {
        weight: 9,
        arbitrary: fc.record({
          route: fc.constantFrom(...routes),
          method: fc.option(fc.constantFrom(...METHODS), { freq: 8 }),
          known: fc.option(fc.nat(), { freq: 2 }),
          segments: fc.array(hostileSegment, { minLength: 3, maxLength: 3 }),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          path: fc.constantFrom(
            "/%",
            "/api/v1/%zz",
            "/api/v1/nope",
            "/hold/",
            "/approve/a",
            "/..%2f..%2fetc%2fpasswd",
          ),
        }),
      },
    );
    const property = fc.asyncProperty(
      target,
      queryString,
      who,
      authMode,
      contentType,
      fc.option(fc.constantFrom("gzip", "deflate", "br", "identity", "x-junk"), { freq: 8 }),
      acceptLanguage,
      forwardedFor,
      body,
      async (aim, query, caller, mode, type, encoding, language, xff, payload) => {
        let method = "GET";
        let path: string;
        if ("route" in aim) {
          const candidates = knownFor(aim.route);
          const values = aim.known === null ? {} : (candidates[aim.known % candidates.length] ?? {});
          let i = 0;
          path = aim.route.path.replace(
            /:(\w+)/g,
            (_all, name: string) => values[name] ?? (aim.segments[i++ % 3] as string),
          );
          method = aim.method ?? aim.route.method;
        } else {
          path = aim.path;
        }
        const p = probe(method, path + query, caller, mode, {
          headers: {
            "content-type": type,
            "content-encoding": encoding ?? undefined,
            "accept-language": language,
            "x-forwarded-for": xff,
          },
          body: payload,
        });
        checkAnswer(p, await send(gw.ports.http, p));
      },
    );
    const seed = process.env.HTTP_FUZZ_SEED;
    await fc.assert(property, { numRuns: PROPERTY_RUNS, ...(seed ? { seed: Number(seed) } : {}) });
  });

  test("what Node's HTTP parser refuses before the app gets the same error shape", async () => {
    const huge = probe("GET", "/api/v1/policy", "user", "bearer", {
      headers: { cookie: `padding=${"x".repeat(20_000)}` },
    });
    const answers: [Probe, Answer, number][] = [[huge, await send(gw.ports.http, huge), 431]];
    for (const bytes of [
      "BLAH /x HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /\x00 HTTP/1.1\r\n\r\n",
      "\x16\x03\x01\x00\r\n\r\n",
    ]) {
      const raw: Probe = { method: "RAW", path: "/", headers: {}, label: JSON.stringify(bytes) };
      answers.push([raw, await sendRaw(gw.ports.http, bytes), 400]);
    }
    for (const [p, answer, status] of answers) {
      checkAnswer(p, answer);
      assert.equal(answer.status, status, p.label);
    }
  });

  test("the gateway is still up and logged no unhandled error", async () => {
    assert.equal((await fetch(`${gw.httpUrl}/healthz`)).status, 200);
    const unhandled = gw.logLines.filter((l) => l.msg === "unhandled web error");
    assert.deepEqual(unhandled, []);
  });
});
