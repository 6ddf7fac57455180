// kill -9 while clients submit: every message that got 250 is delivered after the restart, none twice.
// Half the clients send messages small enough to be stored in the database, half ones large enough
// for a spool file (spool.inlineMaxBytes, 64 KiB by default).
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import nodemailer from "nodemailer";
import { TestGateway, waitFor } from "../helpers/gateway.js";
import { rawMessage, uniqueId } from "../helpers/fixtures.js";
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
