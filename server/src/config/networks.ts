// Address ranges in the configuration (CIDR), and how wide a trusted network may be.
import { isIPv4, isIPv6 } from "node:net";

/**
 * The widest ranges smtp.trustedNetworks accepts. A trusted network submits without AUTH as any
 * internal sender, so it must name the organisation's own mail servers (an Exchange Online
 * connector's egress ranges are /24 and narrower), never a large part of the Internet.
 */
export const WIDEST_TRUSTED_PREFIX = { ipv4: 8, ipv6: 32 } as const;

/** Why `cidr` is not an address range (address/prefix length), or null. */
export function cidrProblem(cidr: string): string | null {
  const [address = "", prefix = "", ...rest] = cidr.split("/");
  // A zone index (fe80::1%eth0) names an interface, not addresses.
  const bits = address.includes("%") ? 0 : isIPv4(address) ? 32 : isIPv6(address) ? 128 : 0;
  if (!bits || rest.length || !/^\d{1,3}$/.test(prefix)) {
    return `expected a CIDR such as 10.0.0.0/8 or 2001:db8::/32, got ${JSON.stringify(cidr)}`;
  }
  if (Number(prefix) > bits)
    return `${cidr}: the prefix length of an IPv${bits === 32 ? 4 : 6} range is at most /${bits}`;
  return null;
}

/** The 16 bytes of a valid IPv6 address (with or without an embedded IPv4 part). */
function ipv6Bytes(address: string): number[] {
  let text = address;
  const ipv4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (ipv4) {
    const [a, b, c, d] = ipv4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, ipv4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const first = head ? head.split(":") : [];
  const last = tail ? tail.split(":") : [];
  const groups =
    tail === undefined
      ? first
      : [...first, ...Array<string>(8 - first.length - last.length).fill("0"), ...last];
  return groups.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
}

/** ::ffff:0:0/96: IPv4 clients of a dual-stack socket appear in it, and BlockList matches them. */
const IPV4_MAPPED = [...Array<number>(10).fill(0), 0xff, 0xff];

/**
 * For an IPv6 range that reaches into the IPv4-mapped block, the prefix length of the IPv4 range it
 * admits (0 for ::ffff:0:0/96 or anything wider); null when it holds no IPv4-mapped address.
 */
function mappedIpv4Prefix(address: string, prefix: number): number | null {
  const bytes = ipv6Bytes(address);
  const compared = Math.min(prefix, 96);
  for (let bit = 0; bit < compared; bit++) {
    const mask = 0x80 >> (bit % 8);
    if (((bytes[bit >> 3] ?? 0) & mask) !== ((IPV4_MAPPED[bit >> 3] ?? 0) & mask)) return null;
  }
  return Math.max(0, prefix - 96);
}

/** Why `cidr` may not be a trusted network (not a range, or too wide), or null when it may. */
export function trustedNetworkProblem(cidr: string): string | null {
  const problem = cidrProblem(cidr);
  if (problem) return problem;
  const [address = "", prefixText = ""] = cidr.split("/");
  const prefix = Number(prefixText);
  const what =
    "hosts in it could submit mail without AUTH as any internal sender; list only your own mail servers' ranges (e.g. your Exchange Online connector's egress ranges)";
  if (isIPv4(address)) {
    if (prefix < WIDEST_TRUSTED_PREFIX.ipv4)
      return `${cidr} is wider than /${WIDEST_TRUSTED_PREFIX.ipv4}: ${what}`;
    return null;
  }
  if (prefix < WIDEST_TRUSTED_PREFIX.ipv6)
    return `${cidr} is wider than /${WIDEST_TRUSTED_PREFIX.ipv6}: ${what}`;
  const mapped = mappedIpv4Prefix(address, prefix);
  if (mapped !== null && mapped < WIDEST_TRUSTED_PREFIX.ipv4) {
    return `${cidr} holds IPv4-mapped addresses (::ffff:0:0/96) as wide as the IPv4 range /${mapped}, wider than /${WIDEST_TRUSTED_PREFIX.ipv4}: ${what}; write IPv4 ranges as IPv4`;
  }
  return null;
}

/**
 * Why `server` is not a DNS server as node's Resolver#setServers takes one ("192.0.2.53",
 * "192.0.2.53:5353", "2001:db8::53", "[2001:db8::53]:5353"), or null. setServers would throw
 * at start with a less helpful message.
 */
export function dnsServerProblem(server: string): string | null {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(server);
  const withPort = /^([^:]+):(\d+)$/.exec(server);
  const [address, portText] = bracketed
    ? [bracketed[1] ?? "", bracketed[2]]
    : withPort
      ? [withPort[1] ?? "", withPort[2]]
      : [server, undefined];
  const ip = bracketed ? isIPv6(address) : isIPv4(address) || (!withPort && isIPv6(address));
  const port = portText === undefined ? 53 : Number(portText);
  if (!ip || !Number.isInteger(port) || port < 1 || port > 65535) {
    return `expected a DNS server's IP address, optionally with a port (192.0.2.53, 192.0.2.53:5353, [2001:db8::53]:5353), got ${JSON.stringify(server)}`;
  }
  return null;
}
