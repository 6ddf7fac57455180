// Internationalised recipients end to end: IDN domains (taro@例え.jp, or its A-label) and non-ASCII
// local parts (RFC 6531), submitted over SMTP (swaks, nodemailer) and HTTP (JSON, raw), relayed to a
// real SMTP sink that offers SMTPUTF8 or does not. Each is delivered once, shown as it reads.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { TestGateway, waitFor } from "../helpers/gateway.js";
import { bodyText, rawMessage, submitSmtp, uniqueId } from "../helpers/fixtures.js";
import { SmtpSink, type SunkMessage } from "../helpers/sink.js";
import { swaks } from "../helpers/swaks.js";

const PW = "correct-horse-1";
const ALICE = "alice@corp.example";
const ADMIN = "admin@corp.example";

interface View {
  status: string;
  groups: { recipients: { address: string; status: string; response?: string }[] }[];
}

/** A gateway relaying to its own sink, the sink offering SMTPUTF8 or not. */
async function startPair(smtpUtf8: boolean) {
  const sink = await new SmtpSink({ smtpUtf8 }).start();
  const gw = new TestGateway({ relayPort: sink.port, config: { organization: { holdMinutes: 0 } } });
  gw.addUser(ALICE, PW, "--language", "en");
  gw.addUser(ADMIN, PW, "--role", "admin");
  await gw.start();
  return { sink, gw, alice: await gw.token(ALICE, PW), admin: await gw.token(ADMIN, PW) };
}

const viaNodemailer = (gw: TestGateway, to: string[], messageId: string) =>
  submitSmtp(
    gw,
    { user: ALICE, password: PW },
    to,
    rawMessage({ from: ALICE, to: ["undisclosed-recipients:;"], messageId }),
  );

/** Waits for the message's final status, then checks each recipient got it exactly once. */
async function settled(
  gw: TestGateway,
  token: string,
  admin: string,
  id: string,
  status: string,
): Promise<View> {
  const view = await waitFor(
    async () => {
      const v = (await gw.api<View>(token, "GET", `/messages/${id}`)).body;
      return v.status === status ? v : null;
    },
    10_000,
    `status ${status}`,
  );
  const audit = await gw.api<{ entries: { action: string }[] }>(
    admin,
    "GET",
    `/admin/audit?messageId=${id}&limit=100`,
  );
  const attempts = audit.body.entries.filter((e) => e.action === "delivery_attempt");
  assert.equal(attempts.length, 1, "one delivery attempt: nothing left to retry");
  return view;
}

const copies = (sink: SmtpSink, messageId: string): SunkMessage[] =>
  sink.messages.filter((m) => m.messageId === messageId);

const recipients = (v: View) => v.groups.flatMap((g) => g.recipients.map((r) => [r.address, r.status]));

