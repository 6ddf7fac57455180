// A gateway for tests of the recipient TLS check (tlsProbe): it asks the test's own DNS server,
// probes the test's SMTP servers on `port`, trusts the test CA, and applies "recipient domain
// verifies TLS → plain, otherwise web download". External mail is held briefly, so that the hold
// notice brings the hold page's link, where the sender reads the checks too.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Pem } from "./certificates.js";
import type { DnsServer } from "./dns.js";
import { TestGateway } from "./gateway.js";

export async function tlsCheckingGateway(options: {
  relayPort: number;
  dns: DnsServer;
  /** The SMTP port of every test mail server. */
  port: number;
  ca: Pem;
  /** The HTTPS port of the MTA-STS policy hosts (test/helpers/mta-sts.ts); default 443. */
  mtaStsPort?: number;
  sender: string;
  password: string;
}): Promise<{ gw: TestGateway; token: string }> {
  const gw = new TestGateway({ relayPort: options.relayPort });
  const caFile = join(gw.dataDir, "test-ca.pem");
  writeFileSync(caFile, options.ca.cert);
  gw.patchConfig({
    tlsProbe: {
      dnsServers: [options.dns.address],
      port: options.port,
      ca: caFile,
      allowNonPublic: true,
      ...(options.mtaStsPort ? { mtaStsPort: options.mtaStsPort } : {}),
    },
  });
  await gw.startWithOrgPolicy(
    {
      hold: { internal: 0, semiInternal: 0, external: 0.02 },
      attachments: { action: "web_download", unlessTls: "verified" },
    },
    [options.sender],
    options.password,
  );
  return { gw, token: await gw.token(options.sender, options.password) };
}
