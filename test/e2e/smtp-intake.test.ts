// SMTP submission against the running gateway with real clients (swaks, nodemailer, raw sockets).
import assert from "node:assert/strict";
import { networkInterfaces } from "node:os";
import { after, before, describe, test } from "node:test";
import { connect as tlsConnect } from "node:tls";
import nodemailer from "nodemailer";
import { TestGateway, waitFor } from "../helpers/gateway.js";
import { allMessages, rawMessage, spoolFiles, uniqueId } from "../helpers/fixtures.js";
import { SmtpSink } from "../helpers/sink.js";
import { authPlain, openData, RawSmtp } from "../helpers/smtp-raw.js";
import { swaks } from "../helpers/swaks.js";

const PASSWORD = "alice-password-1";
const ALICE = "alice@corp.example";

describe("SMTP intake", () => {
  const sink = new SmtpSink();
  let gw: TestGateway;
  let admin: string;

  before(async () => {
    await sink.start();
    gw = new TestGateway({
      relayPort: sink.port,
      config: {
        organization: { holdMinutes: 60 },
        smtp: { maxMessageBytes: 64 * 1024, authFailures: { perUser: 3, perIp: 50, windowSeconds: 60 } },
      },
    });
    gw.addUser(ALICE, PASSWORD, "--alias", "sales@corp.example");
    gw.addUser("locked@corp.example", "locked-password-1");
    gw.addUser("admin@corp.example", "admin-password-1", "--role", "admin");
    await gw.start();
    admin = await gw.token("admin@corp.example", "admin-password-1");
  });
  after(async () => {
    await gw.stop();
    await sink.stop();
  });

  const auth = ["--auth", "PLAIN", "--auth-user", ALICE, "--auth-password", PASSWORD];
  const server = () => ["--server", `127.0.0.1:${gw.ports.smtp}`];

  /** What the gateway has stored: message rows and spool files. */
  async function stored(): Promise<{ messages: number; files: number }> {
    return { messages: (await allMessages(gw, admin)).length, files: spoolFiles(gw).length };
  }

  async function assertNothingStored(before: { messages: number; files: number }): Promise<void> {
    const now = await stored();
    assert.equal(now.messages, before.messages, "no message row was added");
    assert.equal(now.files, before.files, "no spool file was left behind");
  }

  test("accepts an authenticated submission over STARTTLS and reports the hold time", async () => {
    const r = swaks([...server(), "--tls", ...auth, "--from", ALICE, "--to", "bob@partner.example"]);
    assert.match(r.lastReply, /^250 2\.0\.0 Queued as \S+; held until \d{4}-\d\d-\d\d \d\d:\d\d \(\+09:00\)/);
    const id = /Queued as (\S+);/.exec(r.lastReply)?.[1];
    const stored = (await allMessages(gw, admin)).find((m) => m.id === id);
    assert.equal(stored?.status, "held");
  });

  test("accepts nodemailer as a client and an alias of the user as sender", async () => {
    const transport = nodemailer.createTransport({
      host: "127.0.0.1",
      port: gw.ports.smtp,
      requireTLS: true,
      tls: { rejectUnauthorized: false },
      auth: { user: ALICE, pass: PASSWORD },
    });
    const info = await transport.sendMail({
      from: "sales@corp.example",
      to: "carol@partner.example",
      subject: "見積書の件",
      text: "本文",
    });
    transport.close();
    assert.match(info.response, /^250 2\.0\.0 Queued as/);
  });

  test("refuses MAIL without AUTH with 530 5.7.0", async () => {
    const before = await stored();
    const r = swaks([...server(), "--from", ALICE, "--to", "bob@partner.example"]);
    assert.match(r.lastReply, /^530 5\.7\.0 Authentication required/);
    await assertNothingStored(before);
  });

  test("refuses a sender that is neither the user nor an alias with 550 5.7.1", () => {
    const r = swaks([
      ...server(),
      "--tls",
      ...auth,
      "--from",
      "ceo@corp.example",
      "--to",
      "bob@partner.example",
    ]);
    assert.match(
      r.lastReply,
      /^550 5\.7\.1 Sender <ceo@corp\.example> is not allowed for alice@corp\.example/,
    );
  });

  test("wrong passwords get 535 and then lock the user out with 454", () => {
    const wrong = ["--auth", "PLAIN", "--auth-user", "locked@corp.example", "--auth-password", "nope"];
    for (let i = 0; i < 3; i++) {
      assert.match(
        swaks([...server(), "--tls", ...wrong, "--from", "locked@corp.example", "--to", "x@partner.example"])
          .lastReply,
        /^535 5\.7\.8/,
      );
    }
    const right = [
      "--auth",
      "PLAIN",
      "--auth-user",
      "locked@corp.example",
      "--auth-password",
      "locked-password-1",
    ];
    const r = swaks([
      ...server(),
      "--tls",
      ...right,
      "--from",
      "locked@corp.example",
      "--to",
      "x@partner.example",
    ]);
    assert.match(r.lastReply, /^454 4\.7\.0 Too many failed logins; try again in \d+ s/);
  });

  test("refuses a message over the size limit with 552 and stores nothing", async () => {
    const before = await stored();
    const big = "x".repeat(76) + "\r\n";
    const client = await openData(gw.ports.smtp, ALICE, PASSWORD, "bob@partner.example");
    client.write(
      rawMessage({ from: ALICE, to: ["bob@partner.example"], body: big.repeat(1200) }) + "\r\n.\r\n",
    );
    assert.match(await client.reply(), /^552 5\.3\.4/);
    client.close();
    await assertNothingStored(before);
  });

  const smuggling: [string, string][] = [
    ["\\n.\\n", "\n.\n"],
    ["\\r.\\r", "\r.\r"],
    ["\\n.\\r\\n", "\n.\r\n"],
    ["\\r\\n.\\n", "\r\n.\n"],
  ];
  for (const [name, terminator] of smuggling) {
    test(`SMTP smuggling with ${name}: the whole message is refused and nothing is stored or relayed`, async () => {
      const before = await stored();
      const client = await openData(gw.ports.smtp, ALICE, PASSWORD, "bob@partner.example");
      const smuggled = `MAIL FROM:<${ALICE}>\r\nRCPT TO:<victim@partner.example>\r\nDATA\r\nFrom: ${ALICE}\r\nSubject: smuggled\r\n\r\nsmuggled\r\n`;
      client.write(
        `${rawMessage({ from: ALICE, to: ["bob@partner.example"], body: "first part" })}${terminator}${smuggled}\r\n.\r\n`,
      );
      const reply = await client.reply();
      assert.match(reply, /^550 5\.6\.11 bare (LF|CR)/);
      // No second transaction: nothing else was answered.
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(client.pending(), "");
      client.close();
      await assertNothingStored(before);
    });
  }

  test("STARTTLS command injection: a command pipelined after STARTTLS is never run", async () => {
    const client = await RawSmtp.open(gw.ports.smtp);
    await client.command("EHLO client.test");
    client.write("STARTTLS\r\nRSET\r\n");
    assert.match(await client.reply(), /^220/);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(client.pending(), "", "no plaintext reply to the injected RSET");
    // The TLS session starts clean: its first reply is to our EHLO, not to the injected RSET.
    const socket = (client as unknown as { socket: import("node:net").Socket }).socket;
    const secure = tlsConnect({ socket, rejectUnauthorized: false, servername: "gw.test" });
    await new Promise<void>((resolve, reject) => secure.once("secureConnect", resolve).once("error", reject));
    const replies: string[] = [];
    secure.on("data", (d: Buffer) => replies.push(d.toString()));
    secure.write("EHLO client.test\r\n");
    await waitFor(() => /^250 [^\n]*\n/m.test(replies.join("")), 10_000, "the whole EHLO reply");
    assert.match(replies.join(""), /^250-/);
    assert.doesNotMatch(replies.join(""), /Flushed|2\.0\.0 OK/);
    secure.destroy();
  });

  test("malformed commands get 5xx replies and the session stays usable", async () => {
    const client = await RawSmtp.open(gw.ports.smtp);
    await client.command("EHLO client.test");
    assert.match(await client.command("HELLO there"), /^5\d\d/);
    assert.match(await client.command("RCPT TO:<bob@partner.example>"), /^503/);
    await client.startTls();
    assert.match(await client.command(authPlain(ALICE, PASSWORD)), /^235/);
    assert.match(await client.command("MAIL FROM:<not-an-address"), /^501/);
    assert.match(await client.command(`MAIL FROM:<${ALICE}>`), /^250/);
    assert.match(
      await client.command(`RCPT TO:<${"a".repeat(70)}@partner.example>`),
      /^553 5\.1\.3 .*local part longer than 64/,
    );
    assert.match(await client.command("RCPT TO:<bob@partner.example>"), /^250/);
    assert.match(await client.command("NOOP"), /^250/);
    client.close();
  });

  const broken: [string, string][] = [
    [
      "a header line without a colon",
      `From: ${ALICE}\r\nTo: bob@partner.example\r\nThis is not a header\r\n\r\nbody\r\n`,
    ],
    [
      "a multipart body without its boundary",
      `From: ${ALICE}\r\nTo: bob@partner.example\r\nContent-Type: multipart/mixed; boundary="abc"\r\n\r\nno parts here\r\n`,
    ],
    ["no From header", `To: bob@partner.example\r\nSubject: x\r\n\r\nbody\r\n`],
    ["a continuation line first", ` folded\r\nFrom: ${ALICE}\r\n\r\nbody\r\n`],
  ];
  for (const [name, message] of broken) {
    test(`broken MIME (${name}) is refused with 554 5.6.0 and nothing is stored`, async () => {
      const before = await stored();
      const client = await openData(gw.ports.smtp, ALICE, PASSWORD, "bob@partner.example");
      client.write(`${message}.\r\n`);
      assert.match(await client.reply(), /^554 5\.6\.0 /);
      client.close();
      await assertNothingStored(before);
    });
  }

  test("nothing was relayed while messages are held", () => {
    assert.equal(sink.messages.filter((m) => !m.text.includes("Auto-Submitted")).length, 0);
    void uniqueId;
  });
});

