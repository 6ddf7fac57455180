// The attachment policies end to end, through SMTP (nodemailer, swaks) and HTTP into a
// real SMTP sink: Japanese legacy charsets kept by the web-download notice; one message in three
// variants (internal as it came, one partner an encrypted ZIP, other externals a download link),
// each DKIM-signed; password-protected attachments refused or passed by rule; 2 MB and more by
// web download. What must be untouched is compared byte for byte with what was sent.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { simpleParser } from "mailparser";
import { encodeIso2022Jp, encodeShiftJis } from "../../server/test/fixtures/japanese.js";
import { bodyText, deliveredCopies, submitSmtp, uniqueId } from "../helpers/fixtures.js";
import { TestGateway, waitFor } from "../helpers/gateway.js";
import { firstSignature, keygenTxt, unsigned } from "../helpers/dkim.js";
import { attachment, messageHeader, multipart, nested, type Part } from "../helpers/mime.js";
import { SmtpSink, type SunkMessage } from "../helpers/sink.js";
import { swaks } from "../helpers/swaks.js";

const PW = "correct-horse-1";
const PDF = Buffer.concat([Buffer.from("%PDF-1.7\n"), randomBytes(120_000)]);
const NOTICE = /添付ファイル分離のお知らせ/;

describe("attachment policies through the gateway", () => {
  const sink = new SmtpSink();
  let gw: TestGateway;
  let admin: string;
  let dkimTxt: string;
  const work = mkdtempSync(join(tmpdir(), "sg-variants-"));

  before(async () => {
    await sink.start();
    gw = new TestGateway({ relayPort: sink.port });
    gw.addUser("admin@corp.example", PW, "--role", "admin");
    const keygen = gw.cli(["dkim", "keygen", "corp.example", "--selector", "test"]);
    assert.equal(keygen.status, 0, keygen.stderr);
    dkimTxt = keygenTxt(keygen.stdout);
    await gw.start();
    admin = await gw.token("admin@corp.example", PW);
    const org = await gw.api(admin, "PUT", "/admin/policies/org", {
      preset: "self",
      hold: { internal: 0, semiInternal: 0, external: 0 },
      attachments: { action: "web_download", password: { notify: "sender", delayMinutes: 0 } },
    });
    assert.equal(org.status, 200, JSON.stringify(org.body));
  });
  after(async () => {
    await gw.stop();
    await sink.stop();
    rmSync(work, { recursive: true, force: true });
  });

  async function sender(email: string, policy: unknown = null): Promise<string> {
    // Over the API, not the CLI: on a loaded machine the fetch right after a CLI run beside the
    // gateway failed now and then ("fetch failed", as in other e2e files); the cause is not known.
    const added = await gw.api(admin, "POST", "/admin/users", { email, password: PW });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    if (policy) {
      const set = await gw.api(admin, "PUT", `/admin/policies/user:${email}`, policy);
      assert.equal(set.status, 200, JSON.stringify(set.body));
    }
    return email;
  }

  const copiesOf = (messageId: string, n: number) => deliveredCopies(sink, messageId, n);
  const copyTo = (copies: SunkMessage[], address: string): SunkMessage => {
    const found = copies.filter((m) => m.to.includes(address));
    assert.equal(found.length, 1, `one copy to ${address}`);
    assert.deepEqual(found[0]!.to, [address], `the copy to ${address} goes to it alone`);
    return found[0]!;
  };
  const dkimPasses = async (copy: SunkMessage) => {
    const signature = await firstSignature(copy.raw, {
      name: "test._domainkey.corp.example",
      value: dkimTxt,
    });
    assert.equal(signature?.status.result, "pass", JSON.stringify(signature?.status));
    assert.equal(signature?.signingDomain, "corp.example");
  };
  const asBytes = (part: Part) =>
    Buffer.concat([Buffer.from(`${part.headers.join("\r\n")}\r\n\r\n`), Buffer.from(part.body)]);
  /** Where `needle` is in `copy` (asserting it is there at all). */
  const bytesIn = (copy: SunkMessage, needle: Buffer, what: string): number => {
    const at = copy.raw.indexOf(needle);
    assert.ok(at >= 0, `${what} is in the copy byte for byte`);
    return at;
  };

  for (const [charset, encode, transfer] of [
    ["ISO-2022-JP", encodeIso2022Jp, "7bit"],
    ["Shift_JIS", encodeShiftJis, "8bit"],
  ] as const) {
    test(`a ${charset} text body gets its web-download notice in ${charset}; the rest is byte for byte`, async () => {
      const from = await sender(`${charset.toLowerCase().replace(/[^a-z0-9]/g, "")}@corp.example`);
      const to = "kobayashi@partner.example";
      const messageId = uniqueId(charset);
      const body = encode("いつもお世話になっております。\r\n見積書をお送りします。\r\n");
      const textPart: Part = {
        headers: [`Content-Type: text/plain; charset=${charset}`, `Content-Transfer-Encoding: ${transfer}`],
        body,
      };
      const header = [...messageHeader(from, [to], messageId), 'Content-Type: multipart/mixed; boundary="j"'];
      const raw = multipart(header, [textPart, attachment("見積書.pdf", "application/pdf", PDF)], "j");
      await submitSmtp(gw, { user: from, password: PW }, [to], raw);

      const [copy] = await copiesOf(messageId, 1);
      const sent = unsigned(copy!.raw);
      const head = multipart(header, [], "j").subarray(0, -`--j--\r\n`.length);
      assert.deepEqual(sent.subarray(0, head.length), head, "the message header as it came");
      const partHead = Buffer.from(`--j\r\n${textPart.headers.join("\r\n")}\r\n\r\n`);
      const partStart = bytesIn(copy!, partHead, "the text part's header, charset and all");
      const bodyStart = partStart + partHead.length;
      const bodyEnd = bytesIn(copy!, body, "the original text") + body.length;
      // The WHATWG decoders (ICU), not the gateway's own iconv-lite / encoding-japanese.
      const decoded = new TextDecoder(charset, { fatal: true }).decode(
        copy!.raw.subarray(bodyStart, bodyEnd),
      );
      assert.match(decoded, NOTICE, `the notice reads in ${charset}`);
      assert.match(decoded, /kobayashi@partner\.example/);
      assert.match(decoded, /\/d\/[A-Za-z0-9_-]+/);
      assert.ok(decoded.endsWith("見積書をお送りします。\r\n"), "the body follows the notice as written");
      assert.ok(!copy!.raw.includes(PDF.subarray(0, 57).toString("base64")), "the file is not in the copy");
      await dkimPasses(copy!);
    });
  }

  test("one message, three variants: colleague as it came, one partner an encrypted ZIP, other externals a link with the inline image kept", async () => {
    const from = await sender("mixed@corp.example", {
      rules: [
        {
          name: "partner zip",
          when: { recipientAddress: ["yamada@zip.example"] },
          then: { attachments: { action: "encrypt_zip" } },
        },
      ],
    });
    const [colleague, partner, external] = [
      "hanako@corp.example",
      "yamada@zip.example",
      "ito@partner.example",
    ];
    const messageId = uniqueId("mixed");
    const logo = Buffer.concat([Buffer.from("89504e470d0a1a0a", "hex"), randomBytes(3000)]);
    const image: Part = {
      headers: [
        'Content-Type: image/png; name="logo.png"',
        "Content-Transfer-Encoding: base64",
        "Content-ID: <logo@corp.example>",
        'Content-Disposition: inline; filename="logo.png"',
      ],
      body: logo.toString("base64").replace(/.{76}/g, "$&\r\n"),
    };
    const html =
      '<html><head></head><body><p>ロゴをご覧ください。</p><img src="cid:logo@corp.example"></body></html>';
    const related = nested(
      "multipart/related",
      [
        nested(
          "multipart/alternative",
          [
            {
              headers: ["Content-Type: text/plain; charset=UTF-8", "Content-Transfer-Encoding: 8bit"],
              body: "ロゴをご覧ください。",
            },
            {
              headers: ["Content-Type: text/html; charset=UTF-8", "Content-Transfer-Encoding: 8bit"],
              body: html,
            },
          ],
          "alt",
        ),
        image,
      ],
      "rel",
    );
    const raw = multipart(
      [
        ...messageHeader(from, [colleague, partner, external], messageId),
        'Content-Type: multipart/mixed; boundary="mix"',
      ],
      [related, attachment("見積書.pdf", "application/pdf", PDF)],
      "mix",
    );
    const token = await gw.token(from, PW);
    const res = await fetch(`${gw.httpUrl}/api/v1/messages`, {
      method: "POST",
      headers: { "content-type": "message/rfc822", authorization: `Bearer ${token}` },
      body: new Uint8Array(raw),
    });
    assert.equal(res.status, 202, await res.text());
    const copies = await copiesOf(messageId, 3);
    for (const copy of copies) await dkimPasses(copy);

    assert.deepEqual(
      unsigned(copyTo(copies, colleague).raw),
      raw,
      "the colleague's copy is the message as it came",
    );

    const zipped = copyTo(copies, partner);
    bytesIn(zipped, asBytes(related), "the partner's text, HTML and inline image");
    const zip = await simpleParser(zipped.raw);
    assert.ok(
      zip.attachments.some((a) => a.filename === "attachments.zip"),
      "the partner gets the ZIP",
    );
    assert.ok(!zip.attachments.some((a) => a.filename === "見積書.pdf"), "and not the file itself");
    const password = await waitFor(
      async () => {
        for (const m of sink.to(from)) {
          const text = await bodyText(m.raw);
          if (text.includes(partner)) return /パスワード: (\S+)/.exec(text)?.[1];
        }
        return undefined;
      },
      10_000,
      "the ZIP's password notice",
    );
    const zipFile = join(work, "mixed.zip");
    writeFileSync(zipFile, zip.attachments.find((a) => a.filename === "attachments.zip")!.content);
    const out = join(work, "mixed");
    execFileSync("7z", ["x", `-p${password}`, `-o${out}`, zipFile], { stdio: "ignore" });
    assert.deepEqual(readFileSync(join(out, "見積書.pdf")), PDF, "7-Zip extracts the file");

    const linked = copyTo(copies, external);
    const parsed = await simpleParser(linked.raw, { keepCidLinks: true });
    assert.match(parsed.text ?? "", NOTICE);
    assert.match(parsed.html || "", NOTICE, "the HTML body has the notice too");
    assert.match(parsed.html || "", /<img src="cid:logo@corp\.example">/, "still referencing the image");
    assert.ok(!parsed.attachments.some((a) => a.filename === "見積書.pdf"), "no file in the linked copy");
    const inline = parsed.attachments.find((a) => a.contentId === "<logo@corp.example>");
    assert.deepEqual(inline?.content, logo, "the inline image is kept");
    bytesIn(linked, asBytes(image), "the image part");
  });

  const encryptedZip = (): Buffer => {
    const file = join(work, "secret.txt");
    writeFileSync(file, "機密\n");
    const zip = join(work, `secret-${randomBytes(4).toString("hex")}.zip`);
    execFileSync("7z", ["a", "-tzip", "-pHimitsu-1", zip, file], { stdio: "ignore" });
    return readFileSync(zip);
  };
  const withEncryptedZip = (from: string, to: string, messageId: string): Buffer =>
    multipart(
      [...messageHeader(from, [to], messageId), 'Content-Type: multipart/mixed; boundary="e"'],
      [
        {
          headers: ["Content-Type: text/plain; charset=UTF-8", "Content-Transfer-Encoding: 8bit"],
          body: "パスワードは別途お送りします。",
        },
        attachment("資料.zip", "application/zip", encryptedZip()),
      ],
      "e",
    );

  test("a password-protected attachment refused by rule: the client gets the reason, nothing goes out, the sender is told", async () => {
    const from = await sender("enc-reject@corp.example", {
      rules: [
        {
          name: "no-encrypted",
          when: { attachmentEncrypted: true },
          then: {
            reject: {
              reason: {
                ja: "パスワード付きの添付ファイルは送信できません",
                en: "Password-protected attachments cannot be sent",
              },
            },
          },
        },
      ],
    });
    const to = "abe@partner.example";
    const messageId = uniqueId("enc-reject");
    const file = join(work, "enc-reject.eml");
    writeFileSync(file, withEncryptedZip(from, to, messageId));
    const r = swaks([
      ...["--server", `127.0.0.1:${gw.ports.smtp}`, "--tls"],
      ...["--auth", "PLAIN", "--auth-user", from, "--auth-password", PW],
      ...["--from", from, "--to", to, "--data", file],
    ]);
    assert.match(
      r.lastReply,
      /^550 5\.7\.1 Password-protected attachments cannot be sent \(rule no-encrypted\)/,
      r.output,
    );
    const notice = await waitFor(
      () => sink.to(from).find((m) => m.text.includes(messageId)),
      10_000,
      "reject notice",
    );
    const text = await bodyText(notice.raw);
    assert.match(text, /該当したルール: no-encrypted/);
    assert.match(text, /理由: パスワード付きの添付ファイルは送信できません/);
    assert.equal(sink.messages.filter((m) => m.messageId === messageId).length, 0, "nothing delivered");
  });

  test("a password-protected attachment passed by rule goes as it came", async () => {
    const from = await sender("enc-pass@corp.example", {
      rules: [
        // The self preset sends content it could not read (an encrypted entry) for approval;
        // this sender's encrypted files need none, what else is unread still does.
        {
          name: "analysis-incomplete",
          when: { analysisIncomplete: ["truncated", "timeout", "too_large", "unreadable", "unsupported"] },
          then: { approve: {} },
        },
        {
          name: "encrypted as they are",
          when: { attachmentEncrypted: true },
          then: { attachments: { action: "pass" } },
        },
      ],
    });
    const to = "ueda@partner.example";
    const messageId = uniqueId("enc-pass");
    const raw = withEncryptedZip(from, to, messageId);
    await submitSmtp(gw, { user: from, password: PW }, [to], raw);
    const [copy] = await copiesOf(messageId, 1);
    assert.deepEqual(unsigned(copy!.raw), raw, "delivered unchanged, the ZIP included");
  });

  test("external and an attachment of 2 MB or more → web download; smaller ones and colleagues' copies as they came", async () => {
    const from = await sender("big@corp.example", {
      attachments: { action: "pass" },
      rules: [
        {
          name: "large by download",
          when: { recipientClass: ["external"], attachmentSizeAtLeast: 2_000_000 },
          then: { attachments: { action: "web_download" } },
        },
      ],
    });
    const send = async (size: number, to: string[]) => {
      const messageId = uniqueId(`size${size}`);
      const raw = multipart(
        [...messageHeader(from, to, messageId), 'Content-Type: multipart/mixed; boundary="s"'],
        [
          { headers: ["Content-Type: text/plain; charset=UTF-8"], body: "図面です。" },
          attachment("図面.dwg", "application/octet-stream", randomBytes(size)),
        ],
        "s",
      );
      await submitSmtp(gw, { user: from, password: PW }, to, raw);
      return { raw, copies: await copiesOf(messageId, to.length) };
    };
    const small = await send(1_500_000, ["oda@partner.example"]);
    assert.deepEqual(unsigned(small.copies[0]!.raw), small.raw, "under 2 MB: as it came");

    const large = await send(2_200_000, ["oda@partner.example", "hanako@corp.example"]);
    assert.deepEqual(
      unsigned(copyTo(large.copies, "hanako@corp.example").raw),
      large.raw,
      "the colleague's as it came",
    );
    const external = await simpleParser(copyTo(large.copies, "oda@partner.example").raw);
    assert.equal(external.attachments.length, 0, "2 MB and more: no file to the external recipient");
    assert.match(external.text ?? "", NOTICE);
  });
});
