// The work that grows with a message runs off the main thread: content analysis of messages over
// 64 KiB in the analysis threads, relaying and DKIM signing in the relay thread. End to end through
// the built gateway: the rules still see what the threads extract, and the signature of a large
// message read from its spool file still verifies.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import nodemailer from "nodemailer";
import { makePdf, makeXlsx } from "../../server/test/fixtures/documents.js";
import { uniqueId } from "../helpers/fixtures.js";
import { firstSignature, keygenTxt, unsigned } from "../helpers/dkim.js";
import { TestGateway, waitFor } from "../helpers/gateway.js";
import { SmtpSink } from "../helpers/sink.js";

const SENDER = "alice@corp.example";
const PW = "correct-horse-1";

describe("analysis and DKIM signing in worker threads", () => {
  const sink = new SmtpSink();
  let gw: TestGateway;
  let dkimTxt: string;

  before(async () => {
    await sink.start();
    gw = new TestGateway({ relayPort: sink.port });
    gw.addUser(SENDER, PW);
    gw.addUser("admin@corp.example", PW, "--role", "admin");
    const keygen = gw.cli(["dkim", "keygen", "corp.example", "--selector", "s1"]);
    assert.equal(keygen.status, 0, keygen.stderr);
    dkimTxt = keygenTxt(keygen.stdout);
    await gw.start();
    const admin = await gw.token("admin@corp.example", PW);
    const org = await gw.api(admin, "PUT", "/admin/policies/org", {
      preset: "self",
      hold: { internal: 0, semiInternal: 0, external: 0 },
      rules: [
        {
          name: "top-secret",
          when: { contentContains: ["極秘"] },
          then: { reject: { reason: "極秘の資料は送信できません / Top secret" } },
        },
      ],
    });
    assert.equal(org.status, 200, JSON.stringify(org.body));
  });
  after(async () => {
    await gw.stop();
    await sink.stop();
  });

  /** A workbook of `rows` rows (about 30 bytes each once zipped), `word` in its last cell. */
  const workbook = (rows: number, word: string) =>
    makeXlsx([[...Array.from({ length: rows }, (_, i) => [`顧客${i}`, 9000000000 + i, `住所${i}`]), [word]]]);

  async function send(messageId: string, attachments: { filename: string; content: Buffer }[]) {
    const transport = nodemailer.createTransport({
      host: "127.0.0.1",
      port: gw.ports.smtp,
      tls: { rejectUnauthorized: false },
      auth: { user: SENDER, pass: PW },
    });
    try {
      await transport.sendMail({
        from: SENDER,
        to: "x@partner.example",
        subject: "資料",
        text: "資料を添付します。",
        messageId: `<${messageId}>`,
        attachments,
      });
      return null;
    } catch (err) {
      return (err as { response?: string }).response ?? String(err);
    } finally {
      transport.close();
    }
  }

  test("a rule sees the text the analysis thread took out of a 300 KB workbook", async () => {
    const messageId = uniqueId("secret");
    const xlsx = await workbook(8000, "極秘");
    assert.ok(xlsx.length > 100 * 1024, `the workbook (${xlsx.length} bytes) is analysed in a thread`);
    const refused = await send(messageId, [{ filename: "名簿.xlsx", content: xlsx }]);
    assert.match(refused ?? "accepted", /^550 5\.7\.1 .*Top secret/);
    assert.equal(
      sink.messages.some((m) => m.messageId === messageId),
      false,
    );
  });

  test("a 1.5 MB message from its spool file is signed in the relay thread; the signature verifies", async () => {
    const messageId = uniqueId("large");
    const pdf = makePdf(
      Array.from({ length: 40 }, (_, i) => ({ latin: `Invoice ${i}`, japanese: "請求書", padding: 20_000 })),
    );
    const attachments = [
      { filename: "請求書.pdf", content: pdf },
      { filename: "名簿.xlsx", content: await workbook(8000, "公開") },
      { filename: "data.bin", content: Buffer.alloc(900 * 1024, 0x5a) },
    ];
    assert.equal(await send(messageId, attachments), null);
    const got = await waitFor(() => sink.messages.find((m) => m.messageId === messageId), 20_000, "relay");
    assert.ok(got.raw.length > 1024 * 1024, `over the DKIM signer's memory threshold (${got.raw.length})`);
    const [stored] = await gw.query<{ id: string; body_in_db: number }>(
      "SELECT id, body_in_db FROM messages WHERE message_id = ?",
      [messageId],
    );
    assert.equal(stored?.body_in_db, 0, "read from a spool file");
    const signature = await firstSignature(got.raw, { name: "s1._domainkey.corp.example", value: dkimTxt });
    assert.equal(signature?.status.result, "pass", JSON.stringify(signature?.status));
    assert.equal(signature?.signingDomain, "corp.example");
    assert.deepEqual(unsigned(got.raw), await gw.storedMessage(stored?.id ?? ""), "relayed byte for byte");
  });
});
