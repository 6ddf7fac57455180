// What the recipient-domain TLS probe reports, and the one question the policy asks of it. Kept
// apart from the probe so the policy and the delivery record can use it without node:net.

/** How far the domain's mail server goes: nothing, STARTTLS with any certificate, or a verified one. */
export type TlsLevel = "none" | "offered" | "verified";

/** Why a probe learned nothing about TLS; stable codes for logs, metrics and the sender's display. */
export type TlsProbeFailure =
  | "invalid-domain" // not a domain name (or not one that converts to ASCII)
  | "no-domain" // the domain does not exist (NXDOMAIN)
  | "null-mx" // RFC 7505: the domain says it takes no mail
  | "dns" // a lookup failed or timed out
  | "no-address" // the mail hosts have no A/AAAA address
  | "connect" // refused, unreachable, reset
  | "timeout" // connected, but the server did not get through EHLO/STARTTLS in time
  | "refused" // the server answered its greeting or EHLO with an error code
  | "protocol" // garbage, an oversized reply, or data where none belongs
  | "tls" // STARTTLS was offered but the handshake failed
  | "busy"; // too many probes queued: this one did not run (not cached)

export interface CertificateSummary {
  /** Distinguished name, e.g. "CN=mx.example.jp, O=Example". */
  subject: string;
  issuer: string;
  /** ISO 8601. */
  validTo: string;
}

export interface MtaStsReport {
  mode: "enforce" | "testing" | "none";
  /** Whether the host that answered is one the published policy lists. */
  mxMatches: boolean;
  /** Set when the policy could not be fetched or parsed; the mode is then "none" (RFC 8461 §5). */
  error?: string;
}

export interface TlsProbeResult {
  /** The domain as probed: lower case, ASCII (punycode), no trailing dot. */
  domain: string;
  tls: TlsLevel;
  /** The mail host that answered; absent when none did. */
  host?: string;
  /** The domain's mail hosts by preference; for a domain without MX, the domain itself. */
  mx: string[];
  /** True when the domain has no MX and its own address stands in (RFC 5321 §5.1). */
  implicitMx: boolean;
  /** The certificate the host presented, when STARTTLS got that far. */
  certificate?: CertificateSummary;
  /** Why an offered certificate does not count as verified (an OpenSSL / Node error code). */
  verifyError?: string;
  /** Present when the domain publishes an MTA-STS policy (or publishing one failed to load). */
  mtaSts?: MtaStsReport;
  failure?: TlsProbeFailure;
  /** What went wrong, naming the host and step; for logs and administrators. */
  error?: string;
  /** ISO 8601 time the probe ran (a cached result keeps the time it was made). */
  checkedAt: string;
}

const RANK: Record<TlsLevel, number> = { none: 0, offered: 1, verified: 2 };

/** Whether a probe result satisfies the policy's TLS requirement ("offered" is met by "verified"). */
export function tlsMeetsRequirement(
  result: Pick<TlsProbeResult, "tls">,
  requirement: "offered" | "verified",
): boolean {
  return RANK[result.tls] >= RANK[requirement];
}

/** A probe step's failure, thrown inside the probe and turned into a result's failure/error. */
export class ProbeFailure extends Error {
  constructor(
    readonly code: TlsProbeFailure,
    message: string,
  ) {
    super(message);
  }
}
