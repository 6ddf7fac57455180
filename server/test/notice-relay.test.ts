// NoticeRelay (server/src/delivery/notice-relay.ts): notices relayed from a worker thread to a real
// SMTP server, and what happens when the thread cannot relay.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { SMTPServer } from "smtp-server";
import { parseConfig } from "../src/config/load.js";
import { NoticeRelay } from "../src/delivery/notice-relay.js";

const NOTICE = Buffer.from(
  "From: sendguard@corp.example\r\nTo: alice@corp.example\r\nSubject: =?UTF-8?B?44CQ6YWN6YCB5L+d55WZ44CR?=\r\nMessage-ID: <n1@gw.test>\r\n\r\n保留中です。\r\n",
  "utf8",
);
const OPTIONS = { dkim: null, name: "notice-1-hold", messageId: "n1@gw.test" };
const ENVELOPE = { from: "sendguard@corp.example", to: ["alice@corp.example"] };

describe("NoticeRelay", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "sendguard-notice-relay-"));
  const received: Buffer[] = [];
  const sink = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        received.push(Buffer.concat(chunks));
        callback();
      });
    },
  });
  let port = 0;
  const config = (url: string) => parseConfig({ dataDir, relay: { url } }, "test");

  before(async () => {
    await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));
    port = (sink.server.address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise<void>((resolve) => sink.close(() => resolve()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("relays a notice byte for byte from its thread and reports it sent", async () => {
    const relay = new NoticeRelay(config(`smtp://127.0.0.1:${port}`));
    try {
      const results = await relay.send(ENVELOPE, NOTICE, OPTIONS);
      assert.deepEqual(
        results.map((r) => [r.address, r.outcome]),
        [["alice@corp.example", "sent"]],
      );
      assert.equal(received.length, 1);
      assert.ok(received[0]?.includes(NOTICE), "the notice arrives unchanged");
      const many = await Promise.all(Array.from({ length: 20 }, () => relay.send(ENVELOPE, NOTICE, OPTIONS)));
      assert.equal(many.flat().filter((r) => r.outcome === "sent").length, 20);
    } finally {
      await relay.close();
    }
  });

  test("an unreachable next hop is a retry, not an error", async () => {
    const relay = new NoticeRelay(config("smtp://127.0.0.1:1"));
    try {
      const [result] = await relay.send(ENVELOPE, NOTICE, OPTIONS);
      assert.equal(result?.outcome, "retry");
      assert.match(result?.response ?? "", /ECONNREFUSED|connect/i);
    } finally {
      await relay.close();
    }
  });

  test("a thread that cannot start answers every notice it held with retry, and close still returns", async () => {
    // Valid for the schema, but no URL the thread's relay can be made from.
    const relay = new NoticeRelay({
      ...config("outbox"),
      relay: { ...config("outbox").relay, url: "smtp://[" },
    });
    const results = await Promise.all([
      relay.send(ENVELOPE, NOTICE, OPTIONS),
      relay.send({ ...ENVELOPE, to: ["bob@corp.example", "carol@corp.example"] }, NOTICE, OPTIONS),
    ]);
    assert.deepEqual(
      results.flat().map((r) => [r.address, r.outcome]),
      [
        ["alice@corp.example", "retry"],
        ["bob@corp.example", "retry"],
        ["carol@corp.example", "retry"],
      ],
    );
    assert.match(results[0]?.[0]?.response ?? "", /notice relay thread (failed|stopped)/);
    await relay.close();
  });

  test("close waits for what is in flight, and a closed relay starts a new thread when used again", async () => {
    const relay = new NoticeRelay(config(`smtp://127.0.0.1:${port}`));
    const before = received.length;
    const sending = relay.send(ENVELOPE, NOTICE, OPTIONS);
    await relay.close();
    assert.equal((await sending)[0]?.outcome, "sent");
    assert.equal(received.length, before + 1);
    assert.equal((await relay.send(ENVELOPE, NOTICE, OPTIONS))[0]?.outcome, "sent");
    await relay.close();
  });
});
