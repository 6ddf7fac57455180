// "[ダウンロード通知]" end to end (policy attachments.download.notifySender): a message submitted
// over HTTP reaches two external recipients as web-download copies in a real SMTP sink; each
// recipient signs in to their link in Chromium and downloads (one of them many times at once);
// the sender gets one notice per link, in their language, naming who, when, which files and from
// which address — exactly once however many downloads ran side by side.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { simpleParser, type ParsedMail } from "mailparser";
import type { Browser, BrowserContext } from "playwright-core";
import { compose } from "../../server/test/fixtures/mime.js";
import { launchChromium } from "../helpers/browser.js";
import { uniqueId } from "../helpers/fixtures.js";
import { TestGateway, waitFor } from "../helpers/gateway.js";
import { SmtpSink } from "../helpers/sink.js";

const PW = "correct-horse-1";
const JA_SENDER = "alice@corp.example";
const EN_SENDER = "bob@corp.example";
const FILES = { "見積書.pdf": randomBytes(150_000), "memo.txt": Buffer.from("議事録\n") };

const message = (from: string, messageId: string, to: string[]) =>
  compose({
    from,
    to,
    subject: "見積書の送付",
    messageId: `<${messageId}>`,
    text: "見積書を添付します。",
    attachments: Object.entries(FILES).map(([filename, content]) => ({ filename, content })),
  });

