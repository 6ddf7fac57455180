// The sender's download API (server/src/web/downloads-api.ts) over real HTTP: view, stop (whole,
// one file, one recipient), extend within the maximum, log; and for every route, another user
// gets 404, an admin may read but not act, and nothing changes.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { DownloadLogView, DownloadPackageView } from "@sendguard/shared";
import { newToken, sha256 } from "../src/secrets.js";
import { authenticate } from "../src/web/auth.js";
import { downloadsApiRouter } from "../src/web/downloads-api.js";
import { DAY, DownloadCentre } from "./fixtures/downloads.js";
import { newUser } from "./fixtures/users.js";

describe("downloads API", () => {
  const centre = new DownloadCentre();
  const tokens: Record<string, string> = {};
  const ids: Record<string, number> = {};

  before(async () => {
    await centre.start((app, c) => {
      app.use("/api/v1", (req, res, next) => authenticate(c.store)(req, res, next));
      app.use(
        "/api/v1",
        downloadsApiRouter({ store: c.store, service: { checkExpiry: (at) => c.service.checkExpiry(at) } }),
      );
    });
    for (const [name, role] of [
      ["owner", "user"],
      ["other", "user"],
      ["admin", "admin"],
    ] as const) {
      const user = await centre.store.addUser(newUser(`${name}@corp.example`, { role }));
      ids[name] = user.id;
      tokens[name] = newToken();
      await centre.store.saveToken(sha256(tokens[name]), user.id, "api", null, Date.now() + DAY);
    }
  });
  after(() => centre.stop());

  async function api<T>(who: string, method: string, path: string, body?: unknown) {
    const res = await fetch(`${centre.url}/api/v1${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${tokens[who]}`,
        "Accept-Language": "en",
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    return {
      status: res.status,
      body: (await res.json()) as T & { error?: { code: string; message: string } },
    };
  }

  const owned = () =>
    centre.create(
      { "a.txt": "a", "b.txt": "b" },
      { ownerUserId: ids.owner ?? null, recipients: ["x@partner.example", "y@partner.example"] },
    );

  test("the owner sees the package without tokens; stops one file, one recipient, then all", async () => {
    const { packageId, links } = await owned();
    const view = await api<DownloadPackageView>("owner", "GET", `/downloads/${packageId}`);
    assert.equal(view.status, 200);
    assert.deepEqual(
      view.body.files.map((f) => f.name),
      ["a.txt", "b.txt"],
    );
    assert.equal(JSON.stringify(view.body).includes(links[0]!.token), false);
    const fileId = view.body.files[1]!.id;
    const one = await api<DownloadPackageView>("owner", "POST", `/downloads/${packageId}/stop`, { fileId });
    assert.equal(one.status, 200);
    assert.ok(one.body.files[1]!.stoppedAt);
    assert.equal(one.body.files[0]!.stoppedAt, null);
    assert.equal(one.body.stoppedAt, null);
    const rec = await api<DownloadPackageView>("owner", "POST", `/downloads/${packageId}/stop`, {
      recipient: "Y@partner.example",
    });
    assert.ok(rec.body.links[1]!.stoppedAt);
    assert.equal(rec.body.links[0]!.stoppedAt, null);
    const all = await api<DownloadPackageView>("owner", "POST", `/downloads/${packageId}/stop`);
    assert.ok(all.body.stoppedAt);
    assert.equal((await fetch(links[0]!.url)).status, 410, "the link shows it");
    const audit = await centre.store.listAudit({ limit: 10 });
    assert.equal(
      audit.filter((a) => a.action === "downloads_stopped" && a.actor === "owner@corp.example").length,
      3,
    );
  });

  test("stop refuses what is not in the package, with what was wrong", async () => {
    const { packageId } = await owned();
    const other = await owned();
    const foreignFile = (await centre.store.downloadPackage(other.packageId))!.files[0]!.id;
    for (const [body, message] of [
      [{ fileId: foreignFile }, /is not a file of this package/],
      [{ recipient: "nobody@partner.example" }, /has no link in this package/],
      [{ fileId: "x", recipient: "x@partner.example" }, /not both/],
      ["[1,2]", /send a JSON object/],
      ["{not json", /not valid JSON/],
    ] as const) {
      const r = await api("owner", "POST", `/downloads/${packageId}/stop`, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(r.body.error?.message ?? "", message);
    }
    const pkg = await centre.store.downloadPackage(packageId);
    assert.ok(pkg?.files.every((f) => f.stoppedAt === null) && pkg.stoppedAt === null);
    const untouched = await centre.store.downloadPackage(other.packageId);
    assert.ok(untouched?.files.every((f) => f.stoppedAt === null));
  });

  test("extend within the maximum; the past, beyond the maximum or garbage are refused", async () => {
    const { packageId } = await owned();
    const to = new Date(centre.clock + 20 * DAY).toISOString();
    // The service's clock is the centre's; the API checks against it.
    const ok = await api<DownloadPackageView>("owner", "POST", `/downloads/${packageId}/extend`, {
      expiresAt: to,
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.expiresAt, to);
    for (const [expiresAt, message] of [
      [new Date(centre.clock - 1000).toISOString(), /in the future/],
      [new Date(centre.clock + 40 * DAY).toISOString(), /at most 30 days ahead/],
      ["tomorrow", /ISO 8601/],
      [12345, /ISO 8601/],
    ] as const) {
      const r = await api("owner", "POST", `/downloads/${packageId}/extend`, { expiresAt });
      assert.equal(r.status, 400, String(expiresAt));
      assert.match(r.body.error?.message ?? "", message);
    }
    assert.equal((await centre.store.downloadPackage(packageId))?.expiresAt, Date.parse(to));
  });

  test("the log names time, IP, recipient, file and outcome", async () => {
    const { packageId, links } = await owned();
    const form = await (await fetch(links[0]!.url)).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(form)?.[1] ?? "";
    await fetch(`${links[0]!.url}/password`, {
      method: "POST",
      redirect: "manual",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf, password: "wrong" }),
    });
    const log = await api<DownloadLogView>("owner", "GET", `/downloads/${packageId}/log`);
    assert.equal(log.status, 200);
    assert.equal(log.body.log[0]?.outcome, "password_wrong");
    assert.equal(log.body.log[0]?.recipient, "x@partner.example");
    assert.equal(log.body.log[0]?.ip, "127.0.0.1");
    assert.ok(Date.parse(log.body.log[0]?.at ?? ""));
  });

  test("another user gets 404 on every route and changes nothing; an admin reads but cannot act", async () => {
    const { packageId } = await owned();
    const before = await centre.store.downloadPackage(packageId);
    const fileId = before!.files[0]!.id;
    const extend = { expiresAt: new Date(centre.clock + 10 * DAY).toISOString() };
    const routes: [string, string, unknown?][] = [
      ["GET", `/downloads/${packageId}`],
      ["GET", `/downloads/${packageId}/log`],
      ["POST", `/downloads/${packageId}/stop`],
      ["POST", `/downloads/${packageId}/stop`, { fileId }],
      ["POST", `/downloads/${packageId}/stop`, { recipient: "x@partner.example" }],
      ["POST", `/downloads/${packageId}/extend`, extend],
    ];
    for (const [method, path, body] of routes) {
      const r = await api("other", method, path, body);
      assert.equal(r.status, 404, `${method} ${path}`);
      assert.equal(r.body.error?.code, "not_found");
      const admin = await api("admin", method, path, body);
      assert.equal(admin.status, method === "GET" ? 200 : 403, `admin ${method} ${path}`);
    }
    assert.equal((await api("owner", "GET", "/downloads/no-such-package")).status, 404);
    const unauthenticated = await fetch(`${centre.url}/api/v1/downloads/${packageId}/stop`, {
      method: "POST",
    });
    assert.equal(unauthenticated.status, 401);
    assert.deepEqual(await centre.store.downloadPackage(packageId), before, "nothing changed");
  });
});
