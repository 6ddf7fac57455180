// Passwords apart from their files, through the real gateway into a real SMTP sink: the download
// centre in password mode (the recipient gets the link, then — only once that mail was delivered —
// a [パスワード通知] of its own, which opens the page in Chromium), and a ZipCrypto ZIP that
// Info-ZIP's unzip opens with the password mailed to the sender.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { simpleParser, type ParsedMail } from "mailparser";
import type { Browser } from "playwright-core";
import { launchChromium } from "../helpers/browser.js";
import { submitSmtp, uniqueId } from "../helpers/fixtures.js";
import { TestGateway, waitFor } from "../helpers/gateway.js";
import { attachment, messageHeader, multipart } from "../helpers/mime.js";
import { SmtpSink } from "../helpers/sink.js";

const PW = "correct-horse-1";
const FILES = {
  "見積書 2026年度.pdf": Buffer.concat([Buffer.from("%PDF-1.7\n"), randomBytes(150_000)]),
  "顧客一覧.csv": Buffer.from("氏名,電話\n山田太郎,03-0000-0000\n"),
};

function withFiles(from: string, to: string[], messageId: string): string {
  return multipart(
    [...messageHeader(from, to, messageId), 'Content-Type: multipart/mixed; boundary="m"'],
    [
      {
        headers: ["Content-Type: text/plain; charset=UTF-8", "Content-Transfer-Encoding: 8bit"],
        body: "資料をお送りします。",
      },
      ...Object.entries(FILES).map(([name, data]) => attachment(name, "application/octet-stream", data)),
    ],
    "m",
  ).toString("utf8");
}

