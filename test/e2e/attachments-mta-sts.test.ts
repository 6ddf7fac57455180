// MTA-STS through the real gateway, under "recipient domain offers TLS → plain, otherwise web
// download" (attachments.unlessTls "verified"). Each recipient domain publishes a _mta-sts TXT
// record on a real DNS server on loopback (tlsProbe.dnsServers) and its policy file on a real
// HTTPS server with a certificate from the test CA (tlsProbe.ca, tlsProbe.mtaStsPort); the probe
// then asks real SMTP servers for STARTTLS. Delivery itself goes to the relay sink as always.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { simpleParser } from "mailparser";
import { makeCa, makeLeaf } from "../helpers/certificates.js";
import { DnsServer } from "../helpers/dns.js";
import {
  deliveredCopies,
  messageWithAttachment,
  noticeLink,
  submitHttp,
  uniqueId,
} from "../helpers/fixtures.js";
import { type TestGateway, waitFor } from "../helpers/gateway.js";
import { MtaStsServer, policyFile } from "../helpers/mta-sts.js";
import { freePort, SmtpSink } from "../helpers/sink.js";
import { tlsCheckingGateway } from "../helpers/tls-check.js";

const PW = "correct-horse-1";
const ALICE = "alice@corp.example";
const PDF = Buffer.from("%PDF-1.7\n見積書\n".repeat(2000));
/** A hosting provider's MX, shared by most domains here; its certificate verifies. */
const HOSTED = "mx.hosting.example";
/** An MX whose certificate nobody signed. */
const SELF_SIGNED = "mx.selfsigned.example";

/** Per domain: its MX, its policy file (null: published in DNS, but the file cannot be fetched), and what the sender must read. */
const DOMAINS = {
  "enforce.example": {
    mx: HOSTED,
    policy: policyFile("enforce", ["*.hosting.example"]),
    action: "pass",
    tls: "verified",
    en: /STARTTLS with a verified certificate \(CN=mx\.hosting\.example\); MTA-STS: enforce/,
    ja: /TLS 対応 \(証明書を検証済み、CN=mx\.hosting\.example\); MTA-STS: enforce/,
  },
  "unlisted.example": {
    mx: HOSTED,
    policy: policyFile("enforce", ["mx.unlisted.example"]),
    action: "web_download",
    tls: "offered",
    en: /valid certificate \(CN=mx\.hosting\.example\), not counted as verified; mx\.hosting\.example is not listed in the MTA-STS policy \(enforce\)/,
    ja: /証明書は有効、CN=mx\.hosting\.example\)、ただし検証済みとはみなしません; mx\.hosting\.example は MTA-STS ポリシー \(enforce\) に含まれていません/,
  },
  "badcert.example": {
    mx: SELF_SIGNED,
    policy: policyFile("enforce", [SELF_SIGNED]),
    action: "web_download",
    tls: "offered",
    en: /STARTTLS, but the certificate does not verify.*; MTA-STS: enforce/,
    ja: /証明書を検証できません.*; MTA-STS: enforce/,
  },
  "testing.example": {
    mx: HOSTED,
    policy: policyFile("testing", ["mx.testing.example"]),
    action: "pass",
    tls: "verified",
    en: /verified certificate .*; mx\.hosting\.example is not listed in the MTA-STS policy \(testing\)/,
    ja: /証明書を検証済み.*; mx\.hosting\.example は MTA-STS ポリシー \(testing\) に含まれていません/,
  },
  "none.example": {
    mx: HOSTED,
    policy: policyFile("none", []),
    action: "pass",
    tls: "verified",
    en: /verified certificate .*; MTA-STS: none$/,
    ja: /証明書を検証済み.*; MTA-STS: none$/,
  },
  "broken.example": {
    mx: HOSTED,
    policy: null,
    action: "pass",
    tls: "verified",
    en: /verified certificate .*; the MTA-STS policy could not be loaded/,
    ja: /証明書を検証済み.*; MTA-STS ポリシーを読み込めませんでした/,
  },
} as const;
type Domain = keyof typeof DOMAINS;
const recipient = (domain: string) => `info@${domain}`;
const NAMES = Object.keys(DOMAINS) as Domain[];

interface CopyShown {
  recipients: string[];
  action: string;
  tls?: {
    domain: string;
    tls: string;
    mtaSts?: { mode: string; mxMatches: boolean; error?: string };
    summary: string;
  }[];
}

