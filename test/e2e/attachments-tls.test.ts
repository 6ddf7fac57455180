// "Recipient domain offers TLS → plain, otherwise web download" through the real gateway: its TLS
// probe asks a real DNS server on loopback (tlsProbe.dnsServers) for the recipients' MX, then
// probes real SMTP servers — one offering STARTTLS with a certificate from a test CA
// (tlsProbe.ca), one without STARTTLS. Delivery itself goes to the relay sink as always.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { simpleParser } from "mailparser";
import { makeCa, makeLeaf } from "../helpers/certificates.js";
import { DnsServer } from "../helpers/dns.js";
import { deliveredCopies, noticeLink, submitHttp, uniqueId } from "../helpers/fixtures.js";
import { type TestGateway, waitFor } from "../helpers/gateway.js";
import { freePort, SmtpSink } from "../helpers/sink.js";
import { tlsCheckingGateway } from "../helpers/tls-check.js";

const PW = "correct-horse-1";
const ALICE = "alice@corp.example";
const FILE = Buffer.from("%PDF-1.7\n見積書\n".repeat(2000));

interface TlsCheck {
  domain: string;
  tls: string;
  host?: string;
  subject?: string;
  checkedAt?: string;
  summary: string;
}
interface CopyShown {
  recipients: string[];
  action: string;
  unchangedBecause?: string;
  tls?: TlsCheck[];
}

function withAttachment(messageId: string, to: string[]): string {
  return [
    `From: ${ALICE}`,
    `To: ${to.join(", ")}`,
    "Subject: TLS check",
    "Date: Fri, 04 Dec 2026 10:00:00 +0900",
    `Message-ID: <${messageId}>`,
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="b"',
    "",
    "--b",
    "Content-Type: text/plain; charset=UTF-8",
    "",
    "見積書を添付します。",
    "--b",
    'Content-Type: application/pdf; name="quote.pdf"',
    "Content-Transfer-Encoding: base64",
    'Content-Disposition: attachment; filename="quote.pdf"',
    "",
    FILE.toString("base64").replace(/.{76}/g, "$&\r\n"),
    "--b--",
    "",
  ].join("\r\n");
}

describe("attachments.unlessTls through the gateway", () => {
  const sink = new SmtpSink();
  let secure: SmtpSink;
  const plain = new SmtpSink();
  const dns = new DnsServer({
    mx: {
      "tls.example": [{ exchange: "mx.tls.example", priority: 10 }],
      "plain.example": [{ exchange: "mx.plain.example", priority: 10 }],
    },
    a: { "mx.tls.example": ["127.0.0.1"], "mx.plain.example": ["127.0.0.2"] },
  });
  let gw: TestGateway;
  let token: string;

  before(async () => {
    const ca = await makeCa("Sendguard Test CA");
    secure = new SmtpSink({ tls: await makeLeaf("mx.tls.example", ca) });
    // One probe port for every domain, as port 25 is on the Internet: two loopback addresses.
    const port = await freePort();
    await Promise.all([
      sink.start(),
      secure.start(port, "127.0.0.1"),
      plain.start(port, "127.0.0.2"),
      dns.start(),
    ]);
    ({ gw, token } = await tlsCheckingGateway({
      relayPort: sink.port,
      dns,
      port,
      ca,
      sender: ALICE,
      password: PW,
    }));
  });
  after(async () => {
    await gw.stop();
    await Promise.all([sink.stop(), secure.stop(), plain.stop(), dns.stop()]);
  });

  test("the domain whose MX verifies gets the file as it came, the other a download link; the sender sees why", async () => {
    const messageId = uniqueId("tls");
    const raw = withAttachment(messageId, ["sato@tls.example", "ito@plain.example"]);
    const id = await submitHttp(gw, token, raw);
    const copies = await deliveredCopies(sink, messageId, 2);

    const toTls =
      copies.find((m) => m.to.includes("sato@tls.example")) ?? assert.fail("no copy to tls.example");
    assert.deepEqual(toTls.to, ["sato@tls.example"]);
    assert.equal(toTls.raw.toString("utf8"), raw, "the TLS domain's copy is the message byte for byte");

    const toPlain = copies.find((m) => m.to.includes("ito@plain.example")) ?? assert.fail("no copy to plain");
    const parsed = await simpleParser(toPlain.raw);
    assert.equal(parsed.attachments.length, 0, "no file to a domain without STARTTLS");
    assert.match(parsed.text ?? "", /添付ファイル分離のお知らせ/);
    assert.match(parsed.text ?? "", /\/d\/[A-Za-z0-9_-]+/);

    // The probe asked our DNS server, MTA-STS included, and talked to both mail servers.
    for (const query of [
      "MX tls.example",
      "MX plain.example",
      "A mx.tls.example",
      "TXT _mta-sts.tls.example",
    ])
      assert.ok(dns.queries.includes(query), `${query} in ${dns.queries.join(", ")}`);
    assert.equal(secure.messages.length + plain.messages.length, 0, "a probe never sends mail");

    const notice = await waitFor(
      () => sink.to(ALICE).find((m) => m.text.includes(messageId)),
      10_000,
      "hold notice",
    );
    const holdPage = await noticeLink(notice.raw, "hold");
    for (const [lang, verified, none] of [
      [
        "en",
        /tls\.example: STARTTLS with a verified certificate \(CN=mx\.tls\.example\)/,
        /plain\.example: no STARTTLS/,
      ],
      [
        "ja",
        /tls\.example: TLS 対応 \(証明書を検証済み、CN=mx\.tls\.example\)/,
        /plain\.example: TLS 非対応/,
      ],
    ] as const) {
      const view = await fetch(`${gw.httpUrl}/api/v1/messages/${id}`, {
        headers: { authorization: `Bearer ${token}`, "accept-language": lang },
      });
      const body = (await view.json()) as { groups: { attachments: { copies: CopyShown[] } }[] };
      const shown = body.groups.flatMap((g) => g.attachments.copies);
      const passed = shown.find((c) => c.recipients.includes("sato@tls.example"));
      assert.equal(passed?.action, "pass");
      assert.equal(passed?.unchangedBecause, "tls");
      assert.deepEqual(
        passed?.tls?.map(({ domain, tls, host, subject }) => ({ domain, tls, host, subject })),
        [{ domain: "tls.example", tls: "verified", host: "mx.tls.example", subject: "CN=mx.tls.example" }],
      );
      assert.match(passed?.tls?.[0]?.summary ?? "", verified);
      assert.ok(Date.parse(passed?.tls?.[0]?.checkedAt ?? "") <= Date.now(), "when the probe ran");
      const separated = shown.find((c) => c.recipients.includes("ito@plain.example"));
      assert.equal(separated?.action, "web_download");
      assert.deepEqual(
        separated?.tls?.map(({ domain, tls, host }) => ({ domain, tls, host })),
        [{ domain: "plain.example", tls: "none", host: "mx.plain.example" }],
        "the probe result that decided the web download is kept with that copy too",
      );
      assert.match(separated?.tls?.[0]?.summary ?? "", none);

      const page = await (await fetch(`${holdPage}?lang=${lang}`)).text();
      const shownOnPage = /data-testid="attachments">(.*?)<\/dd>/s.exec(page)?.[1] ?? assert.fail(page);
      assert.match(shownOnPage, verified, "the hold page says why the file went as it came");
      assert.match(shownOnPage, none, "and why the other domain got a link");
    }
  });
});
