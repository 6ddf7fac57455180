// A real Thunderbird (headless, driven over Marionette) submits through the gateway: STARTTLS with
// the gateway's self-signed certificate (trusted via a certificate override, as a user would after
// "Confirm Security Exception"), AUTH PLAIN, one attachment; the gateway holds it, then relays it.
// Skips when Thunderbird is not installed (scripts/install-test-deps.sh installs it).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { simpleParser } from "mailparser";
import { TestGateway, waitFor } from "../helpers/gateway.js";
import { uniqueId } from "../helpers/fixtures.js";
import { SmtpSink } from "../helpers/sink.js";
import { Thunderbird, findThunderbird, thunderbirdOnGateway } from "../helpers/thunderbird.js";

const ALICE = "alice@corp.example";
const PW = "correct-horse-1";
const EXTERNAL = "partner@partner.example";
const INTERNAL = "bob@corp.example";

const skip = findThunderbird() ? false : "thunderbird is not installed (run scripts/install-test-deps.sh)";

interface Summary {
  id: string;
  messageId: string;
  status: string;
  subject: string;
}

describe("Thunderbird → gateway → relay", { skip }, () => {
  const sink = new SmtpSink();
  let gw: TestGateway;
  let tb: Thunderbird;
  let alice: string;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "sendguard-tb-att-"));
    await sink.start();
    gw = new TestGateway({ relayPort: sink.port, config: { organization: { holdMinutes: 0.05 } } });
    gw.addUser(ALICE, PW);
    await gw.start();
    alice = await gw.token(ALICE, PW);
    tb = await thunderbirdOnGateway(gw, ALICE, PW, { fullName: "Alice Example" });
  });

  after(async () => {
    await tb?.stop();
    await gw?.stop();
    await sink.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("a message composed and sent in Thunderbird is held, then relayed with its attachment", async () => {
    const subject = `Quarterly figures ${uniqueId("tb")}`;
    const attachment = join(dir, "figures.csv");
    const csv = "quarter,revenue\nQ1,100\nQ2,120\n";
    writeFileSync(attachment, csv);

    const sentAt = Date.now();
    const result = await tb.composeAndSend({
      to: [EXTERNAL],
      cc: [INTERNAL],
      subject,
      body: "Hello,\n\nthe figures are attached.\n\nAlice",
      attachments: [attachment],
      timeoutMs: 30_000,
    });
    assert.deepEqual(result, { sent: true, error: null }, tb.output.slice(-3000));

    // Held by the gateway (hold 0.05 min = 3 s).
    const held = await waitFor(
      async () =>
        (await gw.api<{ messages: Summary[] }>(alice, "GET", "/messages")).body.messages.find(
          (m) => m.subject === subject,
        ),
      10_000,
      "the message in the API",
    );
    assert.equal(held.status, "held");
    assert.equal(
      sink.messages.find((m) => m.text.includes(subject) && m.to.includes(EXTERNAL)),
      undefined,
      "not relayed while held",
    );

    // Relayed to the sink after the hold: the colleague's copy with the attachment, the external
    // recipient's with a download link in its place (the standard preset's web download).
    const got = await waitFor(
      () => sink.messages.find((m) => m.to.includes(INTERNAL) && m.messageId === held.messageId),
      15_000,
      "relay to the sink",
    );
    assert.ok(Date.now() - sentAt >= 2500, "relayed only after the hold time");
    assert.equal(got.from, ALICE);
    assert.deepEqual(got.to, [INTERNAL]);
    const parsed = await simpleParser(got.raw);
    assert.equal(parsed.subject, subject);
    assert.match(parsed.headers.get("user-agent")?.toString() ?? "", /Thunderbird/);
    assert.equal(parsed.attachments.length, 1);
    assert.equal(parsed.attachments[0]?.filename, "figures.csv");
    assert.equal(parsed.attachments[0]?.content.toString("utf8"), csv);
    assert.match(parsed.text ?? "", /the figures are attached/);
    const externalCopy = await waitFor(
      () => sink.messages.find((m) => m.to.includes(EXTERNAL) && m.messageId === held.messageId),
      15_000,
      "the external copy",
    );
    const external = await simpleParser(externalCopy.raw);
    assert.equal(external.attachments.length, 0, "no file in the external copy");
    assert.match(external.text ?? "", /the figures are attached/);
    assert.match(external.text ?? "", /\/d\/[A-Za-z0-9_-]+/, "a download link instead");
    await waitFor(
      async () =>
        (await gw.api<{ status: string }>(alice, "GET", `/messages/${held.id}`)).body.status === "sent",
      5000,
      "status sent",
    );
  });
});
