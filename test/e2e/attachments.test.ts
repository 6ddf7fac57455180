// Attachment actions end to end: a message submitted over SMTP is delivered into a real SMTP sink
// as one copy per attachment action — colleagues get it as it came, external recipients a copy
// without the file and with their own download link (fetched in Chromium with a one-time code
// mailed to them), a partner an AES-256 ZIP that 7-Zip opens with the password mailed apart; the
// files inside an Outlook winmail.dat are stored, listed and zipped one by one.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { simpleParser } from "mailparser";
import type { Browser } from "playwright-core";
import { compose } from "../../server/test/fixtures/mime.js";
import { buildTnef } from "../../server/test/fixtures/tnef.js";
import { launchChromium } from "../helpers/browser.js";
import { deliveredCopies, messageWithAttachment, uniqueId } from "../helpers/fixtures.js";
import { TestGateway, waitFor } from "../helpers/gateway.js";
import { SmtpSink, type SunkMessage } from "../helpers/sink.js";

const PW = "correct-horse-1";
const ALICE = "alice@corp.example";
const PDF = Buffer.concat([Buffer.from("%PDF-1.7\n"), randomBytes(200_000)]);

describe("attachment actions", () => {
  const sink = new SmtpSink();
  let gw: TestGateway;
  let token: string;
  let admin: string;
  let browser: Browser;
  const work = mkdtempSync(join(tmpdir(), "sg-attach-"));

  before(async () => {
    await sink.start();
    gw = new TestGateway({ relayPort: sink.port, config: { organization: { holdMinutes: 0 } } });
    gw.addUser(ALICE, PW);
    gw.addUser("admin@corp.example", PW, "--role", "admin");
    await gw.start();
    token = await gw.token(ALICE, PW);
    admin = await gw.token("admin@corp.example", PW);
    browser = await launchChromium();
  });
  after(async () => {
    await browser.close();
    await gw.stop();
    await sink.stop();
    rmSync(work, { recursive: true, force: true });
  });

  async function send(
    messageId: string,
    to: string[],
    body: string | Buffer = messageWithAttachment({ from: ALICE, to, messageId, pdf: PDF }),
  ): Promise<void> {
    const res = await fetch(`${gw.httpUrl}/api/v1/messages`, {
      method: "POST",
      headers: { "content-type": "message/rfc822", authorization: `Bearer ${token}` },
      body: typeof body === "string" ? body : new Uint8Array(body),
    });
    assert.equal(res.status, 202, await res.text());
  }

  const copiesOf = (messageId: string, n: number) => deliveredCopies(sink, messageId, n);
  const copyTo = (copies: SunkMessage[], address: string) =>
    copies.find((m) => m.to.includes(address)) ?? assert.fail(`no copy to ${address}`);

  test("standard preset: the colleague gets the file, the external recipient a download link", async () => {
    const messageId = uniqueId("web");
    await send(messageId, ["hanako@corp.example", "tanaka@partner.example"]);
    const copies = await copiesOf(messageId, 2);
    const internal = await simpleParser(copyTo(copies, "hanako@corp.example").raw);
    assert.deepEqual(internal.attachments[0]?.content, PDF, "internal copy as it came");

    const external = await simpleParser(copyTo(copies, "tanaka@partner.example").raw);
    assert.equal(external.attachments.length, 0, "the file is not in the external copy");
    assert.match(external.text ?? "", /添付ファイル分離のお知らせ/);
    assert.match(external.text ?? "", /tanaka@partner\.example/);
    assert.match(external.text ?? "", /いつもお世話になっております/, "the body is still there");
    const url = /(http:\/\/\S+\/d\/[A-Za-z0-9_-]+)/.exec(external.text ?? "")?.[1] ?? assert.fail("no link");

    const context = await browser.newContext({ locale: "ja-JP", acceptDownloads: true });
    const page = await context.newPage();
    await page.goto(url);
    await page.click("[data-testid=send-code]");
    const code = await waitFor(
      async () => {
        for (const m of sink.messages.filter((m) => m.to.includes("tanaka@partner.example"))) {
          const mail = await simpleParser(m.raw);
          if (mail.subject?.startsWith("[確認コード]")) return /確認コード: (\d+)/.exec(mail.text ?? "")?.[1];
        }
        return undefined;
      },
      10_000,
      "code mail",
    );
    assert.ok(code, "the code mail carries the code");
    await page.fill("[data-testid=code]", code);
    await page.click("[data-testid=open]");
    await page.waitForSelector("[data-testid=file]");
    const [file] = await Promise.all([page.waitForEvent("download"), page.click("[data-testid=file] a")]);
    const saved = join(work, "dl.pdf");
    await file.saveAs(saved);
    assert.equal(file.suggestedFilename(), "見積書.pdf");
    assert.deepEqual(readFileSync(saved), PDF, "the downloaded file is the attachment byte for byte");
    await context.close();

    const view = await gw.api<{
      groups: { attachments: { action: string; copies: { action: string; downloadId?: string }[] } }[];
    }>(token, "GET", `/messages/by-message-id/${messageId}`);
    assert.equal(view.status, 200);
    const shown = JSON.stringify(view.body);
    assert.match(
      shown,
      /"action":"web_download","copies":\[\{"recipients":\["tanaka@partner\.example"\],"action":"web_download"/,
    );
    assert.match(shown, /"downloadId":"[^"]+"/, "the sender sees the download to stop or extend");
  });

  test("a rule sends one partner an AES-256 ZIP; the password goes to the sender in a mail of its own", async () => {
    const set = await gw.api(admin, "PUT", "/admin/policies/org", {
      preset: "self",
      hold: { internal: 0, semiInternal: 0, external: 0 },
      attachments: { action: "web_download", password: { notify: "sender", delayMinutes: 0 } },
      rules: [
        {
          name: "partner zip",
          when: { recipientDomain: ["zip.example"] },
          then: { attachments: { action: "encrypt_zip" } },
        },
      ],
    });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    const messageId = uniqueId("zip");
    await send(messageId, ["suzuki@zip.example"]);
    const [copy] = await copiesOf(messageId, 1);
    const parsed = await simpleParser(copy!.raw);
    assert.deepEqual(
      parsed.attachments.map((a) => a.filename),
      ["attachments.zip"],
      "one ZIP in place of the attachments",
    );
    assert.doesNotMatch(copy!.text, /Password|パスワード: /, "no password in the message itself");
    const notice = await waitFor(
      async () => {
        for (const m of sink.messages.filter((m) => m.to.includes(ALICE))) {
          const mail = await simpleParser(m.raw);
          if (mail.subject?.startsWith("[パスワード通知(自分宛)]")) return mail;
        }
        return undefined;
      },
      10_000,
      "password notice",
    );
    const noticeText = notice.text ?? "";
    const password = /パスワード: (\S+)/.exec(noticeText)?.[1] ?? assert.fail(noticeText);
    const zipPath = join(work, "a.zip");
    writeFileSync(zipPath, parsed.attachments[0]!.content);
    const listing = execFileSync("7z", ["l", "-slt", `-p${password}`, zipPath]).toString();
    assert.match(listing, /Method = AES-256/);
    const out = join(work, "unzipped");
    execFileSync("7z", ["x", `-p${password}`, `-o${out}`, zipPath], { stdio: "ignore" });
    assert.deepEqual(readFileSync(join(out, "見積書.pdf")), PDF, "7-Zip extracts the original bytes");
  });

  test("the files in a winmail.dat are stored, listed and zipped one by one", async () => {
    const inner = [
      { name: "見積書 2026年度.xlsx", data: randomBytes(40_000) },
      { name: "memo.txt", data: Buffer.from("議事録\n") },
    ];
    const winmail = buildTnef(inner);
    const messageId = uniqueId("tnef");
    const raw = await compose({
      from: ALICE,
      to: ["tanaka@partner.example", "suzuki@zip.example"],
      subject: "winmail",
      messageId: `<${messageId}>`,
      text: "Outlook から送りました。",
      attachments: [{ filename: "winmail.dat", content: winmail, contentType: "application/ms-tnef" }],
    });
    await send(messageId, ["tanaka@partner.example", "suzuki@zip.example"], raw);
    const copies = await copiesOf(messageId, 2);

    const web = await simpleParser(copyTo(copies, "tanaka@partner.example").raw);
    assert.equal(web.attachments.length, 0);
    assert.match(web.text ?? "", /見積書 2026年度\.xlsx \(39\.1 KB\)/, "the notice lists the files inside");
    assert.match(web.text ?? "", /memo\.txt \(10 B\)/);
    const view = await gw.api<{ groups: { attachments: { copies: { downloadId?: string }[] } }[] }>(
      token,
      "GET",
      `/messages/by-message-id/${messageId}`,
    );
    const downloadId = view.body.groups
      .flatMap((g) => g.attachments.copies)
      .find((c) => c.downloadId)?.downloadId;
    const pkg = await gw.api<{ files: { name: string; size: number; sha256: string }[] }>(
      token,
      "GET",
      `/downloads/${downloadId ?? assert.fail("no download")}`,
    );
    assert.equal(pkg.status, 200, "the sender reads their download through the gateway's API");
    assert.deepEqual(
      pkg.body.files.map((f) => [f.name, f.size, f.sha256]),
      inner.map((f) => [f.name, f.data.length, createHash("sha256").update(f.data).digest("hex")]),
      "the download centre holds each file, not the winmail.dat",
    );

    const zipped = await simpleParser(copyTo(copies, "suzuki@zip.example").raw);
    const zipPath = join(work, "tnef.zip");
    writeFileSync(zipPath, zipped.attachments[0]!.content);
    const listing = execFileSync("7z", ["l", "-slt", "-pnone", zipPath]).toString();
    const names = [...listing.matchAll(/^Path = (.+)$/gm)].map((m) => m[1]).slice(1);
    assert.deepEqual(names, ["見積書 2026年度.xlsx", "memo.txt"], "the ZIP holds the files inside");
  });
});
