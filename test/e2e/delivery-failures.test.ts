// Whatever goes wrong inside a delivery ends in a recorded attempt — a retry, or a failure with a
// bounce — never in a group left leased until a restart; a group waiting for its retry can still
// be discarded; a DKIM key made through the admin API signs the next delivery. Real gateway, real
// SMTP clients, a real SMTP sink (or the outbox) as the next hop.
import assert from "node:assert/strict";
import { existsSync, readdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { firstSignature } from "../helpers/dkim.js";
import { TestGateway, waitFor } from "../helpers/gateway.js";
import { bodyText, rawMessage, submitSmtp, uniqueId } from "../helpers/fixtures.js";
import { freePort, SmtpSink } from "../helpers/sink.js";

const PW = "correct-horse-1";
const ALICE = "alice@corp.example";
const SLOW = "slow@corp.example";
const ADMIN = "admin@corp.example";

interface View {
  status: string;
  groups: { status: string; recipients: { address: string; status: string; response?: string }[] }[];
}

interface BatchRow {
  status: string;
  leased: number;
  attempts: number;
}

/** A gateway with alice (released at once), slow (held an hour) and an admin. */
async function gateway(options: ConstructorParameters<typeof TestGateway>[0]) {
  const gw = new TestGateway(options);
  gw.addUser(ALICE, PW, "--language", "en");
  gw.addUser(SLOW, PW, "--language", "en", "--hold-minutes", "60");
  gw.addUser(ADMIN, PW, "--role", "admin");
  return gw;
}

const send = (gw: TestGateway, user: string, to: string, messageId: string, body?: string) =>
  submitSmtp(gw, { user, password: PW }, [to], rawMessage({ from: user, to: [to], messageId, body }));

const view = async (gw: TestGateway, token: string, id: string) =>
  (await gw.api<View>(token, "GET", `/messages/${id}`)).body;

const batchesOf = (gw: TestGateway, id: string) =>
  gw.query<BatchRow>("SELECT status, leased, attempts FROM batches WHERE message_id = ?", [id]);

async function attemptsOf(gw: TestGateway, admin: string, id: string) {
  const r = await gw.api<{ entries: { action: string; at: number }[] }>(
    admin,
    "GET",
    `/admin/audit?messageId=${id}&limit=500`,
  );
  return r.body.entries.filter((e) => e.action === "delivery_attempt");
}

describe("relay down: a message waiting for its retry is discarded", () => {
  let port: number;
  const sink = new SmtpSink();
  let gw: TestGateway;
  let alice: string;
  let admin: string;

  before(async () => {
    port = await freePort();
    gw = await gateway({
      relayPort: port,
      // Retries far apart: a discard or release in between meets no delivery in flight.
      config: { relay: { retryDelaysSeconds: [30], giveUpAfterSeconds: 120 } },
    });
    await gw.start();
    [alice, admin] = await Promise.all([gw.token(ALICE, PW), gw.token(ADMIN, PW)]);
  });
  after(async () => {
    await gw.stop();
    await sink.stop();
  });

  test("discard succeeds while the relay is down, and nothing goes out when it is back", async () => {
    const messageId = uniqueId("down-discard");
    const id = await send(gw, ALICE, "a@partner.example", messageId);
    await waitFor(
      async () =>
        /ECONNREFUSED|connect/i.test((await view(gw, alice, id)).groups[0]?.recipients[0]?.response ?? ""),
      10_000,
      "a failed connection attempt",
    );
    // Should a retry be in flight at this very moment, it answers already_releasing: ask again.
    const discarded = await waitFor(
      async () => {
        const r = await gw.api<{ status: string; error?: { code: string } }>(
          alice,
          "POST",
          `/messages/${id}/discard`,
        );
        if (r.status === 409) assert.equal(r.body.error?.code, "already_releasing");
        return r.status === 200 ? r.body : null;
      },
      10_000,
      "the discard",
    );
    assert.equal(discarded.status, "discarded");
    const attemptsAtDiscard = (await attemptsOf(gw, admin, id)).length;
    assert.deepEqual(await batchesOf(gw, id), [
      { status: "discarded", leased: 0, attempts: attemptsAtDiscard },
    ]);

    await sink.start(port);
    // A message sent after the relay is back arrives: the scheduler has looked at the queue since.
    const marker = uniqueId("down-marker");
    await send(gw, ALICE, "b@partner.example", marker);
    await waitFor(() => sink.messages.find((m) => m.messageId === marker), 10_000, "the later message");
    assert.equal(
      sink.messages.find((m) => m.messageId === messageId),
      undefined,
      "the discarded one never",
    );
    assert.equal((await attemptsOf(gw, admin, id)).length, attemptsAtDiscard, "no attempt after the discard");
    const v = await view(gw, alice, id);
    assert.equal(v.status, "discarded");
    assert.equal(v.groups[0]?.recipients[0]?.status, "discarded");
  });

  test("release now of a message waiting for its retry tries again at once", async () => {
    const messageId = uniqueId("down-release");
    // The relay is up again; hold this one back by refusing it for a while.
    sink.behaviour = { rcptReply: (a) => (a === "later@partner.example" ? 451 : null) };
    try {
      const id = await send(gw, ALICE, "later@partner.example", messageId);
      await waitFor(async () => (await attemptsOf(gw, admin, id)).length >= 1, 10_000, "the first attempt");
      sink.behaviour = {};
      // The next retry is 30 s away: only the release makes it go now.
      const r = await gw.api<{ status: string }>(alice, "POST", `/messages/${id}/release`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      await waitFor(async () => (await view(gw, alice, id)).status === "sent", 10_000, "sent");
      assert.equal(sink.messages.filter((m) => m.messageId === messageId).length, 1);
    } finally {
      sink.behaviour = {};
    }
  });
});

describe("what breaks inside a delivery is recorded, never a stuck lease", () => {
  const sink = new SmtpSink();
  let gw: TestGateway;
  let slow: string;
  let admin: string;

  before(async () => {
    await sink.start();
    gw = await gateway({
      relayPort: sink.port,
      config: { relay: { retryDelaysSeconds: [0.5], giveUpAfterSeconds: 3 } },
    });
    await gw.start();
    [slow, admin] = await Promise.all([gw.token(SLOW, PW), gw.token(ADMIN, PW)]);
  });
  after(async () => {
    await gw.stop();
    await sink.stop();
  });

  test("a spool file gone before delivery: retries are recorded, then the recipient fails and the sender gets a bounce", async () => {
    const messageId = uniqueId("no-spool");
    // Past spool.inlineMaxBytes (64 KiB), so the body lives in a spool file, not in the database.
    const id = await send(gw, SLOW, "lost@partner.example", messageId, `${"x".repeat(998)}\r\n`.repeat(80));
    const file = join(gw.dataDir, "spool", `${id}.eml`);
    assert.ok(existsSync(file), "the message is spooled");
    unlinkSync(file);
    assert.equal((await gw.api(slow, "POST", `/messages/${id}/release`)).status, 200);
    const failed = await waitFor(
      async () => {
        const v = await view(gw, slow, id);
        return v.status === "failed" ? v : null;
      },
      15_000,
      "failed after the give-up time",
    );
    assert.match(
      failed.groups[0]?.recipients[0]?.response ?? "",
      /^gave up after \d+ attempts: .*spool file .* is missing/,
    );
    assert.deepEqual(
      (await batchesOf(gw, id)).map((g) => [g.status, g.leased]),
      [["failed", 0]],
    );
    assert.ok((await attemptsOf(gw, admin, id)).length >= 2, "each try is an attempt in the audit log");
    const bounce = await waitFor(
      () => sink.to(SLOW).find((m) => m.text.includes(messageId) && /Undeliverable/.test(m.text)),
      10_000,
      "bounce notice",
    );
    assert.match(await bodyText(bounce.raw), /lost@partner\.example: .*is missing: restore it from a backup/);
    assert.equal(
      sink.messages.find((m) => m.messageId === messageId),
      undefined,
    );
  });

  test("a DKIM key made through the admin API signs the next delivery, without a restart", async () => {
    const before = uniqueId("dkim-before");
    await send(gw, ALICE, "d1@partner.example", before);
    const unsigned = await waitFor(() => sink.messages.find((m) => m.messageId === before), 10_000, "relay");
    assert.doesNotMatch(unsigned.text, /^DKIM-Signature:/im, "no key yet (and that is now remembered)");

    const made = await gw.api<{ name: string; value: string }>(admin, "POST", "/admin/dkim", {
      domain: "corp.example",
      selector: "api2026",
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(made.body.name, "api2026._domainkey.corp.example");

    const after = uniqueId("dkim-after");
    await send(gw, ALICE, "d2@partner.example", after);
    const signed = await waitFor(() => sink.messages.find((m) => m.messageId === after), 10_000, "relay");
    const signature = await firstSignature(signed.raw, made.body);
    assert.equal(signature?.status.result, "pass", JSON.stringify(signature?.status));
    assert.equal(signature?.signingDomain, "corp.example");
    assert.equal(signature?.selector, "api2026");
  });
});

describe("an outbox that cannot be written", () => {
  let gw: TestGateway;
  let alice: string;
  let admin: string;

  before(async () => {
    gw = await gateway({ config: { relay: { retryDelaysSeconds: [0.5], giveUpAfterSeconds: 120 } } });
    // Tests run as root, so a read-only directory would not stop the write: a file where the
    // outbox directory should be does.
    writeFileSync(join(gw.dataDir, "outbox"), "not a directory\n");
    await gw.start();
    [alice, admin] = await Promise.all([gw.token(ALICE, PW), gw.token(ADMIN, PW)]);
  });
  after(async () => {
    await gw.stop();
  });

  test("the attempt is a recorded retry with the lease given back, and once the outbox is mended it is written once", async () => {
    const messageId = uniqueId("outbox");
    const id = await send(gw, ALICE, "o@partner.example", messageId);
    await waitFor(
      async () => {
        const [group] = await batchesOf(gw, id);
        const response = (await view(gw, alice, id)).groups[0]?.recipients[0]?.response ?? "";
        return group?.status === "releasing" && group.leased === 0 && /EEXIST|ENOTDIR/.test(response);
      },
      10_000,
      "a recorded retry",
    );
    assert.ok((await attemptsOf(gw, admin, id)).length >= 1);
    rmSync(join(gw.dataDir, "outbox"));
    await waitFor(async () => (await view(gw, alice, id)).status === "sent", 10_000, "sent");
    const files = readdirSync(join(gw.dataDir, "outbox"));
    assert.equal(files.filter((f) => f.startsWith(id)).length, 1, files.join(", "));
    assert.deepEqual(
      files.filter((f) => f.endsWith(".tmp")),
      [],
    );
  });
});
