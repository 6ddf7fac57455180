// RelayThread (server/src/delivery/relay-thread.ts): notices and stored messages relayed from a
// worker thread to a real SMTP server, DKIM-signed there, and what happens when it cannot relay.
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { dkimVerify } from "mailauth/lib/dkim/verify.js";
import { SMTPServer } from "smtp-server";
import { parseConfig } from "../src/config/load.js";
import type { OutgoingMessage } from "../src/delivery/outgoing.js";
import { RelayThread } from "../src/delivery/relay-thread.js";

const NOTICE = Buffer.from(
  "From: sendguard@corp.example\r\nTo: alice@corp.example\r\nSubject: =?UTF-8?B?44CQ6YWN6YCB5L+d55WZ44CR?=\r\nMessage-ID: <n1@gw.test>\r\n\r\n保留中です。\r\n",
  "utf8",
);
const OPTIONS = { dkim: null, name: "notice-1-hold", messageId: "n1@gw.test" };
const ENVELOPE = { from: "sendguard@corp.example", to: ["alice@corp.example"] };

describe("RelayThread", () => {
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
    const relay = new RelayThread(config(`smtp://127.0.0.1:${port}`));
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
    const relay = new RelayThread(config("smtp://127.0.0.1:1"));
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
    const relay = new RelayThread({
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
    assert.match(results[0]?.[0]?.response ?? "", /relay thread (failed|stopped)/);
    await relay.close();
  });

  describe("stored messages", () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const dkim = {
      domainName: "corp.example",
      keySelector: "s1",
      privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    };
    const dkimTxt = `v=DKIM1; k=rsa; p=${publicKey.export({ type: "spki", format: "der" }).toString("base64")}`;
    const header =
      "From: alice@corp.example\r\nTo: x@partner.example\r\nBcc: hidden@partner.example\r\n" +
      "X-Sendguard-Confirmed: yes\r\nSubject: report\r\nMessage-ID: <s1@gw.test>\r\n\r\n";
    // over 1 MiB: nodemailer's DKIM signer buffers it in the disk cache, not in memory
    const body = "line of the report with trailing space \r\n".repeat(30_000);
    const leaving = (source: OutgoingMessage["source"]): OutgoingMessage => ({
      added: "Date: Thu, 1 Jan 2026 00:00:00 +0000\r\n",
      dropRecipientFields: false,
      headerBytes: Buffer.byteLength(header),
      source,
    });
    const spoolDir = join(dataDir, "spool");
    const envelope = { from: "alice@corp.example", to: ["x@partner.example", "hidden@partner.example"] };
    const options = { dkim, name: "m1-external-1", messageId: "s1@gw.test" };

    before(() => {
      mkdirSync(spoolDir, { recursive: true });
      mkdirSync(join(dataDir, "tmp", "dkim"), { recursive: true });
      writeFileSync(join(spoolDir, "m1.eml"), header + body);
    });

    test("from a spool file and from bytes: internal headers dropped, signed in the thread, verifiable", async () => {
      const relay = new RelayThread(config(`smtp://127.0.0.1:${port}`));
      try {
        for (const source of [{ spoolDir, name: "m1.eml" }, { bytes: Buffer.from(header + body) }]) {
          const before = received.length;
          const results = await relay.deliver(envelope, leaving(source), options);
          assert.deepEqual(
            results.map((r) => r.outcome),
            ["sent", "sent"],
          );
          const raw = received[before] as Buffer;
          const text = raw.toString("latin1");
          assert.match(text, /^DKIM-Signature: /);
          assert.ok(
            text.endsWith(
              "Date: Thu, 1 Jan 2026 00:00:00 +0000\r\nFrom: alice@corp.example\r\nTo: x@partner.example\r\n" +
                "Subject: report\r\nMessage-ID: <s1@gw.test>\r\n\r\n" +
                body,
            ),
            "added headers first, Bcc and X-Sendguard-* dropped, the body byte for byte",
          );
          const verified = await dkimVerify(raw, {
            resolver: async (name: string, rr: string) => {
              if (name === "s1._domainkey.corp.example" && rr === "TXT") return [[dkimTxt]];
              throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
            },
          });
          assert.equal(
            verified.results[0]?.status.result,
            "pass",
            JSON.stringify(verified.results[0]?.status),
          );
        }
      } finally {
        await relay.close();
      }
    });

    test("a DKIM key that cannot sign, or a spool file that is gone: a retry, and nothing is relayed", async () => {
      const relay = new RelayThread(config(`smtp://127.0.0.1:${port}`));
      try {
        const before = received.length;
        const unsigned = await relay.deliver(envelope, leaving({ spoolDir, name: "m1.eml" }), {
          ...options,
          dkim: { ...dkim, privateKey: "-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n" },
        });
        assert.deepEqual(
          unsigned.map((r) => r.outcome),
          ["retry", "retry"],
        );
        const gone = await relay.deliver(envelope, leaving({ spoolDir, name: "missing.eml" }), options);
        assert.deepEqual(
          gone.map((r) => r.outcome),
          ["retry", "retry"],
        );
        assert.match(gone[0]?.response ?? "", /spool file missing\.eml\) is missing/);
        assert.equal(received.length, before);
        // the thread still relays
        const ok = await relay.deliver(
          envelope,
          leaving({ bytes: Buffer.from(header + "short\r\n") }),
          options,
        );
        assert.deepEqual(
          ok.map((r) => r.outcome),
          ["sent", "sent"],
        );
      } finally {
        await relay.close();
      }
    });
  });

  test("close waits for what is in flight, and a closed relay starts a new thread when used again", async () => {
    const relay = new RelayThread(config(`smtp://127.0.0.1:${port}`));
    const before = received.length;
    const sending = relay.send(ENVELOPE, NOTICE, OPTIONS);
    await relay.close();
    assert.equal((await sending)[0]?.outcome, "sent");
    assert.equal(received.length, before + 1);
    assert.equal((await relay.send(ENVELOPE, NOTICE, OPTIONS))[0]?.outcome, "sent");
    await relay.close();
  });
});
