// Getting a domain's MTA-STS policy (RFC 8461 §3): its _mta-sts TXT record says one is published,
// and the policy itself is https://mta-sts.DOMAIN/.well-known/mta-sts.txt, fetched with a
// certificate that verifies for that name, no redirects followed. mailauth reads the record and
// parses the file; the HTTPS request is made here, because mailauth's asks the system's DNS for the
// policy host (not the probe's servers), always uses port 443 and Node's CAs only, and reads an
// answer of any size.
import { request } from "node:https";
import { parsePolicy, resolvePolicy } from "mailauth/lib/mta-sts.js";
import { hostAddresses, type ProbeResolver } from "./mail-hosts.js";
import type { MtaStsFetch } from "./mta-sts.js";

export interface PolicyFetchOptions {
  /** The probe's DNS: the TXT record and the policy host's addresses. */
  resolver: ProbeResolver;
  /** HTTPS port of the policy host: 443 on the Internet. */
  port: number;
  /** The CAs a policy host's certificate may chain to; undefined: Node's bundled roots. */
  ca: string[] | undefined;
  /** Policy hosts on loopback or private addresses too (tests, a lab), as for mail hosts. */
  allowNonPublic: boolean;
  /** Bound on each DNS lookup and on the HTTPS request. */
  timeoutMs: number;
}

const PATH = "/.well-known/mta-sts.txt";
/** RFC 8461 §3.3 lets a sender bound the policy's size; real ones are a few hundred bytes. */
const MAX_POLICY_BYTES = 64 * 1024;

export function policyFetcher(options: PolicyFetchOptions): MtaStsFetch {
  const { resolver, timeoutMs } = options;
  return async (domain) => {
    const id = await resolvePolicy(domain, { resolver: (name: string) => resolver.resolveTxt(name) });
    if (id === false) return null;
    const host = `mta-sts.${domain}`;
    const [address] = await hostAddresses(host, resolver, timeoutMs, options.allowNonPublic);
    const body = await fetchFile(address as string, host, options);
    const { mode, mx } = parsePolicy(body);
    return { mode: mode as "enforce" | "testing" | "none", ...(mx ? { mx } : {}) };
  };
}

function fetchFile(address: string, host: string, options: PolicyFetchOptions): Promise<Buffer> {
  const url = `https://${host}${PATH}`;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: address,
        port: options.port,
        servername: host,
        path: PATH,
        headers: { host },
        ...(options.ca ? { ca: options.ca } : {}),
        rejectUnauthorized: true,
        timeout: options.timeoutMs,
        agent: false,
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return reject(new Error(`${url} answered HTTP ${res.statusCode ?? "?"} (a policy needs 200)`));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_POLICY_BYTES)
            return req.destroy(new Error(`${url} is larger than ${MAX_POLICY_BYTES} bytes`));
          chunks.push(chunk);
        });
        res.on("end", () => resolve(Buffer.concat(chunks)));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${url}: no answer within ${options.timeoutMs} ms`)));
    req.on("error", (err) => reject(new Error(`${url}: ${err.message}`, { cause: err })));
    req.end();
  });
}