describe("MTA-STS through the gateway's TLS check", () => {
  const sink = new SmtpSink();
  let hosted: SmtpSink;
  let selfSigned: SmtpSink;
  let policies: MtaStsServer;
  const dns = new DnsServer({
    mx: Object.fromEntries(NAMES.map((d) => [d, [{ exchange: DOMAINS[d].mx, priority: 10 }]])),
    a: {
      [HOSTED]: ["127.0.0.1"],
      [SELF_SIGNED]: ["127.0.0.2"],
      ...Object.fromEntries(NAMES.map((d) => [`mta-sts.${d}`, ["127.0.0.1"]])),
    },
    txt: Object.fromEntries(NAMES.map((d) => [`_mta-sts.${d}`, [`v=STSv1; id=20261204${d.length}`]])),
  });
  let gw: TestGateway;
  let token: string;

  before(async () => {
    const ca = await makeCa("Sendguard Test CA");
    hosted = new SmtpSink({ tls: await makeLeaf(HOSTED, ca) });
    selfSigned = new SmtpSink({ tls: await makeLeaf(SELF_SIGNED, null) });
    policies = new MtaStsServer(Object.fromEntries(NAMES.map((d) => [d, DOMAINS[d].policy])), ca);
    const port = await freePort();
    await Promise.all([
      sink.start(),
      hosted.start(port, "127.0.0.1"),
      selfSigned.start(port, "127.0.0.2"),
      policies.start(),
      dns.start(),
    ]);
    ({ gw, token } = await tlsCheckingGateway({
      relayPort: sink.port,
      dns,
      port,
      ca,
      mtaStsPort: policies.port,
      sender: ALICE,
      password: PW,
    }));
  });
  after(async () => {
    await gw.stop();
    await Promise.all([sink.stop(), hosted.stop(), selfSigned.stop(), policies.stop(), dns.stop()]);
  });

  test("enforce with a listed MX and a verified certificate goes plain; an unlisted MX or a bad certificate gets a link; testing, none and a failed fetch leave the probe's answer", async () => {
    const messageId = uniqueId("mta-sts");
    const to = NAMES.map(recipient);
    // Dated, so that the gateway adds nothing to the copy that goes as it came.
    const raw = `Date: Fri, 04 Dec 2026 10:00:00 +0900\r\n${messageWithAttachment({ from: ALICE, to, messageId, pdf: PDF })}`;
    const id = await submitHttp(gw, token, raw);
    const plainTo = NAMES.filter((d) => DOMAINS[d].action === "pass").map(recipient);
    const linkTo = NAMES.filter((d) => DOMAINS[d].action === "web_download").map(recipient);
    // One copy as it came for every exempt domain, one with its own link per other recipient.
    const copies = await deliveredCopies(sink, messageId, 1 + linkTo.length);

    const plain = copies.find((m) => m.to.includes(plainTo[0] ?? "")) ?? assert.fail("no plain copy");
    assert.deepEqual([...plain.to].sort(), [...plainTo].sort());
    assert.equal(plain.raw.toString("utf8"), raw, "the exempt domains' copy is the message byte for byte");
    for (const address of linkTo) {
      const copy = copies.find((m) => m.to.includes(address)) ?? assert.fail(`no copy to ${address}`);
      assert.deepEqual(copy.to, [address]);
      const parsed = await simpleParser(copy.raw);
      assert.equal(parsed.attachments.length, 0, `${address}: no file`);
      assert.match(parsed.text ?? "", /\/d\/[A-Za-z0-9_-]+/, `${address}: a download link`);
    }

    // Each domain's TXT record was asked of our DNS server, and each policy file of our HTTPS server.
    for (const d of NAMES) {
      assert.ok(dns.queries.includes(`TXT _mta-sts.${d}`), `TXT _mta-sts.${d} in ${dns.queries.join(", ")}`);
      assert.ok(dns.queries.includes(`A mta-sts.${d}`), `A mta-sts.${d} asked of the probe's DNS server`);
      assert.ok(
        policies.requests.includes(`mta-sts.${d} /.well-known/mta-sts.txt`),
        `the policy of ${d} fetched: ${policies.requests.join(", ")}`,
      );
    }
    assert.equal(hosted.messages.length + selfSigned.messages.length, 0, "a probe never sends mail");

    const notice = await waitFor(
      () => sink.to(ALICE).find((m) => m.text.includes(messageId)),
      10_000,
      "hold notice",
    );
    const holdPage = await noticeLink(notice.raw, "hold");
    for (const lang of ["en", "ja"] as const) {
      const view = await fetch(`${gw.httpUrl}/api/v1/messages/${id}`, {
        headers: { authorization: `Bearer ${token}`, "accept-language": lang },
      });
      const body = (await view.json()) as { groups: { attachments: { copies: CopyShown[] } }[] };
      const shown = body.groups.flatMap((g) => g.attachments.copies);
      const page = await (await fetch(`${holdPage}?lang=${lang}`)).text();
      const onPage = /data-testid="attachments">(.*?)<\/dd>/s.exec(page)?.[1] ?? assert.fail(page);
      for (const d of NAMES) {
        const expected = DOMAINS[d];
        const copy = shown.find((c) => c.recipients.includes(recipient(d)));
        assert.equal(copy?.action, expected.action, `${d}: ${JSON.stringify(copy)}`);
        const check = copy?.tls?.find((c) => c.domain === d) ?? assert.fail(`${d}: no TLS check kept`);
        assert.equal(check.tls, expected.tls, `${d}: ${JSON.stringify(check)}`);
        assert.ok(check.mtaSts, `${d}: the MTA-STS result is kept with the copy`);
        assert.match(check.summary, expected[lang], `${d} (${lang})`);
        const line =
          onPage.split(/<[^>]+>/).find((l) => l.trim().startsWith(`${d}:`)) ??
          assert.fail(`${d} not on the hold page`);
        assert.match(
          line.replace(/&#39;|&quot;|&amp;/g, ""),
          expected[lang],
          `${d} on the hold page (${lang})`,
        );
      }
    }
  });
});
