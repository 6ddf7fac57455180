// S/MIME-signed mail through the gateway: its attachments cannot be converted (the signature would
// break), so attachments.signedMessages decides at intake — refused with a clear reason, passed
// as it is, or sent for approval as it is — and a signed mail with nothing to convert is simply
// delivered, its signed part byte for byte.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { simpleParser } from "mailparser";
import { uniqueId } from "../helpers/fixtures.js";
import { TestGateway, waitFor } from "../helpers/gateway.js";
import { SmtpSink } from "../helpers/sink.js";

const PW = "correct-horse-1";
const PDF = Buffer.concat([Buffer.from("%PDF-1.7\n"), randomBytes(20_000)]);
const base64 = (data: Buffer) => data.toString("base64").replace(/.{76}/g, "$&\r\n");

/** A multipart/signed message as an S/MIME client writes it, with or without a PDF inside. */
function signedMessage(
  from: string,
  to: string,
  messageId: string,
  withPdf: boolean,
): { raw: string; body: string } {
  const inner = withPdf
    ? [
        'Content-Type: multipart/mixed; boundary="mix"',
        "",
        "--mix",
        "Content-Type: text/plain; charset=UTF-8",
        "",
        "署名付きで見積書をお送りします。",
        "--mix",
        'Content-Type: application/pdf; name="quote.pdf"',
        'Content-Disposition: attachment; filename="quote.pdf"',
        "Content-Transfer-Encoding: base64",
        "",
        base64(PDF),
        "--mix--",
      ]
    : ["Content-Type: text/plain; charset=UTF-8", "", "署名付きのご挨拶です。"];
  const body = [
    "--sig",
    ...inner,
    "--sig",
    'Content-Type: application/pkcs7-signature; name="smime.p7s"',
    'Content-Disposition: attachment; filename="smime.p7s"',
    "Content-Transfer-Encoding: base64",
    "",
    base64(randomBytes(600)),
    "--sig--",
    "",
  ].join("\r\n");
  const header = [
    `From: ${from}`,
    `To: ${to}`,
    "Subject: signed",
    `Message-ID: <${messageId}>`,
    "MIME-Version: 1.0",
    'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="sig"',
  ].join("\r\n");
  return { raw: `${header}\r\n\r\n${body}`, body };
}

describe("signed and encrypted mail", () => {
  const sink = new SmtpSink();
  let gw: TestGateway;
  let admin: string;

  before(async () => {
    await sink.start();
    gw = new TestGateway({ relayPort: sink.port, config: { organization: { holdMinutes: 0 } } });
    gw.addUser("admin@corp.example", PW, "--role", "admin");
    gw.addUser("boss@corp.example", PW, "--role", "admin");
    for (const name of ["strict", "plain", "passer", "asker"]) gw.addUser(`${name}@corp.example`, PW);
    await gw.start();
    admin = await gw.token("admin@corp.example", PW);
    const policy = (name: string, signedMessages: string) =>
      gw.api(admin, "PUT", `/admin/policies/user:${name}@corp.example`, {
        attachments: { signedMessages },
        approval: { approvers: ["boss@corp.example"] },
      });
    for (const [name, setting] of [
      ["passer", "pass"],
      ["asker", "approval"],
    ] as const) {
      const set = await policy(name, setting);
      assert.equal(set.status, 200, JSON.stringify(set.body));
    }
  });
  after(async () => {
    await gw.stop();
    await sink.stop();
  });

  async function submit(user: string, withPdf: boolean) {
    const from = `${user}@corp.example`;
    const messageId = uniqueId("signed");
    const message = signedMessage(from, "client@partner.example", messageId, withPdf);
    const res = await fetch(`${gw.httpUrl}/api/v1/messages`, {
      method: "POST",
      headers: {
        "content-type": "message/rfc822",
        authorization: `Bearer ${await gw.token(from, PW)}`,
        "accept-language": "ja",
      },
      body: message.raw,
    });
    return { res, json: (await res.json()) as Record<string, unknown>, messageId, body: message.body, from };
  }

  const deliveredBody = async (messageId: string) => {
    const copy = await waitFor(
      () => sink.messages.find((m) => m.messageId === messageId),
      15_000,
      `delivery of ${messageId}`,
    );
    return copy.raw.subarray(copy.raw.indexOf("\r\n\r\n") + 4).toString("utf8");
  };

  test("the standard preset refuses a signed message whose attachment would be converted, saying why", async () => {
    const { res, json, messageId, from } = await submit("strict", true);
    assert.equal(res.status, 422);
    const error = json.error as { code: string; rule: string; message: string };
    assert.equal(error.code, "rejected");
    assert.equal(error.rule, "attachments.signedMessages");
    assert.match(error.message, /署名または暗号化されたメール/);
    assert.match(error.message, /添付ファイルを外すか/);
    const notice = await waitFor(
      () => sink.messages.find((m) => m.to.includes(from) && m.text.includes(messageId)),
      15_000,
      "the reject notice",
    );
    assert.match((await simpleParser(notice.raw)).text ?? "", /attachments\.signedMessages/);
    assert.equal(sink.messages.filter((m) => m.messageId === messageId).length, 0, "nothing delivered");
  });

  test("a signed message with nothing to convert goes as it is, its signed part byte for byte", async () => {
    const { res, json, messageId, body } = await submit("plain", false);
    assert.equal(res.status, 202, JSON.stringify(json));
    const groups = json.groups as { attachments: { action: string } }[];
    assert.deepEqual(
      groups.map((g) => g.attachments.action),
      ["pass"],
      "the plan says what will happen: nothing",
    );
    assert.equal(await deliveredBody(messageId), body);
  });

  test("signedMessages: pass — the attachment goes inside the signed message, unchanged", async () => {
    const { res, json, messageId, body } = await submit("passer", true);
    assert.equal(res.status, 202, JSON.stringify(json));
    assert.deepEqual(
      (json.groups as { attachments: { action: string } }[]).map((g) => g.attachments.action),
      ["pass"],
    );
    assert.equal(await deliveredBody(messageId), body);
  });

  test("signedMessages: approval — it waits for the approver and then goes as it is", async () => {
    const { res, json, messageId, body } = await submit("asker", true);
    assert.equal(res.status, 202, JSON.stringify(json));
    assert.equal(json.status, "pending_approval");
    const boss = await gw.token("boss@corp.example", PW);
    const approved = await gw.api(boss, "POST", `/messages/${String(json.id)}/approve`, {});
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(await deliveredBody(messageId), body);
  });
});
