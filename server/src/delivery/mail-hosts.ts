// Where mail for a domain goes (RFC 5321 §5.1): its MX hosts by preference; the domain itself when
// it has no MX; nowhere when it publishes a null MX (RFC 7505). And each host's addresses.
import { isIP } from "node:net";
import { domainToASCII } from "node:url";
import ipaddr from "ipaddr.js";
import { ProbeFailure } from "./tls-probe-result.js";
import { within } from "./within.js";

/** The lookups the probe makes (TXT for MTA-STS); node:dns/promises fits, and tests pass their own. */
export interface ProbeResolver {
  resolveMx(hostname: string): Promise<{ exchange: string; priority: number }[]>;
  resolve4(hostname: string): Promise<string[]>;
  resolve6(hostname: string): Promise<string[]>;
  resolveTxt(hostname: string): Promise<string[][]>;
}

export type MailRoute = { kind: "mx" | "implicit"; hosts: string[] } | { kind: "null-mx" };

/** More MX hosts than this are not looked at: real domains have a handful. */
const MAX_HOSTS = 10;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** The domain in the form DNS and certificates use (lower case, punycode, no trailing dot), or null. */
export function normalizeDomain(name: string): string | null {
  const trimmed = name.trim().replace(/\.$/, "");
  // domainToASCII silently drops tabs and line breaks (URL parsing rules): "x\r\nRSET" would pass as "xrset".
  // eslint-disable-next-line no-control-regex -- control characters are what is refused here
  if (trimmed === "" || /[\s\x00-\x1f\x7f]/.test(trimmed)) return null;
  const ascii = domainToASCII(trimmed);
  if (ascii === "" || ascii.length > 253) return null;
  return ascii.split(".").every((label) => LABEL.test(label)) ? ascii : null;
}

/** The domain's mail hosts (at most 10, valid names only, by preference); throws ProbeFailure. */
export async function findMailRoute(
  domain: string,
  resolver: ProbeResolver,
  timeoutMs: number,
): Promise<MailRoute> {
  const records = await lookup(resolver.resolveMx(domain), `MX of ${domain}`, timeoutMs);
  if (records === null) return { kind: "implicit", hosts: [domain] };
  const sorted = [...records].sort((a, b) => a.priority - b.priority);
  const hosts: string[] = [];
  for (const { exchange } of sorted) {
    const host = normalizeDomain(exchange);
    if (host !== null && !hosts.includes(host)) hosts.push(host);
  }
  // "." (which node reports as an empty exchange) alone is a null MX; beside real hosts it is ignored.
  if (hosts.length === 0) {
    if (sorted.every(({ exchange }) => exchange === "" || exchange === ".")) return { kind: "null-mx" };
    throw new ProbeFailure("dns", `MX of ${domain} names no valid host`);
  }
  return { kind: "mx", hosts: hosts.slice(0, MAX_HOSTS) };
}

/**
 * Whether an address is public unicast. A recipient domain is named by whoever sends, so its MX
 * may point into our own network; probing there would let a sender reach internal port-25 services.
 */
export function isPublicAddress(address: string): boolean {
  return ipaddr.isValid(address) && ipaddr.process(address).range() === "unicast";
}

/**
 * IPv4 addresses first, then IPv6; throws when the host has neither. Answers that are not IP
 * addresses are dropped (connecting to one would be a second, system DNS lookup), and so are
 * non-public ones unless `allowNonPublic`.
 */
export async function hostAddresses(
  host: string,
  resolver: ProbeResolver,
  timeoutMs: number,
  allowNonPublic: boolean,
): Promise<string[]> {
  const [v4, v6] = await Promise.all([
    lookup(resolver.resolve4(host), `A of ${host}`, timeoutMs).catch(absentAsNone),
    lookup(resolver.resolve6(host), `AAAA of ${host}`, timeoutMs).catch(absentAsNone),
  ]);
  const found = [...(v4 ?? []), ...(v6 ?? [])].filter((address) => isIP(address) !== 0);
  if (found.length === 0) throw new ProbeFailure("no-address", `${host} has no A or AAAA address`);
  const addresses = allowNonPublic ? found : found.filter(isPublicAddress);
  if (addresses.length === 0) {
    throw new ProbeFailure(
      "no-address",
      `${host} has only non-public addresses (${found.slice(0, 4).join(", ")})`,
    );
  }
  return addresses;
}

/** A host name that does not exist simply has no address (the domain itself exists: it named it). */
function absentAsNone(err: unknown): null {
  if (err instanceof ProbeFailure && err.code === "no-domain") return null;
  throw err;
}

/** The records, null when the name exists but has none of that type; throws ProbeFailure otherwise. */
async function lookup<T>(query: Promise<T[]>, what: string, timeoutMs: number): Promise<T[] | null> {
  try {
    const records = await within(
      query,
      timeoutMs,
      () => new ProbeFailure("dns", `${what}: no answer within ${timeoutMs} ms`),
    );
    return records.length > 0 ? records : null;
  } catch (err) {
    if (err instanceof ProbeFailure) throw err;
    const code = (err as { code?: string }).code;
    if (code === "ENODATA") return null;
    if (code === "ENOTFOUND") throw new ProbeFailure("no-domain", `${what}: the name does not exist`);
    throw new ProbeFailure("dns", `${what}: ${code ?? (err as Error).message}`);
  }
}