describe("SMTP intake from a trusted network (e.g. an Exchange Online connector)", () => {
  let gw: TestGateway;
  before(async () => {
    gw = new TestGateway({
      config: { smtp: { trustedNetworks: ["127.0.0.0/8"], requireTlsForAuth: true, implicitTlsPort: 0 } },
    });
    await gw.start();
  });
  after(() => gw.stop());

  test("an internal sender may submit without AUTH", () => {
    const r = swaks([
      "--server",
      `127.0.0.1:${gw.ports.smtp}`,
      "--from",
      "anyone@corp.example",
      "--to",
      "x@partner.example",
    ]);
    assert.match(r.lastReply, /^250 2\.0\.0 Queued as/);
  });

  test("an external sender is refused with 550 5.7.1", () => {
    const r = swaks([
      "--server",
      `127.0.0.1:${gw.ports.smtp}`,
      "--from",
      "spoof@evil.example",
      "--to",
      "x@partner.example",
    ]);
    assert.match(r.lastReply, /^550 5\.7\.1 Sender <spoof@evil\.example> is not in an internal domain/);
  });

  test("AUTH before STARTTLS is refused when TLS is required for AUTH", async () => {
    const client = await RawSmtp.open(gw.ports.smtp);
    await client.command("EHLO client.test");
    assert.match(await client.command(authPlain("a@corp.example", "whatever-123")), /^538 /);
    client.close();
  });

  test("the implicit-TLS port (RFC 8314) speaks TLS from the first byte", () => {
    assert.ok(gw.ports.smtps);
    const r = swaks([
      "--server",
      `127.0.0.1:${gw.ports.smtps}`,
      "--tls-on-connect",
      "--from",
      "anyone@corp.example",
      "--to",
      "x@partner.example",
    ]);
    assert.match(r.output, /^<~ {2}220 /m, "the greeting already came over TLS");
    assert.match(r.lastReply, /^250 2\.0\.0 Queued as/);
  });
});

