// Hold, release, discard and relay, end to end: real SMTP in, a real SMTP server as the relay target.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import nodemailer from "nodemailer";
import { firstSignature, keygenTxt, unsigned } from "../helpers/dkim.js";
import { TestGateway, waitFor } from "../helpers/gateway.js";
import { bodyText, rawMessage, uniqueId } from "../helpers/fixtures.js";
import { SmtpSink } from "../helpers/sink.js";

const ALICE = "alice@corp.example";
const BOB = "bob@corp.example";
const PW = "correct-horse-1";

interface View {
  id: string;
  status: string;
  releaseAt: string;
  groups: { status: string; recipients: { address: string; status: string }[] }[];
}

describe("hold and relay", () => {
  const sink = new SmtpSink();
  let gw: TestGateway;
  let alice: string;
  let bob: string;
  let admin: string;
  let dkimTxt: string;

  before(async () => {
    await sink.start();
    gw = new TestGateway({ relayPort: sink.port, config: { organization: { holdMinutes: 0.04 } } });
    gw.addUser(ALICE, PW);
    gw.addUser(BOB, PW);
    gw.addUser("fast@corp.example", PW, "--hold-minutes", "0");
    gw.addUser("slow@corp.example", PW, "--hold-minutes", "60");
    gw.addUser("admin@corp.example", PW, "--role", "admin", "--hold-minutes", "60");
    const keygen = gw.cli(["dkim", "keygen", "corp.example", "--selector", "test"]);
    assert.equal(keygen.status, 0, keygen.stderr);
    dkimTxt = keygenTxt(keygen.stdout);
    assert.match(dkimTxt, /^v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]+$/);
    await gw.start();
    [alice, bob, admin] = await Promise.all([
      gw.token(ALICE, PW),
      gw.token(BOB, PW),
      gw.token("admin@corp.example", PW),
    ]);
  });
  after(async () => {
    await gw.stop();
    await sink.stop();
  });

  async function submit(user: string, raw: string, to: string[]): Promise<string> {
    const transport = nodemailer.createTransport({
      host: "127.0.0.1",
      port: gw.ports.smtp,
      requireTLS: true,
      tls: { rejectUnauthorized: false },
      auth: { user, pass: PW },
    });
    const info = await transport.sendMail({ envelope: { from: user, to }, raw });
    transport.close();
    const id = /Queued as (\S+);/.exec(info.response)?.[1];
    assert.ok(id, info.response);
    return id;
  }

  const view = async (token: string, id: string) =>
    (await gw.api<View>(token, "GET", `/messages/${id}`)).body;

  test("a held message is relayed at its release time, byte for byte apart from internal headers", async () => {
    const messageId = uniqueId("hold");
    const raw = rawMessage({
      from: ALICE,
      to: ["x@partner.example"],
      subject: "=?UTF-8?B?5pel5pys6Kqe?=",
      messageId,
      extraHeaders: ["X-Sendguard-Confirmed: yes", "Bcc: hidden@partner.example"],
      body: "本文です。\r\n" + "line with trailing space \r\n".repeat(3),
    });
    const submittedAt = Date.now();
    const id = await submit(ALICE, raw, ["x@partner.example", "hidden@partner.example"]);
    const held = await view(alice, id);
    assert.equal(held.status, "held");
    const releaseAt = Date.parse(held.releaseAt);
    assert.ok(releaseAt - submittedAt >= 2000, "held for the hold time (2.4 s)");

    const got = await waitFor(() => sink.messages.find((m) => m.messageId === messageId), 15_000, "relay");
    assert.ok(Date.now() >= releaseAt - 50, "not relayed before its release time");
    assert.deepEqual(got.to.sort(), ["hidden@partner.example", "x@partner.example"]);
    const expected = raw
      .replace("X-Sendguard-Confirmed: yes\r\n", "")
      .replace("Bcc: hidden@partner.example\r\n", "");
    assert.equal(unsigned(got.raw).toString("utf8"), expected);
    await waitFor(async () => (await view(alice, id)).status === "sent", 5000, "status sent");
  });

  test("the relayed message carries a DKIM signature that verifies against the published key", async () => {
    const messageId = uniqueId("dkim");
    await submit(
      "fast@corp.example",
      rawMessage({ from: "fast@corp.example", to: ["y@partner.example"], messageId }),
      ["y@partner.example"],
    );
    const got = await waitFor(() => sink.messages.find((m) => m.messageId === messageId), 10_000, "relay");
    const signature = await firstSignature(got.raw, { name: "test._domainkey.corp.example", value: dkimTxt });
    assert.equal(signature?.status.result, "pass", JSON.stringify(signature?.status));
    assert.equal(signature?.signingDomain, "corp.example");
  });

  test("the sender gets a hold notice with [配送保留], the release time and a working link", async () => {
    const messageId = uniqueId("notice");
    const id = await submit(
      "slow@corp.example",
      rawMessage({ from: "slow@corp.example", to: ["z@partner.example"], subject: "契約書", messageId }),
      ["z@partner.example"],
    );
    const notice = await waitFor(
      () => sink.to("slow@corp.example").find((m) => m.text.includes(messageId)),
      10_000,
      "notice",
    );
    assert.match(notice.text, /^Subject: =\?UTF-8\?B\?/m, "the Japanese subject is RFC 2047 encoded");
    assert.match(notice.text, /^Auto-Submitted: auto-generated/m);
    const body = await bodyText(notice.raw);
    assert.match(body, /件名: 契約書/);
    assert.match(body, /送信予定: \d{4}-\d\d-\d\d \d\d:\d\d \(\+09:00\)/);
    const link = /http:\/\/\S+\/hold\/(\S+)\/(\S+)/.exec(body);
    assert.ok(link, body);
    assert.equal(link[1], id);
    const page = await fetch(link[0].replace("localhost", "127.0.0.1"));
    assert.equal(page.status, 200);
    assert.match(await page.text(), /契約書/);
  });

  test("release now sends at once", async () => {
    const messageId = uniqueId("release");
    const id = await submit(
      "slow@corp.example",
      rawMessage({ from: "slow@corp.example", to: ["r@partner.example"], messageId }),
      ["r@partner.example"],
    );
    const r = await gw.api<{ status: string }>(
      await gw.token("slow@corp.example", PW),
      "POST",
      `/messages/${id}/release`,
    );
    assert.equal(r.status, 200);
    await waitFor(() => sink.messages.find((m) => m.messageId === messageId), 5000, "relay after release");
  });

  test("discard: the message is never relayed, and a second discard says it is final", async () => {
    const messageId = uniqueId("discard");
    const id = await submit(ALICE, rawMessage({ from: ALICE, to: ["d@partner.example"], messageId }), [
      "d@partner.example",
    ]);
    const r = await gw.api<{ status: string }>(alice, "POST", `/messages/${id}/discard`);
    assert.deepEqual(r, { status: 200, body: { id, status: "discarded" } });
    // A message held as long and sent after it: once that one is relayed, the scheduler has gone
    // past the discarded one's release time too.
    const later = uniqueId("after-discard");
    await submit(ALICE, rawMessage({ from: ALICE, to: ["d@partner.example"], messageId: later }), [
      "d@partner.example",
    ]);
    await waitFor(
      () => sink.messages.find((m) => m.messageId === later),
      10_000,
      "the later message relayed",
    );
    assert.equal(
      sink.messages.find((m) => m.messageId === messageId),
      undefined,
    );
    const again = await gw.api<{ error: { code: string } }>(alice, "POST", `/messages/${id}/discard`);
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, "already_final");
    const v = await view(alice, id);
    assert.equal(v.groups[0]?.recipients[0]?.status, "discarded");
  });

  test("discard during delivery is refused and the message is delivered", async () => {
    sink.behaviour = { dataDelayMs: 1500 };
    try {
      const messageId = uniqueId("busy");
      const fast = await gw.token("fast@corp.example", PW);
      const id = await submit(
        "fast@corp.example",
        rawMessage({ from: "fast@corp.example", to: ["b@partner.example"], messageId }),
        ["b@partner.example"],
      );
      await waitFor(async () => (await view(fast, id)).status === "releasing", 5000, "releasing");
      const r = await gw.api<{ error: { code: string; message: string } }>(
        fast,
        "POST",
        `/messages/${id}/discard`,
      );
      assert.equal(r.status, 409);
      assert.equal(r.body.error.code, "already_releasing");
      await waitFor(async () => (await view(fast, id)).status === "sent", 10_000, "sent");
    } finally {
      sink.behaviour = {};
    }
  });

  test("users see and act on their own messages only; admins on all", async () => {
    const messageId = uniqueId("iso");
    const id = await submit(
      "slow@corp.example",
      rawMessage({ from: "slow@corp.example", to: ["i@partner.example"], messageId }),
      ["i@partner.example"],
    );
    for (const [method, path] of [
      ["GET", `/messages/${id}`],
      ["POST", `/messages/${id}/release`],
      ["POST", `/messages/${id}/discard`],
      ["GET", `/messages/by-message-id/${encodeURIComponent(messageId)}`],
    ] as const) {
      const r = await gw.api<{ error: { code: string } }>(bob, method, path);
      assert.equal(r.status, 404, `${method} ${path}`);
      assert.equal(r.body.error.code, "not_found");
    }
    const list = await gw.api<{ messages: { id: string }[] }>(bob, "GET", "/messages");
    assert.ok(!list.body.messages.some((m) => m.id === id));
    const asAdmin = await gw.api<View>(
      admin,
      "GET",
      `/messages/by-message-id/${encodeURIComponent(messageId)}`,
    );
    assert.equal(asAdmin.status, 200);
    assert.equal(asAdmin.body.id, id);
    assert.equal(asAdmin.body.status, "held");
  });

  test("a message without Message-ID and Date gets both, and the API finds it by the new Message-ID", async () => {
    const raw = `From: ${ALICE}\r\nTo: n@partner.example\r\nSubject: bare\r\n\r\nbody\r\n`;
    const id = await submit("fast@corp.example", raw.replace(ALICE, "fast@corp.example"), [
      "n@partner.example",
    ]);
    const fast = await gw.token("fast@corp.example", PW);
    const v = (await gw.api<View & { messageId: string }>(fast, "GET", `/messages/${id}`)).body;
    assert.match(v.messageId, /@gw\.test$/);
    const got = await waitFor(() => sink.messages.find((m) => m.messageId === v.messageId), 5000, "relay");
    assert.match(got.text, /^Date: .+\+0000\r$/m);
    const byMid = await gw.api<View>(
      fast,
      "GET",
      `/messages/by-message-id/${encodeURIComponent(v.messageId)}`,
    );
    assert.equal(byMid.body.id, id);
  });

  test("every state change is in the audit log", async () => {
    const entries = await gw.api<{ entries: { action: string; actor: string }[] }>(
      admin,
      "GET",
      "/admin/audit?limit=500",
    );
    const actions = new Set(entries.body.entries.map((e) => e.action));
    for (const a of ["accepted", "release", "discard", "delivery_attempt", "token_created"])
      assert.ok(actions.has(a), a);
  });
});
