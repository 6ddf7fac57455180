// kill -9 while clients submit: every message that got 250 is delivered after the restart, none twice.
// Half the clients send messages small enough to be stored in the database, half ones large enough
// for a spool file (spool.inlineMaxBytes, 64 KiB by default).
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import nodemailer from "nodemailer";
import { TestGateway, waitFor } from "../helpers/gateway.js";
import { allMessages, rawMessage, uniqueId } from "../helpers/fixtures.js";
import { SmtpSink } from "../helpers/sink.js";

const PW = "correct-horse-1";
const CLIENTS = 10;
const LARGE_BODY = "0123456789abcdef".repeat(5).concat("\r\n").repeat(1000); // 82 KB

const sink = new SmtpSink();
let gw: TestGateway;

before(async () => {
  await sink.start();
  // A hold of 3 s keeps relaying out of the kill window: the test is about what was acknowledged.
  gw = new TestGateway({ relayPort: sink.port, config: { organization: { holdMinutes: 0.05 } } });
  gw.addUser("admin@corp.example", PW, "--role", "admin");
  await gw.start();
  const admin = await gw.token("admin@corp.example", PW);
  for (let i = 0; i < CLIENTS; i++) {
    const r = await gw.api(admin, "POST", "/admin/users", { email: `u${i}@corp.example`, password: PW });
    assert.equal(r.status, 201);
  }
  gw.pinPorts();
});
after(async () => {
  await gw.stop();
  await sink.stop();
});

