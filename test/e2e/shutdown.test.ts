// SIGTERM has a bound (config shutdownSeconds): the gateway stops taking new work at once, lets
// what is under way finish until the bound, releases the deliveries still out (sent again at the
// next start: at least once, never lost) and exits. Real gateway, real SMTP clients, a real sink.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { TestGateway, waitFor } from "../helpers/gateway.js";
import { rawMessage, submitSmtp, uniqueId } from "../helpers/fixtures.js";
import { SmtpSink } from "../helpers/sink.js";
import { openData, RawSmtp } from "../helpers/smtp-raw.js";

const PW = "correct-horse-1";
const ALICE = "alice@corp.example";
/** Beyond the bound: closing the store and the threads, the process's exit, a busy machine. */
const EXIT_MARGIN_MS = 3000;

const sink = new SmtpSink();

before(() => sink.start());
after(() => sink.stop());

async function gateway(config: Record<string, unknown> = {}): Promise<TestGateway> {
  const gw = new TestGateway({
    relayPort: sink.port,
    config,
  });
  gw.addUser(ALICE, PW, "--language", "en");
  await gw.start();
  gw.pinPorts();
  return gw;
}

/** SIGTERM, and the milliseconds until the process has exited. */
async function terminate(gw: TestGateway): Promise<number> {
  const started = Date.now();
  await gw.stop("SIGTERM");
  return Date.now() - started;
}

const logged = (gw: TestGateway, msg: string) =>
  waitFor(() => gw.logLines.find((l) => l.msg === msg), 5000, `the log line "${msg}"`);

test("SIGTERM while a slow relay takes the mail: exit within the bound, every message delivered after the restart", async () => {
  const shutdownSeconds = 2;
  const gw = await gateway({ shutdownSeconds });
  try {
    // Slower than the bound: the deliveries under way at SIGTERM cannot finish in it.
    sink.behaviour = { dataDelayMs: 4000 };
    const byMessageId = new Map<string, string>();
    for (let i = 0; i < 10; i++) {
      const messageId = uniqueId("shutdown");
      const to = [`r${i}@partner.example`];
      byMessageId.set(
        messageId,
        await submitSmtp(gw, { user: ALICE, password: PW }, to, rawMessage({ from: ALICE, to, messageId })),
      );
    }
    await waitFor(() => sink.messages.length > 0, 10_000, "the first message at the sink");

    const elapsed = await terminate(gw);
    assert.ok(
      elapsed <= shutdownSeconds * 1000 + EXIT_MARGIN_MS,
      `exited after ${elapsed} ms; the bound is ${shutdownSeconds} s`,
    );
    const deadline = await logged(
      gw,
      "shutdown deadline passed: unacknowledged submissions were cut off (their clients send again); deliveries and notices still in flight are released and sent again at the next start",
    );
    const givenUp = new Set(deadline.msg_ids as string[]);
    assert.ok(givenUp.size > 0, "the deliveries under way were given up");
    assert.equal(deadline.deliveries_given_up, givenUp.size);
    for (const id of givenUp) assert.ok([...byMessageId.values()].includes(id), id);
    await logged(gw, "shut down");

    sink.behaviour = {};
    await gw.start();
    const acknowledged = (messageId: string) =>
      sink.messages.filter((m) => m.messageId === messageId && m.acknowledged).length;
    await waitFor(
      () => [...byMessageId.keys()].every((messageId) => acknowledged(messageId) > 0),
      30_000,
      "every message acknowledged by the sink",
    );
    // A copy the sink acknowledged before the gateway recorded it is sent again: at least once.
    const twice = [...byMessageId].filter(([messageId]) => acknowledged(messageId) > 1);
    const received = [...byMessageId.keys()].filter(
      (messageId) => sink.messages.filter((m) => m.messageId === messageId).length > 1,
    );
    console.log(
      `shutdown: ${givenUp.size} deliveries given up at the bound; ${received.length} messages received twice by the sink, ${twice.length} of them acknowledged twice`,
    );
    for (const [, id] of twice) assert.ok(givenUp.has(id), `${id} was delivered twice but not in flight`);
  } finally {
    sink.behaviour = {};
    await gw.stop();
  }
});

test("an idle SMTP session is told 421 at once and does not hold the shutdown up", async () => {
  const gw = await gateway(); // the default bound, 30 s
  try {
    const idle = await RawSmtp.open(gw.ports.smtp);
    assert.match(await idle.command("EHLO client.test"), /^250/);
    const elapsed = await terminate(gw);
    assert.match(await idle.reply(), /^421 4\.3\.2 /);
    assert.ok(elapsed < EXIT_MARGIN_MS, `exited after ${elapsed} ms`);
    idle.close();
  } finally {
    await gw.stop();
  }
});

test("a message in DATA at SIGTERM is still accepted; new connections are not", async () => {
  const gw = await gateway();
  try {
    const messageId = uniqueId("in-data");
    const to = "late@partner.example";
    const session = await openData(gw.ports.smtp, ALICE, PW, to);
    const raw = rawMessage({ from: ALICE, to: [to], messageId });
    session.write(raw.slice(0, 100));
    const exited = terminate(gw);
    await logged(gw, "shutting down");
    await assert.rejects(RawSmtp.open(gw.ports.smtp), /ECONNREFUSED/);
    session.write(`${raw.slice(100)}\r\n.\r\n`);
    const id = /Queued as (\S+);/.exec(await session.reply())?.[1];
    assert.ok(id, "the message was acknowledged");
    await session.command("QUIT");
    session.close();
    await exited;

    await gw.start();
    await waitFor(
      () => sink.messages.find((m) => m.messageId === messageId),
      10_000,
      "the message at the sink",
    );
  } finally {
    await gw.stop();
  }
});
