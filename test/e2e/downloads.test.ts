// The download centre in a real Chromium: password, wrong password, lockout, one-time code, stop,
// expiry, download one and all (bytes compared; the ZIP opened by 7-Zip), a Japanese file name and
// hostile ones, and a phone-sized screen. The centre runs in this process (server/test/fixtures):
// packages are made by the download service directly, as the pipeline will make them.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { DAY, DownloadCentre } from "../../server/test/fixtures/downloads.js";
import { launchChromium } from "../helpers/browser.js";

const PASSWORD = "Right-Pass-42";
const SHOTS = process.env.SENDGUARD_SCREENSHOTS ?? "/tmp/sendguard-screenshots";

describe("download centre in Chromium", () => {
  const centre = new DownloadCentre({ linkAttempts: 3, ipAttempts: 1000 });
  const work = mkdtempSync(join(tmpdir(), "sendguard-downloads-e2e-"));
  let browser: Browser;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    await centre.start();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await centre.stop();
    rmSync(work, { recursive: true, force: true });
  });

  async function open(url: string, options: { phone?: boolean } = {}): Promise<Page> {
    const context = await browser.newContext({
      locale: "ja-JP",
      acceptDownloads: true,
      ...(options.phone ? { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true } : {}),
    });
    const page = await context.newPage();
    await page.goto(url);
    return page;
  }

  async function signIn(page: Page, password = PASSWORD): Promise<void> {
    await page.fill("[data-testid=password]", password);
    await page.click("[data-testid=open]");
    await page.waitForLoadState();
  }

  /** Clicks `selector` and returns the downloaded file's suggested name and bytes. */
  async function download(page: Page, selector: string): Promise<{ name: string; bytes: Buffer }> {
    const [file] = await Promise.all([page.waitForEvent("download"), page.click(selector)]);
    const path = join(work, `dl-${randomBytes(4).toString("hex")}`);
    await file.saveAs(path);
    return { name: file.suggestedFilename(), bytes: readFileSync(path) };
  }

  test("password: a wrong one is refused, the right one lists the files; one file and all of them download intact", async () => {
    const files = {
      "見積書 2026年度.pdf": randomBytes(300_000),
      "議事録.txt": "第1回 定例会議\n",
      "data.bin": randomBytes(70_000),
    };
    const { links } = await centre.create(files);
    const page = await open(links[0]!.url);
    assert.equal(await page.textContent("h1"), "ファイルのダウンロード");
    await signIn(page, "wrong-password");
    assert.equal(await page.textContent("[data-testid=notice]"), "パスワードが正しくありません。");
    await page.screenshot({ path: `${SHOTS}/download-wrong-password.png`, fullPage: true });
    await signIn(page);
    assert.equal(await page.locator("[data-testid=file]").count(), 3);
    assert.match((await page.textContent("[data-testid=expires]")) ?? "", /有効期限: 2026-01-12/);
    await page.screenshot({ path: `${SHOTS}/download-list-ja.png`, fullPage: true });

    const one = await download(page, "[data-testid=file]:first-child [data-testid=download]");
    assert.equal(one.name, "見積書 2026年度.pdf");
    assert.ok(one.bytes.equals(files["見積書 2026年度.pdf"]));

    const all = await download(page, "[data-testid=download-all]");
    assert.equal(all.name, "files.zip");
    const zip = join(work, "all.zip");
    const out = join(work, "all");
    await import("node:fs/promises").then((fs) => fs.writeFile(zip, all.bytes));
    execFileSync("7z", ["x", `-o${out}`, zip], { stdio: "pipe" });
    assert.deepEqual(readdirSync(out).sort(), Object.keys(files).sort());
    for (const [name, data] of Object.entries(files))
      assert.ok(readFileSync(join(out, name)).equals(Buffer.from(data)), name);
    await page.context().close();
  });

  test("lockout: after three wrong passwords even the right one is refused for a while", async () => {
    const { links } = await centre.create({ "a.txt": "a" });
    const page = await open(links[0]!.url);
    for (const guess of ["guess-1", "guess-2"]) {
      await signIn(page, guess);
      assert.equal(await page.textContent("[data-testid=notice]"), "パスワードが正しくありません。");
    }
    await signIn(page, "guess-3");
    assert.match(
      (await page.textContent("[data-testid=notice]")) ?? "",
      /一時的にロックされています。15 分後/,
    );
    await signIn(page);
    assert.match((await page.textContent("[data-testid=notice]")) ?? "", /ロックされています/);
    assert.equal(await page.locator("[data-testid=file]").count(), 0);
    await page.screenshot({ path: `${SHOTS}/download-locked.png`, fullPage: true });
    await page.context().close();
  });

  test("one-time code: mailed to the recipient, then the files; on a phone-sized screen", async () => {
    const { links } = await centre.create(
      { "契約書.docx": randomBytes(10_000) },
      { auth: { mode: "otp" }, recipients: ["tanaka@partner.example"] },
    );
    const page = await open(links[0]!.url, { phone: true });
    assert.match(
      (await page.textContent("body")) ?? "",
      /tanaka@partner\.example に確認コードをお送りします/,
    );
    await page.click("[data-testid=send-code]");
    await page.waitForSelector("[data-testid=notice]");
    assert.match(
      (await page.textContent("[data-testid=notice]")) ?? "",
      /確認コードを送信しました。10 分以内/,
    );
    const mail = centre.codes.at(-1)!;
    assert.equal(mail.recipient, "tanaka@partner.example");
    await page.screenshot({ path: `${SHOTS}/download-code-phone.png`, fullPage: true });
    await page.fill("[data-testid=code]", mail.code);
    await page.click("[data-testid=open]");
    await page.waitForSelector("[data-testid=file]");
    assert.match((await page.textContent("[data-testid=file]")) ?? "", /契約書\.docx/);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
    await page.screenshot({ path: `${SHOTS}/download-list-phone.png`, fullPage: true });
    await page.context().close();
  });

  test("stop and expiry: the open page shows why on its next load, and the file no longer downloads", async () => {
    const stopped = await centre.create({ "a.txt": "a" });
    const page = await open(stopped.links[0]!.url);
    await signIn(page);
    const fileHref = await page.getAttribute("[data-testid=download]", "href");
    await centre.store.stopDownloads(stopped.packageId, null, centre.clock, {
      actor: "s",
      action: "downloads_stopped",
    });
    const res = await page.reload();
    assert.equal(res?.status(), 410);
    assert.equal(
      await page.textContent("[data-testid=ended]"),
      "このダウンロードは送信者によって停止されました。",
    );
    await page.screenshot({ path: `${SHOTS}/download-stopped.png`, fullPage: true });
    const direct = await page.goto(new URL(fileHref ?? "", stopped.links[0]!.url).href);
    assert.equal(direct?.status(), 410);

    const expiring = await centre.create({ "b.txt": "b" }, { expiresAt: centre.clock + DAY });
    await page.goto(expiring.links[0]!.url);
    await signIn(page);
    assert.equal(await page.locator("[data-testid=file]").count(), 1);
    centre.clock += DAY;
    assert.equal((await page.reload())?.status(), 410);
    assert.match(
      (await page.textContent("[data-testid=ended]")) ?? "",
      /有効期限 \(2026-01-\d\d \d\d:\d\d \(\+09:00\)\) が過ぎました/,
    );
    await page.context().close();
  });

  test("hostile names: shown as text, saved under harmless names", async () => {
    const hostile = [
      "../../../etc/passwd",
      "nul\u0000byte\u0007.txt",
      "report\u202Efdp.exe",
      `${"あ".repeat(1000)}.txt`,
      "<img src=x onerror=alert(1)>.html",
    ];
    const { links } = await centre.create(Object.fromEntries(hostile.map((n, i) => [n, `content ${i}`])));
    const page = await open(links[0]!.url);
    let dialogs = 0;
    page.on("dialog", (d) => {
      dialogs++;
      void d.dismiss();
    });
    await signIn(page);
    const shown = await page.locator("[data-testid=file] .name").allTextContents();
    assert.equal(shown.length, hostile.length);
    assert.equal(await page.locator("img").count(), 0, "no markup from a name");
    // eslint-disable-next-line no-control-regex -- finding control characters is the point
    for (const name of shown) assert.doesNotMatch(name, /[\u0000-\u001f\u202e/\\]/);
    const saved: string[] = [];
    for (let i = 1; i <= hostile.length; i++) {
      const file = await download(page, `[data-testid=file]:nth-child(${i}) [data-testid=download]`);
      assert.equal(file.bytes.toString(), `content ${i - 1}`);
      saved.push(file.name);
    }
    assert.equal(saved[0], "passwd");
    assert.equal(saved[1], "nulbyte.txt");
    assert.equal(saved[2], "reportfdp.exe", "the override is gone: the real extension shows");
    assert.ok(Array.from(saved[3]!).length <= 200);
    // eslint-disable-next-line no-control-regex -- finding control characters is the point
    for (const name of saved) assert.doesNotMatch(name, /[/\\\u0000-\u001f\u202e]/);
    assert.equal(dialogs, 0);
    await page.screenshot({ path: `${SHOTS}/download-hostile-names.png`, fullPage: true });
    await page.context().close();
  });
});
