// The MTA-STS policy fetch (server/src/delivery/mta-sts-fetch.ts) against a real DNS server and a
// real HTTPS policy host on loopback: what it refuses, and that it says why.
import assert from "node:assert/strict";
import { Resolver } from "node:dns/promises";
import { after, before, describe, test } from "node:test";
import { policyFetcher, type PolicyFetchOptions } from "../src/delivery/mta-sts-fetch.js";
import { makeCa, type Pem } from "../../test/helpers/certificates.js";
import { DnsServer } from "../../test/helpers/dns.js";
import { MtaStsServer, policyFile } from "../../test/helpers/mta-sts.js";

describe("MTA-STS policy fetch", () => {
  const domains = ["good.test", "missing.test", "huge.test", "private.test"];
  const dns = new DnsServer({
    txt: Object.fromEntries(domains.map((d) => [`_mta-sts.${d}`, ["v=STSv1; id=1"]])),
    a: {
      ...Object.fromEntries(domains.map((d) => [`mta-sts.${d}`, ["127.0.0.1"]])),
      "none.test": ["127.0.0.1"],
    },
  });
  let ca: Pem;
  let server: MtaStsServer;
  let options: PolicyFetchOptions;

  before(async () => {
    ca = await makeCa("Policy Test CA");
    server = new MtaStsServer(
      {
        "good.test": policyFile("enforce", ["mx.good.test"]),
        "missing.test": null,
        "huge.test": `${policyFile("testing", ["mx.huge.test"])}${"# padding\r\n".repeat(10_000)}`,
      },
      ca,
    );
    await Promise.all([server.start(), dns.start()]);
    const resolver = new Resolver();
    resolver.setServers([dns.address]);
    options = { resolver, port: server.port, ca: [ca.cert], allowNonPublic: true, timeoutMs: 5000 };
  });
  after(async () => {
    await Promise.all([server.stop(), dns.stop()]);
  });

  test("a published policy is read from the policy host", async () => {
    assert.deepEqual(await policyFetcher(options)("good.test"), { mode: "enforce", mx: ["mx.good.test"] });
  });

  test("no TXT record → no policy, and no HTTPS request", async () => {
    const before = server.requests.length;
    assert.equal(await policyFetcher(options)("none.test"), null);
    assert.equal(server.requests.length, before);
  });

  test("a policy that cannot be had says which URL answered what", async () => {
    await assert.rejects(
      policyFetcher(options)("missing.test"),
      /https:\/\/mta-sts\.missing\.test\/\.well-known\/mta-sts\.txt answered HTTP 404/,
    );
    await assert.rejects(policyFetcher(options)("huge.test"), /is larger than 65536 bytes/);
  });

  test("a certificate from a CA not trusted is refused", async () => {
    await assert.rejects(
      policyFetcher({ ...options, ca: undefined })("good.test"),
      /mta-sts\.good\.test.*(self[- ]signed|unable to (get|verify)|certificate)/i,
    );
  });

  test("a policy host on a non-public address is not asked unless allowed", async () => {
    await assert.rejects(
      policyFetcher({ ...options, allowNonPublic: false })("private.test"),
      /mta-sts\.private\.test has only non-public addresses/,
    );
  });
});
