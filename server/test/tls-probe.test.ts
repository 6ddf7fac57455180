// The recipient-domain TLS probe (server/src/delivery/tls-probe.ts) against real SMTP servers on
// loopback (smtp-server, and raw sockets for hostile ones) with certificates from a test CA. Only
// DNS is injected: names map to 127.0.0.x / ::1.
import assert from "node:assert/strict";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { parsePolicy } from "mailauth/lib/mta-sts.js";
import { SMTPServer } from "smtp-server";
import { isPublicAddress } from "../src/delivery/mail-hosts.js";
import {
  createTlsProbe,
  tlsMeetsRequirement,
  type MtaStsFetch,
  type ProbeResolver,
  type TlsProbeOptions,
} from "../src/delivery/tls-probe.js";
import { makeCa, makeLeaf, type Pem } from "../../test/helpers/certificates.js";

const DAY = 24 * 3600 * 1000;

// ---- DNS: a table instead of the network ----------------------------------------------------

type Zone = {
  mx?: Record<string, { exchange: string; priority: number }[]>;
  a?: Record<string, string[]>;
  aaaa?: Record<string, string[]>;
  txt?: Record<string, string[][]>;
  /** Names that do not exist at all (NXDOMAIN); any other name exists with no such record. */
  nx?: string[];
};

function dnsError(code: string, name: string): Error {
  return Object.assign(new Error(`${code} ${name}`), { code });
}

function fakeDns(zone: Zone): ProbeResolver & { queries: string[] } {
  const queries: string[] = [];
  const answer = <T>(type: string, table: Record<string, T[]> | undefined, name: string): Promise<T[]> => {
    queries.push(`${type} ${name}`);
    if (zone.nx?.includes(name)) return Promise.reject(dnsError("ENOTFOUND", name));
    const records = table?.[name];
    return records ? Promise.resolve(records) : Promise.reject(dnsError("ENODATA", name));
  };
  return {
    queries,
    resolveMx: (name) => answer("MX", zone.mx, name),
    resolve4: (name) => answer("A", zone.a, name),
    resolve6: (name) => answer("AAAA", zone.aaaa, name),
    resolveTxt: (name) => answer("TXT", zone.txt, name),
  };
}

// ---- Servers --------------------------------------------------------------------------------

interface Running {
  port: number;
  /** Connections accepted so far. */
  connections: number;
  close(): Promise<void>;
}

const running: Running[] = [];
after(() => Promise.all(running.map((server) => server.close())));

