// The web side of MTA-STS (RFC 8461 §3.3) for tests: one HTTPS server on loopback that answers
// https://mta-sts.DOMAIN/.well-known/mta-sts.txt for each domain it is given, with a certificate
// for that name from the test CA chosen by SNI, as each domain's policy host would.
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { createSecureContext, type SecureContext } from "node:tls";
import { makeLeaf, type Pem } from "./certificates.js";

/** A policy file's text (RFC 8461 §3.2). */
export function policyFile(mode: "enforce" | "testing" | "none", mx: string[]): string {
  return ["version: STSv1", `mode: ${mode}`, ...mx.map((host) => `mx: ${host}`), "max_age: 86400", ""].join(
    "\r\n",
  );
}

export class MtaStsServer {
  /** "HOST PATH" of every request, in order (HOST as SNI gave it). */
  readonly requests: string[] = [];
  private server: Server | null = null;
  port = 0;

  /** `policies`: per domain, its policy file, or null to answer 404 (a policy that cannot be had). */
  constructor(
    private readonly policies: Record<string, string | null>,
    private readonly ca: Pem,
  ) {}

  async start(host = "127.0.0.1"): Promise<this> {
    const contexts = new Map<string, SecureContext>();
    for (const domain of Object.keys(this.policies)) {
      const name = `mta-sts.${domain}`;
      contexts.set(name, createSecureContext(await makeLeaf(name, this.ca)));
    }
    const server = createServer(
      { SNICallback: (name, cb) => cb(null, contexts.get(name.toLowerCase())) },
      (req, res) => {
        const name = (req.socket as { servername?: string }).servername ?? "";
        this.requests.push(`${name} ${req.url ?? ""}`);
        const policy = this.policies[name.replace(/^mta-sts\./, "")];
        if (req.url !== "/.well-known/mta-sts.txt" || !policy) {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, { "content-type": "text/plain" }).end(policy);
      },
    );
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
