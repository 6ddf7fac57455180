// Sending as someone else: the header From and Sender against who submits, over SMTP (swaks,
// nodemailer), HTTP raw and HTTP JSON, and from a trusted network; refused, audited, never relayed.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import nodemailer from "nodemailer";
import { allMessages, rawMessage, spoolFiles, submitSmtp, uniqueId } from "../helpers/fixtures.js";
import { TestGateway, waitFor } from "../helpers/gateway.js";
import { SmtpSink } from "../helpers/sink.js";
import { swaks } from "../helpers/swaks.js";

const PW = "correct-horse-1";
const ALICE = "alice@corp.example";
const ADMIN = "admin@corp.example";

interface AuditEntry {
  actor: string;
  action: string;
  messageId: string | null;
  detail: {
    source?: string;
    authenticated?: boolean;
    problem?: { kind: string; field: string; address?: string };
  };
}

describe("sending as someone else", () => {
  const sink = new SmtpSink();
  let gw: TestGateway;
  let admin: string;
  let alice: string;
  /** Message-IDs of every refused message: none may reach the sink. */
  const refused: string[] = [];

  before(async () => {
    await sink.start();
    gw = new TestGateway({
      relayPort: sink.port,
      config: {
        organization: { internalDomains: ["corp.example", "other.example"], holdMinutes: 0 },
        smtp: { trustedNetworks: ["127.0.0.0/8"] },
      },
    });
    gw.addUser(ALICE, PW, "--alias", "sales@corp.example");
    gw.addUser(ADMIN, PW, "--role", "admin");
    await gw.start();
    admin = await gw.token(ADMIN, PW);
    alice = await gw.token(ALICE, PW);
  });
  after(async () => {
    await gw.stop();
    await sink.stop();
  });

  async function stored(): Promise<{ messages: number; files: number }> {
    return { messages: (await allMessages(gw, admin)).length, files: spoolFiles(gw).length };
  }

  async function assertNothingStored(before: { messages: number; files: number }): Promise<void> {
    assert.deepEqual(await stored(), before, "no message row and no spool file was added");
  }

  async function refusals(address: string): Promise<AuditEntry[]> {
    const r = await gw.api<{ entries: AuditEntry[] }>(admin, "GET", "/admin/audit?limit=1000");
    return r.body.entries.filter(
      (e) => e.action === "sender_refused" && e.detail.problem?.address === address,
    );
  }

  const login = ["--auth", "PLAIN", "--auth-user", ALICE, "--auth-password", PW];
  const server = () => ["--server", `127.0.0.1:${gw.ports.smtp}`, "--tls"];

  test("swaks: an authenticated user with From: CEO <ceo@corp.example> gets 550 5.7.1, nothing is stored, the refusal is audited", async () => {
    const before = await stored();
    const messageId = uniqueId("ceo");
    refused.push(messageId);
    const r = swaks([
      ...server(),
      ...login,
      "--from",
      ALICE,
      "--to",
      "client@partner.example",
      "--header",
      "From: CEO <ceo@corp.example>",
      "--header",
      `Message-Id: <${messageId}>`,
    ]);
    assert.match(
      r.lastReply,
      /^550 5\.7\.1 From <ceo@corp\.example> is not an address of alice@corp\.example; send from your own address or an alias \(alice@corp\.example, sales@corp\.example\)/,
    );
    await assertNothingStored(before);
    const [entry] = await refusals("ceo@corp.example");
    assert.ok(entry, "a sender_refused audit entry");
    assert.equal(entry.actor, ALICE);
    assert.equal(entry.detail.source, "smtp");
    assert.equal(entry.detail.authenticated, true);
    assert.deepEqual([entry.detail.problem?.kind, entry.detail.problem?.field], ["not_own", "From"]);
  });

  test("nodemailer: a Sender header of someone else gets 550 5.7.1", async () => {
    const before = await stored();
    const messageId = uniqueId("sender");
    refused.push(messageId);
    const transport = nodemailer.createTransport({
      host: "127.0.0.1",
      port: gw.ports.smtp,
      requireTLS: true,
      tls: { rejectUnauthorized: false },
      auth: { user: ALICE, pass: PW },
    });
    try {
      await assert.rejects(
        transport.sendMail({
          from: ALICE,
          sender: "Boss <boss@corp.example>",
          to: "client@partner.example",
          subject: "on behalf",
          text: "本文",
          messageId: `<${messageId}>`,
        }),
        (err: { responseCode?: number; response?: string }) => {
          assert.equal(err.responseCode, 550);
          assert.match(
            err.response ?? "",
            /^550 5\.7\.1 Sender <boss@corp\.example> is not an address of alice/,
          );
          return true;
        },
      );
    } finally {
      transport.close();
    }
    await assertNothingStored(before);
    assert.equal((await refusals("boss@corp.example"))[0]?.detail.problem?.field, "Sender");
  });

  test("SMTP: two addresses in From get 550 5.7.1, naming the count", async () => {
    const messageId = uniqueId("two");
    refused.push(messageId);
    const raw = rawMessage({ from: `${ALICE}, ceo@corp.example`, to: ["client@partner.example"], messageId });
    await assert.rejects(submitSmtp(gw, { user: ALICE, password: PW }, ["client@partner.example"], raw), {
      responseCode: 550,
      response: /^550 5\.7\.1 From holds 2 addresses; send from one address, your own/,
    });
  });

  test("HTTP raw upload (message/rfc822) with a foreign From → 422 sender_not_allowed, in the caller's language", async () => {
    const before = await stored();
    const messageId = uniqueId("raw");
    refused.push(messageId);
    const res = await fetch(`${gw.httpUrl}/api/v1/messages`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${alice}`,
        "content-type": "message/rfc822",
        "accept-language": "en",
      },
      body: rawMessage({ from: "CEO <ceo@corp.example>", to: ["client@partner.example"], messageId }),
    });
    assert.equal(res.status, 422);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, "sender_not_allowed");
    // No language of her own: the one her client asks for.
    assert.match(
      body.error.message,
      /^From ceo@corp\.example is not an address of this account: send from your own/,
    );
    assert.match(body.error.message, /alice@corp\.example, sales@corp\.example/);
    await assertNothingStored(before);
    assert.ok((await refusals("ceo@corp.example")).some((e) => e.detail.source === "http"));
  });

  test('HTTP JSON from: "me@corp.example, ceo@corp.example" → 422 multiple_senders', async () => {
    const before = await stored();
    const subject = uniqueId("json");
    const r = await gw.api<{ error: { code: string; message: string } }>(alice, "POST", "/messages", {
      from: `${ALICE}, ceo@corp.example`,
      to: "client@partner.example",
      subject,
      text: ".",
    });
    assert.equal(r.status, 422, JSON.stringify(r.body));
    assert.equal(r.body.error.code, "multiple_senders");
    assert.match(r.body.error.message, /From に差出人が 2 件あります/);
    await assertNothingStored(before);
    assert.ok(!sink.messages.some((m) => m.text.includes(subject)));
  });

  test("trusted network: a From in another internal domain than MAIL FROM gets 550 5.7.1, audited", async () => {
    const before = await stored();
    const messageId = uniqueId("trusted");
    refused.push(messageId);
    const r = swaks([
      "--server",
      `127.0.0.1:${gw.ports.smtp}`,
      "--from",
      "relay@corp.example",
      "--to",
      "client@partner.example",
      "--header",
      "From: x@other.example",
      "--header",
      `Message-Id: <${messageId}>`,
    ]);
    assert.match(
      r.lastReply,
      /^550 5\.7\.1 From <x@other\.example> is not in the domain of the envelope sender \(corp\.example\)/,
    );
    await assertNothingStored(before);
    const [entry] = await refusals("x@other.example");
    assert.equal(entry?.detail.authenticated, false);
    assert.equal(entry?.actor, "relay@corp.example");
  });

  test("trusted network: an internal From in the envelope's domain is accepted", () => {
    const r = swaks([
      "--server",
      `127.0.0.1:${gw.ports.smtp}`,
      "--from",
      "relay@corp.example",
      "--to",
      "client@partner.example",
      "--header",
      "From: Boss <boss@corp.example>",
    ]);
    assert.match(r.lastReply, /^250 2\.0\.0 Queued as/);
  });

  test("the user's alias as From is accepted and relayed; none of the refused messages was", async () => {
    const messageId = uniqueId("alias");
    const raw = rawMessage({
      from: "営業部 <sales@corp.example>",
      to: ["client@partner.example"],
      messageId,
    });
    await submitSmtp(gw, { user: ALICE, password: PW }, ["client@partner.example"], raw);
    // The refused ones were never stored (checked above); the sink agrees while it got this one.
    await waitFor(() => sink.messages.some((m) => m.messageId === messageId), 10_000, "the alias message");
    for (const id of refused) {
      assert.ok(!sink.messages.some((m) => m.messageId === id), `${id} was not relayed`);
    }
  });
});