describe("SMTP AUTH only over TLS (smtp.requireTlsForAuth, the default)", () => {
  let gw: TestGateway;
  before(async () => {
    gw = new TestGateway({ config: { smtp: { implicitTlsPort: 0 } } });
    gw.addUser(ALICE, PASSWORD);
    await gw.start();
  });
  after(() => gw.stop());

  const login = ["--auth", "PLAIN", "--auth-user", ALICE, "--auth-password", PASSWORD];
  const envelope = ["--from", ALICE, "--to", "bob@partner.example"];

  test("AUTH in plain text is refused with 538, even from loopback, and the session stays unauthenticated", async () => {
    const client = await RawSmtp.open(gw.ports.smtp);
    await client.command("EHLO client.test");
    assert.match(await client.command(authPlain(ALICE, PASSWORD)), /^538 /);
    assert.match(await client.command(`MAIL FROM:<${ALICE}>`), /^530 5\.7\.0 Authentication required/);
    client.close();
  });

  test("swaks without STARTTLS cannot authenticate", () => {
    const r = swaks(["--server", `127.0.0.1:${gw.ports.smtp}`, ...login, ...envelope]);
    assert.match(r.output, /<\*\* +538 /);
    assert.doesNotMatch(r.output, /Queued as/);
  });

  test("after STARTTLS, AUTH works", () => {
    const r = swaks(["--server", `127.0.0.1:${gw.ports.smtp}`, "--tls", ...login, ...envelope]);
    assert.match(r.lastReply, /^250 2\.0\.0 Queued as/);
  });

  test("the implicit-TLS port counts as TLS", () => {
    assert.ok(gw.ports.smtps);
    const r = swaks(["--server", `127.0.0.1:${gw.ports.smtps}`, "--tls-on-connect", ...login, ...envelope]);
    assert.match(r.lastReply, /^250 2\.0\.0 Queued as/);
  });

  test("the start log names the trusted networks (none) and that AUTH needs TLS", () => {
    const line = gw.logLines.find((l) => l.event === "smtp_access");
    assert.ok(line, "an smtp_access line");
    assert.deepEqual(line.trustedNetworks, []);
    assert.equal(line.requireTlsForAuth, true);
    assert.equal(line.allowPlainAuthFromLoopback, false);
  });
});