test("kill -9 during 10 concurrent submitting clients loses no acknowledged message and sends none twice", async () => {
  const acknowledged = new Set<string>();
  let refused = 0;
  let stop = false;
  const clients = Array.from({ length: CLIENTS }, async (_, i) => {
    const user = `u${i}@corp.example`;
    const transport = nodemailer.createTransport({
      host: "127.0.0.1",
      port: gw.ports.smtp,
      tls: { rejectUnauthorized: false },
      auth: { user, pass: PW },
      connectionTimeout: 2000,
    });
    while (!stop) {
      const messageId = uniqueId(`c${i}`);
      try {
        const info = await transport.sendMail({
          envelope: { from: user, to: ["x@partner.example"] },
          raw: rawMessage({
            from: user,
            to: ["x@partner.example"],
            messageId,
            ...(i % 2 ? { body: LARGE_BODY } : {}),
          }),
        });
        if (/^250 /.test(info.response)) acknowledged.add(messageId);
      } catch {
        refused++;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    transport.close();
  });
  await waitFor(() => acknowledged.size >= 40, 20_000, "40 acknowledged messages");
  await gw.stop("SIGKILL");
  await waitFor(() => refused > 0, 10_000, "a submission refused while the gateway is down");
  stop = true;
  await Promise.all(clients);
  assert.ok(refused > 0, "some submissions failed while the gateway was down");

  await gw.start();
  const delivered = () => new Set(sink.messages.map((m) => m.messageId));
  await waitFor(
    () => [...acknowledged].every((id) => delivered().has(id)),
    30_000,
    "every acknowledged message at the sink",
  );
  await new Promise((r) => setTimeout(r, 1000));
  const counts = new Map<string, number>();
  for (const m of sink.messages) if (m.messageId) counts.set(m.messageId, (counts.get(m.messageId) ?? 0) + 1);
  const twice = [...counts].filter(([, n]) => n > 1);
  assert.deepEqual(twice, [], "no message delivered twice");
  const missing = [...acknowledged].filter((id) => !counts.has(id));
  assert.deepEqual(missing, []);
});

// The group commit fsyncs the spool directory and commits the rows side by side: a crash between
// the two can leave rows whose file never became durable. Those messages were never acknowledged.
test("after a restart, a message whose spool file is missing is removed, the others stay held", async () => {
  const held = new TestGateway({
    relayPort: sink.port,
    // Every message in a spool file, however small.
    config: { organization: { holdMinutes: 60 }, spool: { inlineMaxBytes: 0 } },
  });
  held.addUser("admin@corp.example", PW, "--role", "admin");
  await held.start();
  try {
    const transport = nodemailer.createTransport({
      host: "127.0.0.1",
      port: held.ports.smtp,
      tls: { rejectUnauthorized: false },
      auth: { user: "admin@corp.example", pass: PW },
    });
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const info = await transport.sendMail({
        envelope: { from: "admin@corp.example", to: ["x@partner.example"] },
        raw: rawMessage({
          from: "admin@corp.example",
          to: ["x@partner.example"],
          messageId: uniqueId("lost"),
        }),
      });
      const id = /Queued as (\S+);/.exec(info.response)?.[1];
      assert.ok(id, info.response);
      ids.push(id);
    }
    transport.close();
    const [lost, kept] = ids as [string, string];
    held.pinPorts();
    await held.stop("SIGKILL");
    rmSync(join(held.dataDir, "spool", `${lost}.eml`));

    await held.start();
    const admin = await held.token("admin@corp.example", PW);
    assert.equal((await held.api(admin, "GET", `/messages/${lost}`)).status, 404);
    const still = await held.api<{ status: string }>(admin, "GET", `/messages/${kept}`);
    assert.equal(still.status, 200);
    assert.equal(still.body.status, "held");
    const removed = held.logLines.find((l) => l.msg === "removed messages without a spool file");
    assert.deepEqual(removed?.msg_ids, [lost]);
    const audit = await held.api<{ entries: { action: string; messageId: string }[] }>(
      admin,
      "GET",
      `/admin/audit?messageId=${lost}`,
    );
    assert.equal(audit.status, 200);
    assert.ok(audit.body.entries.some((e) => e.action === "forgotten"));
  } finally {
    await held.stop();
  }
});

// kill -9 while the relay takes 200 due messages: the leases the dead gateway held are reset at the
// next start and delivered again. Only those can reach the relay twice (at least once), and only
// when the relay had acknowledged one before the gateway recorded it.
test("kill -9 while 200 due messages are relayed: each is delivered after the restart, duplicates only among those in flight", async () => {
  const COUNT = 200;
  const slowSink = new SmtpSink();
  await slowSink.start();
  const relaying = new TestGateway({ relayPort: slowSink.port });
  // Held an hour: all are stored before any is due; then they are released at once.
  relaying.addUser("bulk@corp.example", PW, "--hold-minutes", "60");
  relaying.addUser("admin@corp.example", PW, "--role", "admin");
  await relaying.start();
  try {
    relaying.pinPorts();
    const transport = nodemailer.createTransport({
      pool: true,
      maxConnections: 5,
      host: "127.0.0.1",
      port: relaying.ports.smtp,
      tls: { rejectUnauthorized: false },
      auth: { user: "bulk@corp.example", pass: PW },
    });
    const idOf = new Map<string, string>(); // Message-ID → the gateway's id
    await Promise.all(
      Array.from({ length: COUNT }, async () => {
        const messageId = uniqueId("relayed");
        const info = await transport.sendMail({
          envelope: { from: "bulk@corp.example", to: ["x@partner.example"] },
          raw: rawMessage({ from: "bulk@corp.example", to: ["x@partner.example"], messageId }),
        });
        const id = /Queued as (\S+);/.exec(info.response)?.[1];
        assert.ok(id, info.response);
        idOf.set(messageId, id);
      }),
    );
    transport.close();
    assert.equal(idOf.size, COUNT);

    // 5 relay connections at over 200 ms a message: under 25 a second, so the kill meets them mid-way.
    slowSink.behaviour = { dataDelayMs: 200 };
    const bulk = await relaying.token("bulk@corp.example", PW);
    const ids = [...idOf.values()];
    for (let i = 0; i < ids.length; i += 50) {
      const released = await Promise.all(
        ids.slice(i, i + 50).map((id) => relaying.api(bulk, "POST", `/messages/${id}/release`)),
      );
      for (const r of released) assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    // The sink takes the notices about them too (release notices to the sender).
    const ours = () => slowSink.messages.filter((m) => m.messageId !== null && idOf.has(m.messageId));
    // Killed with messages at the sink waiting for its reply: the relay has them, the gateway has no outcome.
    await waitFor(
      () => ours().length >= 20 && ours().some((m) => !m.acknowledged),
      20_000,
      "20 messages at the sink, and one waiting for its reply",
    );
    await relaying.stop("SIGKILL");
    const atKill = ours().length;
    assert.ok(atKill < COUNT, `the sink had received ${atKill} of ${COUNT} at the kill: too late`);
    // What the dead gateway had in flight: its leases, still set in the database.
    const leased = await relaying.query<{ message_id: string }>(
      "SELECT message_id FROM groups WHERE leased = 1",
    );
    const inFlight = new Set(leased.map((g) => g.message_id));
    const concurrency = 20; // relay.concurrency's default: no more are leased at once
    assert.ok(inFlight.size <= concurrency, `${inFlight.size} leased`);

    slowSink.behaviour = {};
    await relaying.start();
    const admin = await relaying.token("admin@corp.example", PW);
    // Final when sent: no group waits for a retry any more, so nothing more will go out.
    await waitFor(
      async () => {
        const listed = (await allMessages(relaying, admin)).filter((m) => ids.includes(m.id));
        return listed.length === COUNT && listed.every((m) => m.status === "sent");
      },
      60_000,
      "every message sent",
    );
    const copies = (messageId: string, acknowledgedOnly: boolean) =>
      slowSink.messages.filter((m) => m.messageId === messageId && (!acknowledgedOnly || m.acknowledged))
        .length;
    const notDelivered = [...idOf.keys()].filter((messageId) => copies(messageId, true) === 0);
    assert.deepEqual(notDelivered, [], "every message acknowledged by the sink");
    const twice = [...idOf].filter(([messageId]) => copies(messageId, true) > 1);
    const receivedTwice = [...idOf.keys()].filter((messageId) => copies(messageId, false) > 1);
    console.log(
      `crash while relaying: ${atKill} of ${COUNT} at the sink at the kill, ${inFlight.size} leased; ` +
        `after the restart ${receivedTwice.length} received twice, ${twice.length} acknowledged twice (duplicates)`,
    );
    for (const [messageId, id] of twice)
      assert.ok(inFlight.has(id), `${messageId} delivered twice but not in flight`);
    assert.ok(twice.length <= inFlight.size);
    assert.ok(receivedTwice.length <= inFlight.size, "only messages in flight reached the sink again");
  } finally {
    await relaying.stop();
    await slowSink.stop();
  }
});
