// The recipient TLS probe as the configuration sets it (tlsProbe.*): which DNS servers it asks,
// the port it probes, extra CAs, the MTA-STS policy hosts' port. The same DNS servers answer the
// MTA-STS lookups and the same CAs verify the policy hosts, so a probe never mixes two views.
import { readFile } from "node:fs/promises";
import { Resolver } from "node:dns/promises";
import { ConfigError } from "../config/load.js";
import type { Config } from "../config/schema.js";
import { createTlsProbe, type TlsProbe } from "./tls-probe.js";

export async function tlsProbeFromConfig(config: Config): Promise<TlsProbe> {
  const { dnsServers, port, ca, allowNonPublic, mtaStsPort } = config.tlsProbe;
  let resolver: Resolver | undefined;
  if (dnsServers) {
    resolver = new Resolver();
    resolver.setServers(dnsServers);
  }
  const caPem = ca === null ? undefined : await readCa(ca);
  return createTlsProbe({
    port,
    allowNonPublic,
    mtaSts: { port: mtaStsPort },
    ...(resolver ? { resolver } : {}),
    ...(caPem === undefined ? {} : { ca: caPem }),
  });
}

async function readCa(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new ConfigError(
      `tlsProbe.ca: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)}); give a PEM file of CA certificates, or set null`,
      { cause: err },
    );
  }
}