describe("download notice to the sender", () => {
  const sink = new SmtpSink();
  let gw: TestGateway;
  let browser: Browser;

  before(async () => {
    await sink.start();
    gw = new TestGateway({ relayPort: sink.port });
    gw.addUser(JA_SENDER, PW);
    gw.addUser(EN_SENDER, PW, "--language", "en");
    gw.addUser("admin@corp.example", PW, "--role", "admin");
    await gw.start();
    const admin = await gw.token("admin@corp.example", PW);
    const set = await gw.api(admin, "PUT", "/admin/policies/org", {
      attachments: {
        download: { auth: "password", notifySender: true },
        password: { notify: "sender", delayMinutes: 0 },
      },
    });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gw.stop();
    await sink.stop();
  });

  /** The first mail to `to` whose subject starts with `tag` (and passes `also`). */
  const mailTo = (to: string, tag: string, also: (m: ParsedMail) => boolean = () => true) =>
    waitFor(
      async () => {
        for (const m of sink.to(to)) {
          const mail = await simpleParser(m.raw);
          if (mail.subject?.startsWith(tag) && also(mail)) return mail;
        }
        return undefined;
      },
      15_000,
      `${tag} to ${to}`,
    );

  async function send(from: string, to: string[]): Promise<{ id: string; links: Map<string, string> }> {
    const token = await gw.token(from, PW);
    const messageId = uniqueId("dl");
    const res = await fetch(`${gw.httpUrl}/api/v1/messages`, {
      method: "POST",
      headers: { "content-type": "message/rfc822", authorization: `Bearer ${token}` },
      body: new Uint8Array(await message(from, messageId, to)),
    });
    const answer = await res.text();
    assert.equal(res.status, 202, answer);
    const { id } = JSON.parse(answer) as { id: string };
    const links = new Map<string, string>();
    for (const recipient of to) {
      const copy = await mailTo(recipient, "見積書の送付", (m) => m.messageId === `<${messageId}>`);
      const url = /(http:\/\/\S+\/d\/[A-Za-z0-9_-]+)/.exec(copy.text ?? "")?.[1];
      links.set(recipient, url ?? assert.fail(`no link in the copy to ${recipient}`));
    }
    return { id, links };
  }

  /** Signs in to a link with the password mailed to the sender; the context holds the session. */
  async function signIn(url: string, password: string): Promise<BrowserContext> {
    const context = await browser.newContext({ locale: "ja-JP" });
    const page = await context.newPage();
    await page.goto(url);
    await page.fill("[data-testid=password]", password);
    await page.click("[data-testid=open]");
    await page.waitForSelector("[data-testid=file]");
    return context;
  }

  const noticeRows = (id: string) =>
    gw.query<{ recipient: string; status: string; data: string }>(
      "SELECT recipient, status, data FROM notices WHERE kind = 'downloaded' AND message_id = ?",
      [id],
    );

  test("one notice per link at its first download, even with eight downloads at once", async () => {
    const tanaka = "tanaka@partner.example";
    const sato = "sato@other.example";
    const sent = await send(JA_SENDER, [tanaka, sato]);
    const passwordMail = await mailTo(JA_SENDER, "[パスワード通知(自分宛)]");
    const password = /パスワード: (\S+)/.exec(passwordMail.text ?? "")?.[1] ?? assert.fail("no password");

    const context = await signIn(sent.links.get(tanaka)!, password);
    const page = context.pages()[0]!;
    const fileUrl = new URL(
      (await page.getAttribute("[data-testid=file]:first-child a", "href")) ?? assert.fail("no file link"),
      page.url(),
    ).href;
    const answers = await Promise.all(Array.from({ length: 8 }, () => context.request.get(fileUrl)));
    for (const answer of answers) {
      assert.equal(answer.status(), 200);
      assert.deepEqual(await answer.body(), FILES["見積書.pdf"], "every download is the file");
    }
    await context.close();

    const rows = await noticeRows(sent.id);
    assert.equal(rows.length, 1, "one notice queued for tanaka's link");
    assert.equal(rows[0]!.recipient, JA_SENDER);
    const notice = await mailTo(JA_SENDER, "[ダウンロード通知]");
    assert.equal(notice.subject, "[ダウンロード通知] 見積書の送付");
    const text = notice.text ?? "";
    assert.match(text, /初めてダウンロードされました/);
    assert.match(text, /ダウンロードした受信者: tanaka@partner\.example/);
    assert.match(text, /日時: \d{4}-\d{2}-\d{2} \d{2}:\d{2}/);
    assert.match(text, /接続元 IP アドレス: \S*127\.0\.0\.1/);
    assert.match(text, /ファイル:\n {2}見積書\.pdf \(146 KB\)/);
    assert.doesNotMatch(text, /memo\.txt/, "only the file downloaded is named");

    // sato's link has its own first download: all files as one ZIP.
    const other = await signIn(sent.links.get(sato)!, password);
    const zip = await other.request.get(`${sent.links.get(sato)!}/all.zip`);
    assert.equal(zip.status(), 200);
    await other.close();
    const second = await mailTo(JA_SENDER, "[ダウンロード通知]", (m) => /sato@other/.test(m.text ?? ""));
    assert.match(
      second.text ?? "",
      /ファイル \(すべてを 1 つの ZIP で\):\n {2}見積書\.pdf .*\n {2}memo\.txt/,
    );

    const sentRows = await waitFor(
      async () => {
        const all = await noticeRows(sent.id);
        return all.every((r) => r.status === "sent") ? all : undefined;
      },
      10_000,
      "both notices sent",
    );
    assert.equal(sentRows.length, 2, "two links, two notices; no more for the repeated downloads");
    const inSink = [];
    for (const m of sink.to(JA_SENDER)) {
      const mail = await simpleParser(m.raw);
      if (mail.subject?.startsWith("[ダウンロード通知]")) inSink.push(mail);
    }
    assert.equal(inSink.length, 2, "the sink received each notice once");
  });

  test("in English for a sender whose language is English", async () => {
    const recipient = "jones@partner.example";
    const sent = await send(EN_SENDER, [recipient]);
    const passwordMail = await mailTo(EN_SENDER, "[Password (to yourself)]");
    const password = /Password: (\S+)/.exec(passwordMail.text ?? "")?.[1] ?? assert.fail("no password");
    const context = await signIn(sent.links.get(recipient)!, password);
    assert.equal((await context.request.get(`${sent.links.get(recipient)!}/all.zip`)).status(), 200);
    await context.close();
    const notice = await mailTo(EN_SENDER, "[Downloaded]");
    assert.equal(notice.subject, "[Downloaded] 見積書の送付");
    assert.match(notice.text ?? "", /Downloaded by: jones@partner\.example/);
    assert.match(notice.text ?? "", /From IP address: /);
    assert.match(notice.text ?? "", /Files \(all of them as one ZIP\):/);
  });
});