/** An address of this host that is not loopback: a client connecting to it is not exempt. */
function nonLoopbackAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === "IPv4" && !i.internal)?.address;
}

describe("smtp.allowPlainAuthFromLoopback (for tests only)", () => {
  const exempt = new TestGateway({ config: { smtp: { allowPlainAuthFromLoopback: true } } });
  const external = nonLoopbackAddress();
  const onInterface = new TestGateway({
    config: { smtp: { host: external ?? "127.0.0.1", allowPlainAuthFromLoopback: true } },
  });
  before(async () => {
    exempt.addUser(ALICE, PASSWORD);
    onInterface.addUser(ALICE, PASSWORD);
    await Promise.all([exempt.start(), onInterface.start()]);
  });
  after(() => Promise.all([exempt.stop(), onInterface.stop()]));

  test("a loopback client may AUTH in plain text", async () => {
    const client = await RawSmtp.open(exempt.ports.smtp);
    await client.command("EHLO client.test");
    assert.match(await client.command(authPlain(ALICE, PASSWORD)), /^235/);
    client.close();
  });

  test(
    "a client that is not on loopback still gets 538 5.7.11",
    { skip: external ? false : "this host has no IPv4 address besides loopback" },
    async () => {
      const client = await RawSmtp.open(onInterface.ports.smtp, external);
      await client.command("EHLO client.test");
      assert.match(
        await client.command(authPlain(ALICE, PASSWORD)),
        /^538 5\.7\.11 Encryption required: use STARTTLS/,
      );
      assert.match(await client.command(`MAIL FROM:<${ALICE}>`), /^530/);
      await client.startTls();
      assert.match(await client.command(authPlain(ALICE, PASSWORD)), /^235/);
      client.close();
    },
  );
});