describe("passwords apart from the files, through the gateway", () => {
  const sink = new SmtpSink();
  let gw: TestGateway;
  let admin: string;
  let browser: Browser;
  const work = mkdtempSync(join(tmpdir(), "sg-passwords-"));

  before(async () => {
    await sink.start();
    gw = new TestGateway({ relayPort: sink.port });
    gw.addUser("admin@corp.example", PW, "--role", "admin");
    await gw.start();
    admin = await gw.token("admin@corp.example", PW);
    const org = await gw.api(admin, "PUT", "/admin/policies/org", {
      preset: "self",
      hold: { internal: 0, semiInternal: 0, external: 0 },
    });
    assert.equal(org.status, 200, JSON.stringify(org.body));
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gw.stop();
    await sink.stop();
    rmSync(work, { recursive: true, force: true });
  });

  async function sender(email: string, policy: unknown): Promise<void> {
    // Over the API, not the CLI: on a loaded machine the fetch right after a CLI run beside the
    // gateway failed now and then ("fetch failed", as in other e2e files); the cause is not known.
    const added = await gw.api(admin, "POST", "/admin/users", { email, password: PW });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const set = await gw.api(admin, "PUT", `/admin/policies/user:${email}`, policy);
    assert.equal(set.status, 200, JSON.stringify(set.body));
  }

  /** The first mail to `address` whose decoded subject starts with `tag`, and where it is in the sink. */
  const mailTo = (address: string, tag: string) =>
    waitFor(
      async () => {
        for (const [index, m] of sink.messages.entries()) {
          if (!m.to.includes(address)) continue;
          const mail = await simpleParser(m.raw);
          if (mail.subject?.startsWith(tag)) return { index, mail, sunk: m };
        }
        return undefined;
      },
      15_000,
      `${tag} mail to ${address}`,
    );

  test("download centre, password mode: the link first, the [パスワード通知] after it was delivered; the password opens the files", async () => {
    const from = "pw@corp.example";
    await sender(from, {
      attachments: {
        action: "web_download",
        download: { auth: "password" },
        password: { notify: "recipients", delayMinutes: 0.02, length: 16 },
      },
    });
    const messageId = uniqueId("pwdl");
    const to = "kimura@partner.example";
    await submitSmtp(gw, { user: from, password: PW }, [to], withFiles(from, [to], messageId));

    const main = await waitFor(
      () => sink.messages.findIndex((m) => m.messageId === messageId) + 1,
      15_000,
      "link",
    );
    const linkMail = sink.messages[main - 1]!;
    const link = await simpleParser(linkMail.raw);
    assert.equal(link.attachments.length, 0);
    const url = /(http:\/\/\S+\/d\/[A-Za-z0-9_-]+)/.exec(link.text ?? "")?.[1] ?? assert.fail("no link");
    const notice = await mailTo(to, "[パスワード通知]");
    assert.ok(notice.index > main - 1, "the password comes after the link");
    assert.ok(linkMail.acknowledged, "and only once the link mail was delivered");
    assert.equal(notice.sunk.messageId === messageId, false, "in a message of its own");
    const password = /パスワード: (\S+)/.exec(notice.mail.text ?? "")?.[1] ?? assert.fail(notice.mail.text);
    assert.equal(password.length, 16, "as long as the policy says");
    assert.doesNotMatch(linkMail.text, new RegExp(password), "the link mail does not carry the password");
    assert.match(notice.mail.text ?? "", new RegExp(from), "the notice names the sender");

    const context = await browser.newContext({ locale: "ja-JP", acceptDownloads: true });
    const page = await context.newPage();
    await page.goto(url.replace("localhost", "127.0.0.1"));
    await page.fill("[data-testid=password]", "not-the-password");
    await page.click("[data-testid=open]");
    assert.equal(await page.textContent("[data-testid=notice]"), "パスワードが正しくありません。");
    await page.fill("[data-testid=password]", password);
    await page.click("[data-testid=open]");
    await page.waitForSelector("[data-testid=file]");
    assert.equal(await page.locator("[data-testid=file]").count(), 2);
    for (const [name, data] of Object.entries(FILES)) {
      const row = page.locator("[data-testid=file]", { hasText: name });
      const [file] = await Promise.all([page.waitForEvent("download"), row.locator("a").click()]);
      const saved = join(work, `dl-${randomBytes(4).toString("hex")}`);
      await file.saveAs(saved);
      assert.equal(file.suggestedFilename(), name);
      assert.deepEqual(readFileSync(saved), data, `${name} byte for byte`);
    }
    await context.close();
  });

  test("ZipCrypto: Info-ZIP unzip opens the ZIP with the password mailed to the sender, Japanese names intact", async () => {
    const from = "zc@corp.example";
    await sender(from, {
      attachments: {
        action: "encrypt_zip",
        zip: { encryption: "zipcrypto" },
        password: { notify: "sender", delayMinutes: 0 },
      },
    });
    const messageId = uniqueId("zipcrypto");
    const to = "mori@partner.example";
    await submitSmtp(gw, { user: from, password: PW }, [to], withFiles(from, [to], messageId));
    const copy = await waitFor(
      () => sink.messages.find((m) => m.messageId === messageId),
      15_000,
      "ZIP copy",
    );
    const parsed: ParsedMail = await simpleParser(copy.raw);
    assert.deepEqual(
      parsed.attachments.map((a) => a.filename),
      ["attachments.zip"],
    );
    const notice = await mailTo(from, "[パスワード通知(自分宛)]");
    const password = /パスワード: (\S+)/.exec(notice.mail.text ?? "")?.[1] ?? assert.fail(notice.mail.text);
    assert.doesNotMatch(copy.text, new RegExp(password), "the ZIP's mail does not carry its password");

    const zip = join(work, "zipcrypto.zip");
    writeFileSync(zip, parsed.attachments[0]!.content);
    assert.match(execFileSync("7z", ["l", "-slt", `-p${password}`, zip]).toString(), /Method = ZipCrypto/);
    const out = join(work, "unzipped");
    execFileSync("unzip", ["-q", "-P", password, "-d", out, zip], {
      env: { ...process.env, LC_ALL: "C.UTF-8" },
    });
    for (const [name, data] of Object.entries(FILES))
      assert.deepEqual(readFileSync(join(out, name)), data, `unzip extracts ${name} byte for byte`);
    assert.throws(
      () =>
        execFileSync("unzip", ["-q", "-o", "-P", "wrong", "-d", join(work, "wrong"), zip], { stdio: "pipe" }),
      "a wrong password does not open it",
    );
  });
});