/** A real SMTP server; with `tls` it offers STARTTLS with that certificate, without it none. */
async function smtp(
  options: { tls?: Pem; host?: string; port?: number; refuse?: boolean } = {},
): Promise<Running> {
  const state = { connections: 0 };
  const server = new SMTPServer({
    authOptional: true,
    disableReverseLookup: true,
    logger: false,
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : { hideSTARTTLS: true }),
    onConnect(_session, callback) {
      state.connections++;
      callback(options.refuse ? new Error("no mail from you") : undefined);
    },
  });
  server.on("error", () => undefined); // a probe that hangs up after the handshake is not our concern
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve),
  );
  const entry: Running = {
    port: (server.server.address() as AddressInfo).port,
    get connections() {
      return state.connections;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  running.push(entry);
  return entry;
}

/** A raw TCP server for the hostile cases; `talk` gets each connection. */
async function raw(
  talk: (socket: Socket) => void,
  host = "127.0.0.1",
): Promise<Running & { server: Server }> {
  const state = { connections: 0 };
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
    talk(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const entry = {
    server,
    port: (server.address() as AddressInfo).port,
    get connections() {
      return state.connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  running.push(entry);
  return entry;
}

/** One MX host on 127.0.0.1 for `domain`. */
function oneMx(domain: string, address = "127.0.0.1"): Zone {
  return {
    mx: { [domain]: [{ exchange: `mx.${domain}`, priority: 10 }] },
    a: { [`mx.${domain}`]: [address] },
  };
}

// ---- Tests ----------------------------------------------------------------------------------

describe("createTlsProbe", () => {
  let ca: Pem;
  let good: Pem;
  before(async () => {
    ca = await makeCa("Sendguard Test CA");
    good = await makeLeaf("mx.good.test", ca);
  });
  const probeFor = (zone: Zone, port: number, more: TlsProbeOptions = {}) =>
    createTlsProbe({
      resolver: fakeDns(zone),
      port,
      ca: ca.cert,
      mtaSts: false,
      timeoutMs: 2000,
      allowNonPublic: true,
      ...more,
    });

  test("no STARTTLS in the EHLO reply → none, with no error: the host answered", async () => {
    const server = await smtp();
    const result = await probeFor(oneMx("plain.test"), server.port).probe("plain.test");
    assert.equal(result.tls, "none");
    assert.equal(result.host, "mx.plain.test");
    assert.deepEqual(result.mx, ["mx.plain.test"]);
    assert.equal(result.implicitMx, false);
    assert.equal(result.failure, undefined);
    assert.equal(result.error, undefined);
    assert.equal(result.certificate, undefined);
    assert.ok(!Number.isNaN(Date.parse(result.checkedAt)));
  });

  test("STARTTLS with a certificate from a trusted CA for the MX name → verified, certificate summarised", async () => {
    const server = await smtp({ tls: good });
    const result = await probeFor(oneMx("good.test"), server.port).probe("Good.Test.");
    assert.equal(result.domain, "good.test", "lower case, no trailing dot");
    assert.equal(result.tls, "verified");
    assert.equal(result.verifyError, undefined);
    assert.equal(result.certificate?.subject, "CN=mx.good.test");
    assert.equal(result.certificate?.issuer, "CN=Sendguard Test CA");
    assert.ok(Date.parse(result.certificate?.validTo ?? "") > Date.now());
  });

  test("the same server without the test CA trusted → offered (Node's roots do not know it)", async () => {
    const server = await smtp({ tls: good });
    const result = await probeFor(oneMx("good.test"), server.port, { ca: [] }).probe("good.test");
    assert.equal(result.tls, "offered");
    assert.match(result.verifyError ?? "", /UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to get local issuer/i);
  });

  test("a trusted certificate for another name → offered, the name mismatch named", async () => {
    const server = await smtp({ tls: await makeLeaf("mx.other.test", ca) });
    const result = await probeFor(oneMx("good.test"), server.port).probe("good.test");
    assert.equal(result.tls, "offered");
    assert.equal(result.verifyError, "ERR_TLS_CERT_ALTNAME_INVALID");
    assert.equal(result.certificate?.subject, "CN=mx.other.test");
  });

  test("a self-signed certificate → offered", async () => {
    const server = await smtp({ tls: await makeLeaf("mx.good.test", null) });
    const result = await probeFor(oneMx("good.test"), server.port).probe("good.test");
    assert.equal(result.tls, "offered");
    assert.match(result.verifyError ?? "", /SELF_SIGNED|DEPTH_ZERO/);
  });

  test("an expired certificate from the trusted CA → offered, CERT_HAS_EXPIRED", async () => {
    const expired = await makeLeaf("mx.good.test", ca, {
      from: new Date(Date.now() - 30 * DAY),
      to: new Date(Date.now() - DAY),
    });
    const server = await smtp({ tls: expired });
    const result = await probeFor(oneMx("good.test"), server.port).probe("good.test");
    assert.equal(result.tls, "offered");
    assert.equal(result.verifyError, "CERT_HAS_EXPIRED");
    assert.ok(Date.parse(result.certificate?.validTo ?? "") < Date.now());
  });

  test("no MX → the domain's own A record (RFC 5321 §5.1)", async () => {
    const server = await smtp({ tls: await makeLeaf("bare.test", ca) });
    const result = await probeFor({ a: { "bare.test": ["127.0.0.1"] } }, server.port).probe("bare.test");
    assert.equal(result.implicitMx, true);
    assert.deepEqual(result.mx, ["bare.test"]);
    assert.equal(result.host, "bare.test");
    assert.equal(result.tls, "verified");
  });

  test("no MX and only an AAAA record → connects over IPv6", async () => {
    const server = await smtp({ host: "::1" });
    const result = await probeFor({ aaaa: { "v6.test": ["::1"] } }, server.port).probe("v6.test");
    assert.equal(result.host, "v6.test");
    assert.equal(result.error, undefined);
    assert.equal(server.connections, 1);
  });

  test("a null MX (RFC 7505) → no connection, the result says the domain takes no mail", async () => {
    const dns = fakeDns({
      mx: { "nomail.test": [{ exchange: "", priority: 0 }] },
      a: { "nomail.test": ["127.0.0.1"] },
    });
    const result = await createTlsProbe({ resolver: dns, mtaSts: false }).probe("nomail.test");
    assert.equal(result.tls, "none");
    assert.equal(result.failure, "null-mx");
    assert.match(result.error ?? "", /null MX/);
    assert.deepEqual(dns.queries, ["MX nomail.test"], "not even an address lookup");
  });

  test("MX hosts by preference: the first refuses the connection, the second answers", async () => {
    const server = await smtp();
    const zone: Zone = {
      mx: {
        "two.test": [
          { exchange: "mx2.two.test", priority: 20 },
          { exchange: "mx1.two.test", priority: 10 },
        ],
      },
      a: { "mx1.two.test": ["127.0.0.2"], "mx2.two.test": ["127.0.0.1"] },
    };
    const result = await probeFor(zone, server.port).probe("two.test");
    assert.deepEqual(result.mx, ["mx1.two.test", "mx2.two.test"]);
    assert.equal(result.host, "mx2.two.test");
    assert.equal(result.error, undefined);
  });

  test("every MX dead → none, the error lists each host and address tried", async () => {
    const zone: Zone = {
      mx: {
        "dead.test": [
          { exchange: "mx1.dead.test", priority: 10 },
          { exchange: "mx2.dead.test", priority: 20 },
        ],
      },
      a: { "mx1.dead.test": ["127.0.0.2"], "mx2.dead.test": ["127.0.0.3"] },
    };
    const result = await probeFor(zone, 1).probe("dead.test");
    assert.equal(result.tls, "none");
    assert.equal(result.failure, "connect");
    assert.equal(result.host, undefined);
    assert.match(
      result.error ?? "",
      /mx1\.dead\.test \[127\.0\.0\.2\]: .*ECONNREFUSED.*; mx2\.dead\.test \[127\.0\.0\.3\]/,
    );
  });

  test("maxAttempts bounds the connections one probe opens", async () => {
    const hosts = Array.from({ length: 8 }, (_, i) => `mx${i}.many.test`);
    const zone: Zone = {
      mx: { "many.test": hosts.map((exchange, priority) => ({ exchange, priority })) },
      a: Object.fromEntries(hosts.map((h) => [h, ["127.0.0.2", "127.0.0.3"]])),
    };
    const result = await probeFor(zone, 1, { maxAttempts: 3 }).probe("many.test");
    assert.equal(result.error?.split("; ").length, 3);
  });

  test("a server that accepts and says nothing → none after timeoutMs", async () => {
    const silent = await raw(() => undefined);
    const started = Date.now();
    const result = await probeFor(oneMx("silent.test"), silent.port, { timeoutMs: 300 }).probe("silent.test");
    assert.equal(result.failure, "timeout");
    assert.match(result.error ?? "", /no answer within 300 ms \(greeting\)/);
    assert.ok(Date.now() - started < 2000);
  });

  test("a server that stops answering after STARTTLS's 220 → none, failure tls, within the timeout", async () => {
    const stall = await raw((socket) => {
      socket.write("220 stall.test\r\n");
      socket.on("data", (chunk) => {
        if (/^EHLO/.test(chunk.toString())) socket.write("250-stall.test\r\n250 STARTTLS\r\n");
        else if (/^STARTTLS/.test(chunk.toString())) socket.write("220 go ahead\r\n");
        // the ClientHello gets no answer
      });
    });
    const result = await probeFor(oneMx("stall.test"), stall.port, { timeoutMs: 500 }).probe("stall.test");
    assert.equal(result.tls, "none");
    assert.equal(result.failure, "tls");
    assert.equal(result.host, "mx.stall.test");
    assert.match(result.error ?? "", /no answer within 500 ms \(TLS handshake\)/);
  });

  /** A server that offers STARTTLS, says `answer` to it, then `afterward` to whatever comes next. */
  const offering = (answer: string, afterward?: string) =>
    raw((socket) => {
      let said = false;
      socket.write("220 offer.test\r\n");
      socket.on("data", (chunk) => {
        if (/^EHLO/.test(chunk.toString())) socket.write("250-offer.test\r\n250 STARTTLS\r\n");
        else if (/^STARTTLS/.test(chunk.toString())) socket.write(answer);
        else if (afterward !== undefined && !said) {
          said = true;
          socket.write(afterward);
        }
      });
    });

  test("STARTTLS refused (454) → none, failure tls, the reply named", async () => {
    const server = await offering("454 4.7.0 TLS not available due to local problem\r\n");
    const result = await probeFor(oneMx("offer.test"), server.port).probe("offer.test");
    assert.equal(result.tls, "none");
    assert.equal(result.failure, "tls");
    assert.match(result.error ?? "", /STARTTLS answered 454 "4\.7\.0 TLS not available/);
  });

  test("plain text where the TLS ServerHello belongs → none, failure tls, the handshake error named", async () => {
    const server = await offering("220 go ahead\r\n", "250 this is not TLS\r\n");
    const result = await probeFor(oneMx("offer.test"), server.port).probe("offer.test");
    assert.equal(result.tls, "none");
    assert.equal(result.failure, "tls");
    assert.match(result.error ?? "", /TLS handshake: /);
  });

  test("garbage instead of a greeting → none, protocol error quoting it", async () => {
    const http = await raw((socket) => socket.end("HTTP/1.1 400 Bad Request\r\n\r\n"));
    const result = await probeFor(oneMx("http.test"), http.port).probe("http.test");
    assert.equal(result.failure, "protocol");
    assert.match(result.error ?? "", /greeting: not an SMTP reply line: "HTTP\/1\.1 400 Bad Request"/);
  });

  test("an endless line is cut off at the line limit: the probe stops reading after a few KiB", async () => {
    let written = 0;
    const flood = await raw((socket) => {
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      const pump = () => {
        // Bounded: 64 MiB at most, and only while the probe still reads.
        while (!socket.destroyed && written < 64 * 1024 * 1024) {
          written += chunk.length;
          if (!socket.write(chunk)) return void socket.once("drain", pump);
        }
      };
      pump();
    });
    const result = await probeFor(oneMx("flood.test"), flood.port).probe("flood.test");
    assert.equal(result.failure, "protocol");
    assert.match(result.error ?? "", /reply line longer than 2048 bytes/);
    assert.ok(written < 16 * 1024 * 1024, `server got ${written} bytes out before the probe hung up`);
  });

  test("replies split into single bytes and multi-line EHLO are read correctly", async () => {
    const slow = await raw((socket) => {
      const dribble = (text: string) => {
        for (const char of text) socket.write(char);
      };
      dribble("220-slow.test ESMTP\r\n220 welcome\r\n");
      socket.on("data", (chunk) => {
        if (/^EHLO/.test(chunk.toString()))
          dribble("250-slow.test\r\n250-SIZE 1000\r\n250-8BITMIME\r\n250 HELP\r\n");
        else if (/^QUIT/.test(chunk.toString())) socket.end("221 bye\r\n");
      });
    });
    const result = await probeFor(oneMx("slow.test"), slow.port).probe("slow.test");
    assert.equal(result.tls, "none");
    assert.equal(result.error, undefined, "no STARTTLS, but a well-formed conversation");
  });

  test("data after STARTTLS's 220 (a command-injection shape) → protocol error, no handshake", async () => {
    const inject = await raw((socket) => {
      socket.write("220 inject.test\r\n");
      socket.on("data", (chunk) => {
        if (/^EHLO/.test(chunk.toString())) socket.write("250-inject.test\r\n250 STARTTLS\r\n");
        else if (/^STARTTLS/.test(chunk.toString())) socket.write("220 go ahead\r\n250 smuggled\r\n");
      });
    });
    const result = await probeFor(oneMx("inject.test"), inject.port).probe("inject.test");
    assert.equal(result.failure, "protocol");
    assert.match(result.error ?? "", /data after its STARTTLS reply/);
  });

  test("a greeting and then a hang-up → none, the step named (the probe does not wait for its timeout)", async () => {
    const rude = await raw((socket) => socket.end("220 rude.test\r\n"));
    const started = Date.now();
    const result = await probeFor(oneMx("rude.test"), rude.port, { timeoutMs: 5000 }).probe("rude.test");
    assert.equal(result.failure, "connect");
    assert.match(result.error ?? "", /connection closed during EHLO/);
    assert.ok(Date.now() - started < 2000);
  });

  test("by default only public addresses are probed: an MX pointing at loopback is not contacted", async () => {
    const server = await smtp();
    const zone: Zone = {
      ...oneMx("inside.test"),
      aaaa: { "mx.inside.test": ["::1", "fe80::1"] },
    };
    const result = await createTlsProbe({ resolver: fakeDns(zone), port: server.port, mtaSts: false }).probe(
      "inside.test",
    );
    assert.equal(result.failure, "no-address");
    assert.match(result.error ?? "", /only non-public addresses \(127\.0\.0\.1, ::1, fe80::1\)/);
    assert.equal(server.connections, 0);
  });

  test("address answers that are not IP addresses are dropped, never looked up again", async () => {
    const zone: Zone = {
      mx: { "names.test": [{ exchange: "mx.names.test", priority: 1 }] },
      a: { "mx.names.test": ["localhost"] },
    };
    const result = await probeFor(zone, 1).probe("names.test");
    assert.equal(result.failure, "no-address");
  });

  test("a 554 greeting → none, refused, the code and text named", async () => {
    const server = await smtp({ refuse: true });
    const result = await probeFor(oneMx("refuse.test"), server.port).probe("refuse.test");
    assert.equal(result.failure, "refused");
    assert.match(result.error ?? "", /greeting answered 554 .*no mail from you/);
  });

  test("DNS: NXDOMAIN, a host without address, a lookup that never answers, a name that is no name", async () => {
    const nx = await probeFor({ nx: ["gone.test"] }, 1).probe("gone.test");
    assert.equal(nx.failure, "no-domain");
    const noAddress = await probeFor(
      { mx: { "na.test": [{ exchange: "mx.na.test", priority: 0 }] }, nx: ["mx.na.test"] },
      1,
    ).probe("na.test");
    assert.equal(noAddress.failure, "no-address");
    assert.match(noAddress.error ?? "", /mx\.na\.test has no A or AAAA address/);
    const hanging: ProbeResolver = {
      resolveMx: () => new Promise(() => undefined),
      resolve4: () => new Promise(() => undefined),
      resolve6: () => new Promise(() => undefined),
      resolveTxt: () => new Promise(() => undefined),
    };
    const slow = await createTlsProbe({ resolver: hanging, timeoutMs: 200, mtaSts: false }).probe(
      "hang.test",
    );
    assert.equal(slow.failure, "dns");
    assert.match(slow.error ?? "", /MX of hang\.test: no answer within 200 ms/);
    for (const bad of ["", "a b.test", "x\r\nRSET", "-lead.test", "a".repeat(300) + ".test", "a..test"]) {
      const result = await probeFor({}, 1).probe(bad);
      assert.equal(result.failure, "invalid-domain", JSON.stringify(bad));
      assert.ok(!/[\r\n]/.test(result.error ?? ""));
    }
    const idn = await probeFor({ nx: ["xn--eckwd4c7c.test"] }, 1).probe("ドメイン.test");
    assert.equal(idn.domain, "xn--eckwd4c7c.test", "IDN probed as punycode");
  });

  test("an MX answer with hostile names keeps only valid host names", async () => {
    const server = await smtp();
    const zone: Zone = {
      mx: {
        "odd.test": [
          { exchange: "bad name\r\n", priority: 1 },
          { exchange: "mx.odd.test", priority: 2 },
        ],
      },
      a: { "mx.odd.test": ["127.0.0.1"] },
    };
    const result = await probeFor(zone, server.port).probe("odd.test");
    assert.deepEqual(result.mx, ["mx.odd.test"]);
    assert.equal(result.host, "mx.odd.test");
  });

  test("a result is reused within cacheTtlMs and probed again after it", async () => {
    const server = await smtp();
    let now = Date.parse("2026-01-01T00:00:00Z");
    const probe = probeFor(oneMx("cache.test"), server.port, { cacheTtlMs: 60_000, now: () => now });
    const first = await probe.probe("cache.test");
    now += 59_000;
    assert.equal(await probe.probe("cache.test"), first);
    assert.equal(server.connections, 1);
    now += 2_000;
    const third = await probe.probe("cache.test");
    assert.equal(server.connections, 2);
    assert.notEqual(third.checkedAt, first.checkedAt);
  });

  test("a failure is kept only failureTtlMs", async () => {
    const dns = fakeDns({ nx: ["fail.test"] });
    let now = 0;
    const probe = createTlsProbe({ resolver: dns, mtaSts: false, failureTtlMs: 1000, now: () => now });
    await probe.probe("fail.test");
    now += 999;
    await probe.probe("fail.test");
    assert.equal(dns.queries.length, 1);
    now += 2;
    await probe.probe("fail.test");
    assert.equal(dns.queries.length, 2);
  });

  test("concurrent probes of one domain share one attempt", async () => {
    const server = await smtp({ tls: good });
    const probe = probeFor(oneMx("good.test"), server.port);
    const results = await Promise.all([
      probe.probe("good.test"),
      probe.probe("GOOD.test"),
      probe.probe("good.test."),
    ]);
    assert.equal(server.connections, 1);
    assert.ok(results.every((r) => r === results[0]));
  });

  test("maxConcurrent probes run at once, maxQueued wait, and past that a probe answers busy at once", async () => {
    const accepted: number[] = [];
    const silent = await raw(() => accepted.push(Date.now()));
    const zone: Zone = { a: { "a.test": ["127.0.0.1"], "b.test": ["127.0.0.1"], "c.test": ["127.0.0.1"] } };
    const probe = probeFor(zone, silent.port, { timeoutMs: 300, maxConcurrent: 1, maxQueued: 1 });
    const [a, b, c] = await Promise.all(["a.test", "b.test", "c.test"].map((d) => probe.probe(d)));
    assert.equal(a?.failure, "timeout");
    assert.equal(b?.failure, "timeout", "the queued probe ran after the first");
    assert.equal(c?.failure, "busy");
    assert.equal(accepted.length, 2);
    assert.ok(
      accepted[1]! - accepted[0]! >= 250,
      "the second connection waited for the first probe's timeout",
    );
    assert.equal((await probe.probe("c.test")).failure, "timeout", "busy was not cached");
  });

  test("results are frozen: a caller cannot change what other callers of the cache see", async () => {
    const server = await smtp();
    const result = await probeFor(oneMx("frozen.test"), server.port).probe("frozen.test");
    assert.throws(() => {
      (result as { tls: string }).tls = "verified";
    }, TypeError);
    assert.throws(() => (result.mx as string[]).push("evil.test"), TypeError);
  });

  test("the cache is bounded: past maxEntries the oldest domain is probed again", async () => {
    const server = await smtp();
    const zone: Zone = { a: { "a.test": ["127.0.0.1"], "b.test": ["127.0.0.1"] } };
    const probe = probeFor(zone, server.port, { maxEntries: 1 });
    await probe.probe("a.test");
    await probe.probe("b.test");
    await probe.probe("b.test");
    assert.equal(server.connections, 2, "b.test came from the cache");
    await probe.probe("a.test");
    assert.equal(server.connections, 3, "a.test had been evicted");
  });

  describe("MTA-STS", () => {
    const policy =
      (text: string): MtaStsFetch =>
      async () =>
        parsePolicy(text);
    const probeWith = async (fetch: MtaStsFetch, tls: Pem = good) => {
      const server = await smtp({ tls });
      return probeFor(oneMx("good.test"), server.port, { mtaSts: { fetch } }).probe("good.test");
    };

    test("enforce, MX listed, certificate verifies → verified", async () => {
      const result = await probeWith(
        policy("version: STSv1\nmode: enforce\nmx: *.good.test\nmax_age: 86400\n"),
      );
      assert.deepEqual(result.mtaSts, { mode: "enforce", mxMatches: true });
      assert.equal(result.tls, "verified");
    });

    test("enforce, MX not in the policy's list → offered, not verified, and said why", async () => {
      const result = await probeWith(
        policy("version: STSv1\nmode: enforce\nmx: mail.elsewhere.test\nmax_age: 86400\n"),
      );
      assert.deepEqual(result.mtaSts, { mode: "enforce", mxMatches: false });
      assert.equal(result.tls, "offered");
      assert.equal(
        result.verifyError,
        undefined,
        "the certificate verified: the policy is why it does not count",
      );
    });

    test("enforce, MX listed, certificate does not verify → offered", async () => {
      const text = "version: STSv1\nmode: enforce\nmx: mx.good.test\nmax_age: 86400\n";
      const result = await probeWith(policy(text), await makeLeaf("mx.good.test", null));
      assert.deepEqual(result.mtaSts, { mode: "enforce", mxMatches: true });
      assert.equal(result.tls, "offered");
    });

    test("enforce: MX hosts the policy does not list are skipped, as a compliant sender would", async () => {
      const server = await smtp({ tls: await makeLeaf("mx2.good.test", ca) });
      const zone: Zone = {
        mx: {
          "good.test": [
            { exchange: "mx1.good.test", priority: 10 },
            { exchange: "mx2.good.test", priority: 20 },
          ],
        },
        a: { "mx1.good.test": ["127.0.0.1"], "mx2.good.test": ["127.0.0.1"] },
      };
      const enforce = policy("version: STSv1\nmode: enforce\nmx: mx2.good.test\nmax_age: 86400\n");
      const dns = fakeDns(zone);
      const result = await createTlsProbe({
        resolver: dns,
        port: server.port,
        ca: ca.cert,
        allowNonPublic: true,
        mtaSts: { fetch: enforce },
      }).probe("good.test");
      assert.equal(result.host, "mx2.good.test");
      assert.equal(result.tls, "verified");
      assert.deepEqual(result.mx, ["mx1.good.test", "mx2.good.test"], "the MX list is reported whole");
      assert.ok(!dns.queries.includes("A mx1.good.test"), "mx1 was not even looked up");
      const without = await probeFor(zone, server.port).probe("good.test");
      assert.equal(without.host, "mx1.good.test", "without the policy the first MX answers");
      assert.equal(without.tls, "offered");
    });

    test("testing, MX not listed → reported, the TLS answer unchanged", async () => {
      const result = await probeWith(
        policy("version: STSv1\nmode: testing\nmx: mail.elsewhere.test\nmax_age: 86400\n"),
      );
      assert.deepEqual(result.mtaSts, { mode: "testing", mxMatches: false });
      assert.equal(result.tls, "verified");
    });

    test("no policy published → no mtaSts field", async () => {
      const result = await probeWith(async () => null);
      assert.equal(result.mtaSts, undefined);
      assert.equal(result.tls, "verified");
    });

    test("a broken policy file or a failing fetch → mode none with the error, TLS answer unchanged", async () => {
      const broken = await probeWith(policy("version: STSv2\nmode: enforce\n"));
      assert.equal(broken.mtaSts?.mode, "none");
      assert.match(broken.mtaSts?.error ?? "", /Invalid version field/);
      assert.equal(broken.tls, "verified");
      const failing = await probeWith(async () => {
        throw new Error("certificate of mta-sts.good.test expired");
      });
      assert.match(failing.mtaSts?.error ?? "", /MTA-STS policy of good\.test: certificate .* expired/);
    });

    test("a fetch that never answers is cut off at timeoutMs", async () => {
      const server = await smtp({ tls: good });
      const probe = probeFor(oneMx("good.test"), server.port, {
        timeoutMs: 300,
        mtaSts: { fetch: () => new Promise(() => undefined) },
      });
      const result = await probe.probe("good.test");
      assert.match(result.mtaSts?.error ?? "", /no policy within 300 ms/);
    });
  });

  test("heloName with a space or line break is refused when the probe is made", () => {
    assert.throws(() => createTlsProbe({ heloName: "gw.test\r\nRSET" }), /heloName must be a host name/);
    assert.throws(() => createTlsProbe({ heloName: "" }), /heloName/);
  });
});

describe("isPublicAddress", () => {
  test("public unicast only: no loopback, private, link-local, CGNAT, unique-local, mapped, multicast", () => {
    for (const ip of ["8.8.8.8", "133.242.0.1", "2001:4860:4860::8888"]) {
      assert.equal(isPublicAddress(ip), true, ip);
    }
    for (const ip of [
      "127.0.0.1",
      "10.1.2.3",
      "172.16.0.1",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "224.0.0.1",
      "::1",
      "::",
      "fe80::1",
      "fc00::1",
      "::ffff:127.0.0.1",
      "not an address",
    ]) {
      assert.equal(isPublicAddress(ip), false, ip);
    }
  });
});

describe("tlsMeetsRequirement", () => {
  test("verified meets both, offered meets offered only, none meets neither", () => {
    assert.equal(tlsMeetsRequirement({ tls: "verified" }, "verified"), true);
    assert.equal(tlsMeetsRequirement({ tls: "verified" }, "offered"), true);
    assert.equal(tlsMeetsRequirement({ tls: "offered" }, "offered"), true);
    assert.equal(tlsMeetsRequirement({ tls: "offered" }, "verified"), false);
    assert.equal(tlsMeetsRequirement({ tls: "none" }, "offered"), false);
    assert.equal(tlsMeetsRequirement({ tls: "none" }, "verified"), false);
  });
});