describe("IDN recipients, relay offering SMTPUTF8", () => {
  let pair: Awaited<ReturnType<typeof startPair>>;
  before(async () => {
    pair = await startPair(true);
  });
  after(async () => {
    await pair.gw.stop();
    await pair.sink.stop();
  });

  test("HTTP JSON to taro@例え.jp: relayed once, sent, shown as taro@例え.jp", async () => {
    const { gw, sink, alice, admin } = pair;
    const res = await fetch(`${gw.httpUrl}/api/v1/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${alice}`, "content-type": "application/json" },
      body: JSON.stringify({ to: "太郎 <taro@例え.jp>", subject: "IDN", text: "こんにちは" }),
    });
    assert.equal(res.status, 202, await res.clone().text());
    const { id } = (await res.json()) as { id: string };
    const view = await settled(gw, alice, admin, id, "sent");
    assert.deepEqual(recipients(view), [["taro@例え.jp", "sent"]]);
    const { messageId } = (await gw.api<{ messageId: string }>(alice, "GET", `/messages/${id}`)).body;
    const got = copies(sink, messageId);
    assert.equal(got.length, 1);
    // The sink (smtp-server) reports the A-label it was given in its Unicode form.
    assert.deepEqual(got[0]?.to, ["taro@例え.jp"]);
    assert.equal(
      got[0]?.smtpUtf8,
      false,
      "an ASCII local part needs no SMTPUTF8: the domain went as A-label",
    );
  });

  test("HTTP raw with the A-label in To and an upper-case U-label in Cc: one recipient each", async () => {
    const { gw, sink, alice, admin } = pair;
    const messageId = uniqueId("raw-idn");
    const raw = rawMessage({
      from: ALICE,
      to: ["taro@xn--r8jz45g.jp", "Taro@例え.JP"],
      messageId,
      extraHeaders: ["Cc: jiro@例え.JP"],
    });
    const res = await fetch(`${gw.httpUrl}/api/v1/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${alice}`, "content-type": "message/rfc822" },
      body: raw,
    });
    assert.equal(res.status, 202, await res.clone().text());
    const { id } = (await res.json()) as { id: string };
    const view = await settled(gw, alice, admin, id, "sent");
    assert.deepEqual(recipients(view), [
      ["taro@例え.jp", "sent"],
      ["jiro@例え.jp", "sent"],
    ]);
    const got = copies(sink, messageId);
    assert.equal(got.length, 1);
    assert.deepEqual(got[0]?.to.sort(), ["jiro@例え.jp", "taro@例え.jp"]);
  });

  test("swaks with the same mailbox spelt two ways: delivered once", async () => {
    const { gw, sink, alice, admin } = pair;
    const messageId = uniqueId("swaks-idn");
    const r = swaks([
      "--server",
      `127.0.0.1:${gw.ports.smtp}`,
      "--tls",
      "--auth",
      "PLAIN",
      "--auth-user",
      ALICE,
      "--auth-password",
      PW,
      "--from",
      ALICE,
      "--to",
      "hanako@xn--r8jz45g.jp,HANAKO@例え.jp",
      "--header",
      `Message-Id: <${messageId}>`, // replaces the one swaks makes up
    ]);
    const id = /Queued as (\S+);/.exec(r.lastReply)?.[1];
    assert.ok(id, r.output);
    const view = await settled(gw, alice, admin, id, "sent");
    // One recipient, in the first spelling swaks gave, with the domain in its Unicode form.
    const [[address, status] = []] = recipients(view);
    assert.equal(recipients(view).length, 1);
    assert.match(address ?? "", /^hanako@例え\.jp$/i);
    assert.equal(status, "sent");
    const got = copies(sink, messageId);
    assert.equal(got.length, 1);
    assert.deepEqual(got[0]?.to, [address]);
  });

  test("nodemailer to a non-ASCII local part: relayed with SMTPUTF8, once", async () => {
    const { gw, sink, alice, admin } = pair;
    const messageId = uniqueId("utf8-local");
    const id = await viaNodemailer(gw, ["山田@例え.jp", "taro@例え.jp"], messageId);
    const view = await settled(gw, alice, admin, id, "sent");
    assert.deepEqual(recipients(view), [
      ["山田@例え.jp", "sent"],
      ["taro@例え.jp", "sent"],
    ]);
    const got = copies(sink, messageId);
    assert.equal(got.length, 1);
    assert.equal(got[0]?.smtpUtf8, true);
    assert.deepEqual(got[0]?.to.sort(), ["taro@例え.jp", "山田@例え.jp"].sort());
  });
});

describe("IDN recipients, relay without SMTPUTF8", () => {
  let pair: Awaited<ReturnType<typeof startPair>>;
  before(async () => {
    pair = await startPair(false);
  });
  after(async () => {
    await pair.gw.stop();
    await pair.sink.stop();
  });

  test("a non-ASCII local part fails for good with 5.6.7; the IDN domain beside it is delivered once", async () => {
    const { gw, sink, alice, admin } = pair;
    const messageId = uniqueId("no-utf8");
    const id = await viaNodemailer(gw, ["山田@例え.jp", "taro@例え.jp"], messageId);
    const view = await settled(gw, alice, admin, id, "partially_sent");
    const byAddress = new Map(view.groups.flatMap((g) => g.recipients.map((r) => [r.address, r])));
    assert.equal(byAddress.get("taro@例え.jp")?.status, "sent");
    assert.equal(byAddress.get("山田@例え.jp")?.status, "failed");
    assert.match(byAddress.get("山田@例え.jp")?.response ?? "", /^553 5\.6\.7 .*does not offer SMTPUTF8/);
    const got = copies(sink, messageId);
    assert.equal(got.length, 1);
    assert.deepEqual(got[0]?.to, ["taro@例え.jp"], "the relay never saw the address it cannot carry");
    assert.equal(got[0]?.smtpUtf8, false);
    const bounce = await waitFor(
      () => sink.to(ALICE).find((m) => m.text.includes(messageId) && /Undeliverable/.test(m.text)),
      10_000,
      "bounce notice",
    );
    assert.match(await bodyText(bounce.raw), /山田@例え\.jp: 553 5\.6\.7/);
  });

  test("an IDN domain with an ASCII local part needs no SMTPUTF8 and is delivered once", async () => {
    const { gw, sink, alice, admin } = pair;
    const messageId = uniqueId("no-utf8-ascii");
    const id = await viaNodemailer(gw, ["taro@xn--r8jz45g.jp"], messageId);
    const view = await settled(gw, alice, admin, id, "sent");
    assert.deepEqual(recipients(view), [["taro@例え.jp", "sent"]]);
    assert.equal(copies(sink, messageId).length, 1);
  });
});
