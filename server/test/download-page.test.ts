// The download centre's pages (server/src/web/download-page.ts) over real HTTP: password and
// one-time code, lockout per link and per client, CSRF, sessions, downloads of one file and of all
// (opened by Info-ZIP unzip and 7-Zip), stop, expiry, limits, hostile names and damaged files.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DAY, DownloadCentre } from "./fixtures/downloads.js";

const PASSWORD = "Right-Pass-42";

/** A browser's view of one link: its cookie, the CSRF token of its forms, and fetch without redirects. */
class Visitor {
  cookie = "";
  constructor(
    private readonly centre: DownloadCentre,
    readonly url: string,
  ) {}

  get path(): string {
    return new URL(this.url).pathname;
  }

  async get(path = "", headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${this.url}${path}`, {
      redirect: "manual",
      headers: { "Accept-Language": "ja", ...(this.cookie ? { Cookie: this.cookie } : {}), ...headers },
    });
  }

  async csrf(): Promise<string> {
    const html = await (await this.get()).text();
    return /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
  }

  async post(action: string, fields: Record<string, string>, csrf?: string): Promise<Response> {
    const body = new URLSearchParams({ ...fields, ...(csrf === undefined ? {} : { csrf }) });
    const res = await fetch(`${this.url}/${action}`, {
      method: "POST",
      redirect: "manual",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        ...(this.cookie ? { Cookie: this.cookie } : {}),
      },
      body,
    });
    const set = res.headers.get("set-cookie");
    if (set) this.cookie = set.split(";")[0] as string;
    return res;
  }

  /** The ?e= notice a POST redirected to, or "" for none. */
  static notice(res: Response): string {
    assert.equal(res.status, 303);
    return new URL(res.headers.get("location") ?? "", "http://x").searchParams.get("e") ?? "";
  }

  async signIn(password = PASSWORD): Promise<Response> {
    return this.post("password", { password }, await this.csrf());
  }
}

describe("download centre pages", () => {
  const centre = new DownloadCentre({ linkAttempts: 3, ipAttempts: 1000, lockMinutes: 15 });
  const work = mkdtempSync(join(tmpdir(), "sendguard-download-page-"));
  before(() => centre.start());
  after(async () => {
    await centre.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test("unknown, malformed and hostile tokens get a 404 page that says nothing", async () => {
    for (const token of ["A".repeat(43), "short", "..%2F..%2Fsecret.key", "%00", "x".repeat(5000)]) {
      const res = await fetch(`${centre.url}/d/${token}`);
      assert.equal(res.status, 404, token);
      assert.match(res.headers.get("content-type") ?? "", /text\/html/);
      assert.match(await res.text(), /このリンクは無効か/);
    }
    const res = await fetch(`${centre.url}/d/${"A".repeat(43)}/f/x`);
    assert.equal(res.status, 404);
  });

  test("password: the form, a wrong password, then the list with sizes and expiry, and the file byte for byte", async () => {
    const data = randomBytes(200_000);
    const { links } = await centre.create({ "見積書 2026.pdf": data, "memo.txt": "hello" });
    const v = new Visitor(centre, links[0]!.url);
    const form = await (await v.get()).text();
    assert.match(form, /type="password"/);
    assert.match(form, /client@partner\.example/);
    assert.doesNotMatch(form, /見積書/, "no file name before the password");
    assert.equal(await (await v.get("/all.zip")).status, 303, "no download without a session");
    assert.equal(Visitor.notice(await v.signIn("wrong")), "wrong_password");
    assert.match(await (await v.get("?e=wrong_password")).text(), /パスワードが正しくありません/);
    const ok = await v.signIn();
    assert.equal(Visitor.notice(ok), "");
    const cookie = ok.headers.get("set-cookie") ?? "";
    assert.match(cookie, /HttpOnly/i);
    assert.match(cookie, /SameSite=Strict/i);
    assert.match(cookie, new RegExp(`Path=${v.path}(;|$)`));
    const list = await (await v.get()).text();
    assert.match(list, /見積書 2026\.pdf/);
    assert.match(list, /195 KB/);
    assert.match(list, /有効期限: 2026-01-12 18:00/);
    const fileId = /\/f\/([A-Za-z0-9_-]+)"/.exec(list)?.[1];
    const res = await v.get(`/f/${fileId}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/octet-stream");
    assert.equal(res.headers.get("content-length"), String(data.length));
    const disposition = res.headers.get("content-disposition") ?? "";
    assert.match(
      disposition,
      /^attachment; filename="[\x20-\x7e]+"; filename\*=UTF-8''%E8%A6%8B%E7%A9%8D%E6%9B%B8%202026\.pdf$/,
    );
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(data));
  });

  test("every page in English too: ?lang=en, or the browser's Accept-Language", async () => {
    const { links } = await centre.create({ "a.txt": "a" });
    const v = new Visitor(centre, links[0]!.url);
    const form = await (await v.get("?lang=en")).text();
    assert.match(form, /<html lang="en">/);
    assert.match(form, /The password was sent to you in a separate message\./);
    assert.match(
      await (await v.get("", { "Accept-Language": "en-US,en;q=0.9" })).text(),
      /Files shared with/,
    );
    await v.signIn();
    const list = await (await v.get("?lang=en")).text();
    assert.match(list, /Available until 2026-01-\d\d/);
    assert.match(list, /Download all as ZIP/);
    const otp = await centre.create({ "b.txt": "b" }, { auth: { mode: "otp" } });
    assert.match(
      await (await fetch(`${otp.links[0]!.url}?lang=en`)).text(),
      /we will send a code to client@partner\.example/,
    );
  });

  test("download all: one ZIP that Info-ZIP and 7-Zip open, with the Japanese names and the bytes", async () => {
    const files = { "報告書.docx": randomBytes(150_000), "データ.csv": "a,b\n1,2\n", "empty.txt": "" };
    const { links } = await centre.create(files);
    const v = new Visitor(centre, links[0]!.url);
    await v.signIn();
    const res = await v.get("/all.zip");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-disposition") ?? "", /files\.zip/);
    const zip = join(work, "all.zip");
    writeFileSync(zip, Buffer.from(await res.arrayBuffer()));
    assert.match(execFileSync("unzip", ["-t", zip]).toString(), /No errors detected/);
    const out = join(work, "7z-out");
    execFileSync("7z", ["x", `-o${out}`, zip], { stdio: "pipe" });
    assert.deepEqual(readdirSync(out).sort(), Object.keys(files).sort());
    for (const [name, data] of Object.entries(files))
      assert.ok(readFileSync(join(out, name)).equals(Buffer.from(data)));
  });

  test("a session is for its own link: another link, a forged or an expired cookie gets the form", async () => {
    const { links } = await centre.create(
      { "a.txt": "a" },
      { recipients: ["a@partner.example", "b@partner.example"] },
    );
    const a = new Visitor(centre, links[0]!.url);
    await a.signIn();
    const b = new Visitor(centre, links[1]!.url);
    b.cookie = a.cookie;
    assert.match(await (await b.get()).text(), /type="password"/);
    const forged = new Visitor(centre, links[0]!.url);
    forged.cookie = `sg_download=${Date.now() + DAY}.AAAA`;
    assert.match(await (await forged.get()).text(), /type="password"/);
    centre.clock += 31 * 60_000;
    assert.match(await (await a.get()).text(), /type="password"/, "sessions last 30 minutes");
  });

  test("every POST needs the CSRF token of its link; without it nothing is counted", async () => {
    const { links } = await centre.create(
      { "a.txt": "a" },
      { recipients: ["a@partner.example", "b@partner.example"] },
    );
    const a = new Visitor(centre, links[0]!.url);
    const b = new Visitor(centre, links[1]!.url);
    assert.equal(Visitor.notice(await a.post("password", { password: PASSWORD })), "csrf");
    assert.equal(Visitor.notice(await a.post("password", { password: PASSWORD }, await b.csrf())), "csrf");
    assert.equal(a.cookie, "");
    for (let i = 0; i < 5; i++) await a.post("password", { password: "wrong" }, "bad");
    assert.equal(Visitor.notice(await a.signIn()), "", "no lockout from requests without a valid token");
  });

  test("lockout per link: the limit locks even the right password, the other recipient's link stays open", async () => {
    const { links } = await centre.create(
      { "a.txt": "a" },
      { recipients: ["a@partner.example", "b@partner.example"] },
    );
    const a = new Visitor(centre, links[0]!.url);
    assert.equal(Visitor.notice(await a.signIn("w1")), "wrong_password");
    assert.equal(Visitor.notice(await a.signIn("w2")), "wrong_password");
    const locked = await a.signIn("w3");
    assert.equal(Visitor.notice(locked), "locked");
    assert.equal(Visitor.notice(await a.signIn()), "locked");
    const page = await a.get(`?e=locked&seconds=900`);
    assert.equal(page.status, 429);
    assert.match(await page.text(), /15 分後/);
    const b = new Visitor(centre, links[1]!.url);
    assert.equal(Visitor.notice(await b.signIn()), "");
    centre.clock += 16 * 60_000;
    assert.equal(Visitor.notice(await a.signIn()), "", "open again after the lock");
  });

  test("a burst of concurrent guesses on one link: no more than the limit are checked", async () => {
    const { packageId, links } = await centre.create({ "a.txt": "a" });
    const v = new Visitor(centre, links[0]!.url);
    const csrf = await v.csrf();
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => v.post("password", { password: `guess-${i}` }, csrf)),
    );
    const notices = answers.map((r) => Visitor.notice(r));
    assert.ok(
      notices.every((n) => ["wrong_password", "locked", "busy"].includes(n)),
      notices.join(),
    );
    const checked = (await centre.store.downloadLog(packageId, 100)).filter((l) =>
      ["password_wrong", "locked"].includes(l.outcome),
    );
    assert.equal(checked.length, 3, "three checked (the third locked the link), the rest refused unchecked");
    assert.equal(Visitor.notice(await v.signIn()), "locked");
  });

  test("one-time code: sent to the link's recipient only, wrong code, resend wait, expiry, right code", async () => {
    const { links } = await centre.create(
      { "a.txt": "a" },
      { auth: { mode: "otp" }, recipients: ["x@partner.example"] },
    );
    const v = new Visitor(centre, links[0]!.url);
    const page = await (await v.get()).text();
    assert.match(page, /x@partner\.example に確認コードをお送りします/);
    assert.doesNotMatch(page, /type="password"/);
    const csrf = await v.csrf();
    assert.equal(Visitor.notice(await v.post("verify", { code: "123456" }, csrf)), "no_code");
    const before = centre.codes.length;
    assert.equal(Visitor.notice(await v.post("code", {}, csrf)), "code_sent");
    assert.equal(centre.codes.length, before + 1);
    const mail = centre.codes.at(-1)!;
    assert.equal(mail.recipient, "x@partner.example");
    assert.match(mail.code, /^\d{6}$/);
    assert.equal(Visitor.notice(await v.post("code", {}, csrf)), "resend_wait");
    assert.equal(centre.codes.length, before + 1, "no second mail within a minute");
    const wrong = mail.code === "000000" ? "000001" : "000000";
    assert.equal(Visitor.notice(await v.post("verify", { code: wrong }, csrf)), "wrong_code");
    centre.clock += 11 * 60_000;
    assert.equal(
      Visitor.notice(await v.post("verify", { code: mail.code }, csrf)),
      "no_code",
      "valid 10 minutes",
    );
    await v.post("code", {}, csrf);
    const fresh = centre.codes.at(-1)!;
    assert.equal(Visitor.notice(await v.post("verify", { code: ` ${fresh.code} ` }, csrf)), "");
    assert.match(await (await v.get()).text(), /a\.txt/);
    assert.equal(
      Visitor.notice(await v.post("verify", { code: fresh.code }, csrf)),
      "no_code",
      "one use only",
    );
  });

  test("stopped, expired, used-up links and stopped files get a 410 page; each link's first download is recorded once", async () => {
    const { packageId, links } = await centre.create(
      { "a.txt": "a", "b.txt": "b" },
      {
        maxDownloads: 2,
        notifyFirst: true,
        recipients: ["a@partner.example", "b@partner.example", "c@partner.example"],
      },
    );
    const pkg = await centre.store.downloadPackage(packageId);
    const [fileA, fileB] = pkg!.files;
    const a = new Visitor(centre, links[0]!.url);
    await a.signIn();
    const firstAt = async (i: number) =>
      (await centre.store.downloadPackage(packageId))!.links[i]!.firstDownloadAt;
    assert.equal(await firstAt(0), null);
    const started = centre.clock;
    assert.equal((await a.get(`/f/${fileA!.id}`)).status, 200);
    assert.equal(await firstAt(0), started);
    centre.clock += 60_000;
    assert.equal((await a.get("/all.zip")).status, 200);
    assert.equal(await firstAt(0), started, "the first download stays the first");
    assert.equal(await firstAt(1), null, "each link has its own");
    const used = await a.get(`/f/${fileA!.id}`);
    assert.equal(used.status, 410);
    assert.match(await used.text(), /ダウンロード回数の上限/);

    const audit = { actor: "sender@corp.example", action: "downloads_stopped" };
    await centre.store.stopDownloads(packageId, { fileId: fileB!.id }, centre.clock, audit);
    const b = new Visitor(centre, links[1]!.url);
    await b.signIn();
    assert.doesNotMatch(await (await b.get()).text(), /b\.txt/);
    assert.equal((await b.get(`/f/${fileB!.id}`)).status, 404);
    await centre.store.stopDownloads(packageId, { linkId: pkg!.links[1]!.id }, centre.clock, audit);
    assert.equal((await b.get()).status, 410);
    const c = new Visitor(centre, links[2]!.url);
    assert.equal((await c.get()).status, 200, "stopping one link leaves the others");
    centre.clock += 8 * DAY;
    const expired = await c.get();
    assert.equal(expired.status, 410);
    assert.match(await expired.text(), /有効期限/);
    await centre.store.stopDownloads(packageId, null, centre.clock, audit);
    const stopped = await c.get("?lang=en");
    assert.equal(stopped.status, 410);
    assert.match(await stopped.text(), /The sender has stopped these downloads/);
    assert.equal((await c.post("password", { password: PASSWORD }, "x")).status, 410);
  });

  test("hostile names come out harmless in the page and in Content-Disposition", async () => {
    const names = [
      "../../etc/passwd",
      "a\u0000b\r\nX-Evil: 1.txt",
      "invoice\u202Efdp.exe",
      `${"長".repeat(1000)}.pdf`,
      '"quoted";.txt',
      "<script>alert(1)</script>.html",
    ];
    const { links } = await centre.create(Object.fromEntries(names.map((n, i) => [n, `file ${i}`])));
    const v = new Visitor(centre, links[0]!.url);
    await v.signIn();
    const list = await (await v.get()).text();
    assert.doesNotMatch(list, /<script>alert/);
    assert.doesNotMatch(list, /\u202E/);
    assert.doesNotMatch(list, /\.\.\//);
    const ids = [...list.matchAll(/\/f\/([A-Za-z0-9_-]+)"/g)].map((m) => m[1]);
    assert.equal(ids.length, names.length);
    const got: string[] = [];
    for (const [i, id] of ids.entries()) {
      const res = await v.get(`/f/${id}`);
      assert.equal(res.status, 200);
      const disposition = res.headers.get("content-disposition") ?? "";
      assert.match(
        disposition,
        /^attachment; filename=("[\x20-\x7e]*"|[A-Za-z0-9!#$&+.^_`|~-]+)(; filename\*=UTF-8''[A-Za-z0-9%!#$&+.^_`|~-]+)?$/,
        disposition,
      );
      const star = /filename\*=UTF-8''(.+)$/.exec(disposition)?.[1];
      const name = star ? decodeURIComponent(star) : (/filename="?([^";]*)/.exec(disposition)?.[1] ?? "");
      // eslint-disable-next-line no-control-regex -- finding control characters is the point
      assert.doesNotMatch(name, /[\u0000-\u001f\u202e/\\]/);
      got.push(name);
      assert.equal(await res.text(), `file ${i}`);
    }
    assert.equal(got[0], "passwd");
    // Cut to what a file system takes (255 UTF-8 bytes: 3 per CJK character), extension kept.
    assert.ok(
      Buffer.byteLength(got[3]!) <= 255 && got[3]!.startsWith("長長") && got[3]!.endsWith(".pdf"),
      got[3],
    );
  });

  test("oversized, malformed and odd requests get a page, never a 500; HEAD counts no download", async () => {
    const { packageId, links } = await centre.create({ "a.txt": "a" }, { maxDownloads: 1 });
    const v = new Visitor(centre, links[0]!.url);
    const csrf = await v.csrf();
    const post = (body: string, type = "application/x-www-form-urlencoded") =>
      fetch(`${v.url}/password`, {
        method: "POST",
        redirect: "manual",
        headers: { "Content-Type": type },
        body,
      });
    const big = await post(`csrf=${csrf}&password=${"x".repeat(10_000)}`);
    assert.equal(big.status, 413);
    assert.match(big.headers.get("content-type") ?? "", /text\/html/);
    const many = await post(Array.from({ length: 50 }, (_, i) => `f${i}=1`).join("&"));
    assert.ok([303, 413].includes(many.status), String(many.status));
    assert.equal(Visitor.notice(await post(`csrf=${csrf}&password=%zz%`)), "wrong_password");
    assert.equal(
      Visitor.notice(await post(JSON.stringify({ csrf, password: "x" }), "application/json")),
      "csrf",
    );
    assert.equal(Visitor.notice(await post(`csrf=${csrf}&password[]=a&password[]=b`)), "wrong_password");
    assert.equal((await fetch(`${v.url}/nothing-here`)).status, 404);
    assert.equal((await fetch(`${v.url}/f/${"%".repeat(3)}`)).status, 400);
    await v.signIn();
    const fileId = (await centre.store.downloadPackage(packageId))!.files[0]!.id;
    const head = await fetch(`${v.url}/f/${fileId}`, { method: "HEAD", headers: { Cookie: v.cookie } });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), "1");
    assert.equal(
      (await fetch(`${v.url}/all.zip`, { method: "HEAD", headers: { Cookie: v.cookie } })).status,
      200,
    );
    assert.equal((await centre.store.downloadPackage(packageId))!.links[0]!.downloadCount, 0);
    assert.equal((await v.get(`/f/${fileId}`)).status, 200, "the one download allowed is still there");
  });

  test("a recipient who cancels a download is logged as such, not as an error, and the centre goes on", async () => {
    const { packageId, links } = await centre.create({ "big.bin": randomBytes(8 * 1024 * 1024) });
    const v = new Visitor(centre, links[0]!.url);
    await v.signIn();
    const fileId = (await centre.store.downloadPackage(packageId))!.files[0]!.id;
    const abort = new AbortController();
    const res = await fetch(`${v.url}/f/${fileId}`, { headers: { Cookie: v.cookie }, signal: abort.signal });
    const reader = res.body!.getReader();
    await reader.read();
    abort.abort();
    const cancelled = () => centre.logLines.find((l) => l.msg === "download cancelled by the client");
    for (let i = 0; i < 100 && !cancelled(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(cancelled(), JSON.stringify(centre.logLines.slice(-3)));
    assert.equal(centre.logLines.filter((l) => l.level >= 50 && l.msg === "download failed").length, 0);
    assert.equal((await v.get()).status, 200);
  });

  test("a damaged stored file is cut off, never served whole, and the log says so", async () => {
    const data = randomBytes(300_000);
    const { packageId, links } = await centre.create({ "big.bin": data });
    const pkg = await centre.store.downloadPackage(packageId);
    const stored = join(centre.vault.dir, pkg!.files[0]!.storageName);
    const sealed = readFileSync(stored);
    sealed[sealed.length - 100]! ^= 1;
    writeFileSync(stored, sealed);
    const v = new Visitor(centre, links[0]!.url);
    await v.signIn();
    const res = await v.get(`/f/${pkg!.files[0]!.id}`);
    await assert.rejects(res.arrayBuffer(), "the body breaks off");
    // The server logs after the client saw the cut: wait for it.
    for (let i = 0; i < 100 && (await centre.store.downloadLog(packageId, 1))[0]?.outcome !== "failed"; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal((await centre.store.downloadLog(packageId, 1))[0]?.outcome, "failed");
    assert.ok(
      centre.logLines.some((l) => l.level === 50 && l.msg === "download failed"),
      "a damaged file is an error",
    );
  });
});

describe("download centre: limit per client network", () => {
  const centre = new DownloadCentre({ linkAttempts: 100, ipAttempts: 3 });
  before(() => centre.start());
  after(() => centre.stop());

  test("wrong answers from one address lock it out on every link, the right password included", async () => {
    const { links } = await centre.create(
      { "a.txt": "a" },
      { recipients: ["a@p.example", "b@p.example", "c@p.example"] },
    );
    const [a, b, c] = links.map((l) => new Visitor(centre, l.url));
    assert.equal(Visitor.notice(await a!.signIn("w")), "wrong_password");
    assert.equal(Visitor.notice(await b!.signIn("w")), "wrong_password");
    assert.equal(Visitor.notice(await b!.signIn("w")), "wrong_password");
    assert.equal(Visitor.notice(await c!.signIn()), "locked");
    centre.clock += 16 * 60_000;
    assert.equal(Visitor.notice(await c!.signIn()), "");
  });
});
