// "[パスワード通知(自分宛)]" for a web download in password mode, through the real gateway into a real
// SMTP sink: every recipient has a link of their own, and the sender gets one notice for the
// message listing every recipient with the password, not one per link. The password it carries
// opens each recipient's link on the download page.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { simpleParser, type ParsedMail } from "mailparser";
import { deliveredCopies, messageWithAttachment, submitHttp, uniqueId } from "../helpers/fixtures.js";
import { TestGateway, waitFor } from "../helpers/gateway.js";
import { SmtpSink } from "../helpers/sink.js";

const PW = "correct-horse-1";
const TO = ["tanaka@partner.example", "sato@partner.example", "suzuki@other.example"];
const PDF = Buffer.concat([Buffer.from("%PDF-1.7\n"), randomBytes(20_000)]);

describe("the password to the sender, once per message", () => {
  const sink = new SmtpSink();
  let gw: TestGateway;

  before(async () => {
    await sink.start();
    gw = new TestGateway({ relayPort: sink.port });
    gw.addUser("ja@corp.example", PW, "--language", "ja");
    gw.addUser("en@corp.example", PW, "--language", "en");
    await gw.startWithOrgPolicy(
      {
        hold: { internal: 0, semiInternal: 0, external: 0 },
        attachments: {
          action: "web_download",
          download: { auth: "password" },
          password: { notify: "sender", delayMinutes: 0 },
        },
      },
      [],
      PW,
    );
  });
  after(async () => {
    await gw.stop();
    await sink.stop();
  });

  /** The sender's password notices about the message (they answer it: In-Reply-To). */
  async function noticesTo(sender: string, messageId: string): Promise<ParsedMail[]> {
    const found: ParsedMail[] = [];
    for (const m of sink.to(sender)) {
      const mail = await simpleParser(m.raw);
      if (mail.inReplyTo === `<${messageId}>`) found.push(mail);
    }
    return found;
  }

  /** Signs in to the link's download page with the password: a session cookie and the file list. */
  async function opens(url: string, password: string): Promise<boolean> {
    const page = await fetch(url);
    const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? assert.fail("no form");
    const signIn = await fetch(`${url}/password`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf, password }),
      redirect: "manual",
    });
    const cookie = signIn.headers.get("set-cookie")?.split(";")[0];
    if (signIn.status !== 303 || !cookie) return false;
    const list = await fetch(url, { headers: { cookie } });
    return (await list.text()).includes("見積書.pdf");
  }

  for (const [lang, tag, passwordLabel, recipientsLabel] of [
    ["ja", "[パスワード通知(自分宛)]", "パスワード", "宛先"],
    ["en", "[Password (to yourself)]", "Password", "To"],
  ] as const) {
    test(`${lang}: ${TO.length} links, one ${tag} listing each recipient with the password`, async () => {
      const sender = `${lang}@corp.example`;
      const token = await gw.token(sender, PW);
      const messageId = uniqueId(`self-${lang}`);
      await submitHttp(gw, token, messageWithAttachment({ from: sender, to: TO, messageId, pdf: PDF }));
      const copies = await deliveredCopies(sink, messageId, TO.length);
      const links = new Map(
        copies.map((c) => [
          c.to[0],
          /(http:\/\/\S+\/d\/[A-Za-z0-9_-]+)/.exec(c.text)?.[1]?.replace("localhost", "127.0.0.1") ??
            assert.fail("no link"),
        ]),
      );
      assert.equal(links.size, TO.length, "a link of their own for each recipient");

      const [notice] = await waitFor(
        async () => {
          const found = await noticesTo(sender, messageId);
          return found.length ? found : undefined;
        },
        15_000,
        "the password notice",
      );
      const queued = await gw.query<{ n: number }>(
        "SELECT COUNT(*) AS n FROM notices n JOIN messages m ON m.id = n.message_id WHERE m.message_id = ? AND n.kind = 'password'",
        [messageId],
      );
      assert.equal(queued[0]?.n, 1, "one password notice queued for the message");
      assert.ok(notice?.subject?.startsWith(tag), notice?.subject);
      const text = notice?.text ?? "";
      for (const address of TO) assert.match(text, new RegExp(`${recipientsLabel}.*${address}`), address);
      const passwords = [...text.matchAll(new RegExp(`${passwordLabel}: (\\S+)`, "g"))].map((m) => m[1]!);
      assert.equal(passwords.length, 1, `one password for the links made together: ${text}`);
      for (const [address, url] of links)
        assert.ok(await opens(url, passwords[0]!), `the password opens ${address}'s link`);
      assert.equal(await opens(links.get(TO[0])!, "not-the-password"), false, "a wrong one does not");
    });
  }
});
