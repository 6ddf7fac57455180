// The relay target misbehaves: down then up, permanent refusals, temporary ones until give-up.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import nodemailer from "nodemailer";
import { TestGateway, waitFor } from "../helpers/gateway.js";
import { bodyText, rawMessage, uniqueId } from "../helpers/fixtures.js";
import { freePort, SmtpSink } from "../helpers/sink.js";

const PW = "correct-horse-1";
const ALICE = "alice@corp.example";

describe("relay failures", () => {
  const sink = new SmtpSink();
  let port: number;
  let gw: TestGateway;
  let token: string;

  before(async () => {
    port = await freePort();
    gw = new TestGateway({
      relayPort: port,
      config: { relay: { retryDelaysSeconds: [0.5], giveUpAfterSeconds: 4 } },
    });
    gw.addUser(ALICE, PW, "--language", "en");
    await gw.start();
    token = await gw.token(ALICE, PW);
  });
  after(async () => {
    await gw.stop();
    await sink.stop();
  });

  async function submit(to: string[], messageId: string): Promise<string> {
    const t = nodemailer.createTransport({
      host: "127.0.0.1",
      port: gw.ports.smtp,
      tls: { rejectUnauthorized: false },
      auth: { user: ALICE, pass: PW },
    });
    const info = await t.sendMail({
      envelope: { from: ALICE, to },
      raw: rawMessage({ from: ALICE, to, messageId }),
    });
    t.close();
    return /Queued as (\S+);/.exec(info.response)?.[1] as string;
  }

  const status = async (id: string) =>
    (
      await gw.api<{
        status: string;
        groups: { recipients: { address: string; status: string; response?: string }[] }[];
      }>(token, "GET", `/messages/${id}`)
    ).body;

  test("relay down, then up: the message is retried and delivered once", async () => {
    const messageId = uniqueId("down");
    const id = await submit(["a@partner.example"], messageId);
    await waitFor(
      async () => {
        const s = await status(id);
        return (
          s.status === "releasing" && s.groups[0]?.recipients[0]?.response?.match(/ECONNREFUSED|connect/i)
        );
      },
      5000,
      "a failed connection attempt",
    );
    await sink.start(port);
    await waitFor(
      () => sink.messages.find((m) => m.messageId === messageId),
      5000,
      "delivery after the relay came up",
    );
    await waitFor(async () => (await status(id)).status === "sent", 5000, "sent");
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(sink.messages.filter((m) => m.messageId === messageId).length, 1);
  });

  test("a permanent 5xx fails that recipient only, and the sender gets a bounce notice", async () => {
    sink.behaviour = { rcptReply: (a) => (a === "gone@partner.example" ? 550 : null) };
    try {
      const messageId = uniqueId("perm");
      const id = await submit(["gone@partner.example", "ok@partner.example"], messageId);
      const delivered = await waitFor(
        () => sink.messages.find((m) => m.messageId === messageId),
        5000,
        "delivery",
      );
      assert.deepEqual(delivered.to, ["ok@partner.example"]);
      await waitFor(async () => (await status(id)).status === "partially_sent", 5000, "partially_sent");
      const bounce = await waitFor(
        () => sink.to(ALICE).find((m) => m.text.includes(messageId) && /Undeliverable/.test(m.text)),
        5000,
        "bounce notice",
      );
      assert.match(bounce.text, /^Subject: \[Undeliverable\] test/m);
      const body = await bodyText(bounce.raw);
      assert.match(body, /gone@partner\.example: 550 .*sink refuses gone@partner\.example/);
      assert.doesNotMatch(body, /ok@partner\.example/);
    } finally {
      sink.behaviour = {};
    }
  });

  test("a recipient deferred with 4xx until the give-up time fails and is bounced", async () => {
    sink.behaviour = { rcptReply: (a) => (a === "busy@partner.example" ? 451 : null) };
    try {
      const messageId = uniqueId("temp");
      const id = await submit(["busy@partner.example"], messageId);
      await waitFor(async () => (await status(id)).status === "failed", 10_000, "failed after give-up");
      const s = await status(id);
      assert.match(s.groups[0]?.recipients[0]?.response ?? "", /^gave up after \d+ attempts: 451/);
      await waitFor(
        () => sink.to(ALICE).find((m) => m.text.includes(messageId) && /Undeliverable/.test(m.text)),
        5000,
        "bounce",
      );
    } finally {
      sink.behaviour = {};
    }
  });
});
