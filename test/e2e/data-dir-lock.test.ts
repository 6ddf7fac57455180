// One gateway per data directory: a second `sendguard start` on it would reset the first one's
// leases and deliver its in-flight mail again. It must refuse to start, and say who holds the lock.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { after, before, test } from "node:test";
import nodemailer from "nodemailer";
import { BIN, TestGateway, waitFor } from "../helpers/gateway.js";
import { rawMessage, uniqueId } from "../helpers/fixtures.js";
import { SmtpSink } from "../helpers/sink.js";

const PW = "correct-horse-1";
const sink = new SmtpSink();
let gw: TestGateway;

before(async () => {
  await sink.start();
  gw = new TestGateway({ relayPort: sink.port });
  gw.addUser("admin@corp.example", PW, "--role", "admin");
  await gw.start();
});
after(async () => {
  await gw.stop();
  await sink.stop();
});

/** Runs a second `sendguard start` on the gateway's config; fails the test if that one starts listening. */
function startSecond(): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, "start", "--config", gw.configFile], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, SENDGUARD_CONFIG: "" },
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (!line.includes('"event":"listening"')) return;
      child.kill("SIGKILL");
      reject(new Error("a second gateway started on the same data directory"));
    });
    child.once("exit", (code) => resolve({ code, stderr }));
  });
}

async function submit(messageId: string): Promise<void> {
  const transport = nodemailer.createTransport({
    host: "127.0.0.1",
    port: gw.ports.smtp,
    tls: { rejectUnauthorized: false },
    auth: { user: "admin@corp.example", pass: PW },
  });
  try {
    await transport.sendMail({
      envelope: { from: "admin@corp.example", to: ["x@partner.example"] },
      raw: rawMessage({ from: "admin@corp.example", to: ["x@partner.example"], messageId }),
    });
  } finally {
    transport.close();
  }
}

const atSink = (messageId: string) => sink.messages.filter((m) => m.messageId === messageId);

test("a second gateway on the same data directory exits with a message; the first delivers its mail once", async () => {
  // A delivery the first gateway has in flight while the second one tries to start.
  sink.behaviour = { dataDelayMs: 1500 };
  const inFlight = uniqueId("inflight");
  await submit(inFlight);
  await waitFor(() => atSink(inFlight).length === 1, 10_000, "the delivery at the sink");

  const second = await startSecond();
  assert.notEqual(second.code, 0);
  assert.match(
    second.stderr,
    new RegExp(`data directory ${gw.dataDir} is in use by another Sendguard gateway`),
  );
  assert.match(second.stderr, new RegExp(`\\(pid ${gw.pid}\\)`), "names the process holding the directory");

  sink.behaviour = {};
  await waitFor(
    async () =>
      (await gw.query<{ status: string }>("SELECT status FROM messages WHERE message_id = ?", [inFlight]))[0]
        ?.status === "sent",
    10_000,
    "the first delivery recorded",
  );
  const later = uniqueId("later");
  await submit(later);
  await waitFor(() => atSink(later).length === 1, 10_000, "a later message delivered by the first gateway");
  assert.equal(atSink(inFlight).length, 1, "the in-flight message was not delivered again");
});

test("after kill -9 of the gateway, a new one starts on the same data directory", async () => {
  gw.pinPorts();
  await gw.stop("SIGKILL");
  await gw.start();
  const afterRestart = uniqueId("restart");
  await submit(afterRestart);
  await waitFor(() => atSink(afterRestart).length === 1, 10_000, "a message delivered after the restart");
});
