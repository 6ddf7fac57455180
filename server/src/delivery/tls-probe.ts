// The recipient-domain TLS probe: does the domain's mail server offer STARTTLS, and does its
// certificate verify for the MX name? The policy uses the answer ("offers TLS → plain, otherwise
// web download"), so a probe never throws: any failure is a result with tls "none" and a reason.
// Results are cached per domain and concurrent probes of one domain share one attempt.
import * as dns from "node:dns/promises";
import { hostname } from "node:os";
import { rootCertificates } from "node:tls";
import { Semaphore } from "../semaphore.js";
import { ExpiringCache } from "./expiring-cache.js";
import { findMailRoute, hostAddresses, normalizeDomain, type ProbeResolver } from "./mail-hosts.js";
import { hostsToTry, loadMtaSts, mtaStsReport, type MtaStsFetch, type MtaStsOutcome } from "./mta-sts.js";
import { policyFetcher } from "./mta-sts-fetch.js";
import { quote } from "./smtp-reply-reader.js";
import { checkStartTls } from "./starttls-check.js";
import { ProbeFailure, type TlsProbeFailure, type TlsProbeResult } from "./tls-probe-result.js";

export type { ProbeResolver } from "./mail-hosts.js";
export type { MtaStsFetch, MtaStsPolicy } from "./mta-sts.js";
export {
  tlsMeetsRequirement,
  type CertificateSummary,
  type MtaStsReport,
  type TlsLevel,
  type TlsProbeFailure,
  type TlsProbeResult,
} from "./tls-probe-result.js";

export interface TlsProbeOptions {
  /** DNS for MX and host addresses. Default node:dns/promises (the system's resolvers). */
  resolver?: ProbeResolver;
  /** SMTP port of the mail hosts. Default 25. */
  port?: number;
  /** Bound on one connection (connect, greeting, EHLO, STARTTLS, handshake) and on each DNS lookup. Default 10,000 ms. */
  timeoutMs?: number;
  /** How long a result is reused. Default 1 h. */
  cacheTtlMs?: number;
  /** How long a failed probe (DNS, refused, timeout…) is reused: shorter, the next may succeed. Default 5 min. */
  failureTtlMs?: number;
  /** Most domains kept in the cache; the oldest result goes first. Default 10,000. */
  maxEntries?: number;
  /**
   * Most mail hosts looked up and connections opened by one probe, so a probe takes at most about
   * (1 + 2 × maxAttempts) × timeoutMs. Default 5.
   */
  maxAttempts?: number;
  /** Probe loopback, private and link-local addresses too (tests, a lab). Default false: public only. */
  allowNonPublic?: boolean;
  /** Domains probed at once; more wait their turn. Default 16. */
  maxConcurrent?: number;
  /** Domains waiting for a turn; past that a probe answers at once with failure "busy". Default 1,000. */
  maxQueued?: number;
  /** Our name in EHLO. Default the machine's host name. */
  heloName?: string;
  /** CAs trusted besides Node's bundled roots (PEM), e.g. a private CA, or a test CA. */
  ca?: string | string[];
  /**
   * MTA-STS: `fetch` gets a domain's policy (default: the TXT record from `resolver`, the policy
   * file over HTTPS on `port`, default 443, its certificate checked against Node's roots and `ca`);
   * false turns it off.
   */
  mtaSts?: { fetch?: MtaStsFetch; port?: number } | false;
  /** Clock in milliseconds. Default Date.now. */
  now?: () => number;
}

export interface TlsProbe {
  /** The domain's TLS answer, from the cache when fresh; never rejects. */
  probe(domain: string): Promise<TlsProbeResult>;
}

export function createTlsProbe(options: TlsProbeOptions = {}): TlsProbe {
  const common = {
    resolver: options.resolver ?? dns,
    timeoutMs: options.timeoutMs ?? 10_000,
    allowNonPublic: options.allowNonPublic ?? false,
    ca: options.ca === undefined ? undefined : [...rootCertificates, ...[options.ca].flat()],
  };
  const { mtaSts } = options;
  const settings = {
    ...common,
    port: options.port ?? 25,
    maxAttempts: options.maxAttempts ?? 5,
    heloName: options.heloName ?? hostname(),
    mtaStsFetch:
      mtaSts === false ? null : (mtaSts?.fetch ?? policyFetcher({ ...common, port: mtaSts?.port ?? 443 })),
    now: options.now ?? Date.now,
  };
  // It goes on the wire after EHLO: a space or line break in it would be a second command.
  if (!/^[\x21-\x7e]{1,255}$/.test(settings.heloName)) {
    throw new TypeError(
      `heloName must be a host name or address literal, not ${JSON.stringify(settings.heloName)}`,
    );
  }
  const cacheTtlMs = options.cacheTtlMs ?? 3_600_000;
  const failureTtlMs = options.failureTtlMs ?? 300_000;
  const cache = new ExpiringCache<TlsProbeResult>({ maxEntries: options.maxEntries, now: settings.now });
  const running = new Map<string, Promise<TlsProbeResult>>();
  const slots = new Semaphore(options.maxConcurrent ?? 16, options.maxQueued ?? 1000);

  return {
    probe(input) {
      const domain = normalizeDomain(input);
      // Not cached: any string could be a key, and the answer costs nothing.
      if (domain === null) {
        const error = `not a domain name: ${quote(input)}`;
        return Promise.resolve(failed(input.slice(0, 255), "invalid-domain", error, settings.now));
      }
      const cached = cache.get(domain);
      if (cached) return Promise.resolve(cached);
      const pending = running.get(domain);
      if (pending) return pending;
      const slot = slots.acquire();
      // Not cached either: the next probe, once the queue has moved, may well get through.
      if (!slot) {
        const error = "too many TLS probes under way; try again later";
        return Promise.resolve(failed(domain, "busy", error, settings.now));
      }
      const attempt = slot.then(async (release) => {
        const result = await probeDomain(domain, settings)
          // Every step catches its own failures; this is for an injected part's odd answer.
          .catch((err: unknown) =>
            failed(domain, "protocol", `probe failed: ${errorMessage(err)}`, settings.now),
          )
          .finally(release);
        running.delete(domain);
        // A failure says nothing lasting; a null MX is a lasting answer, like "no STARTTLS".
        const lasting = result.failure === undefined || result.failure === "null-mx";
        cache.set(domain, freeze(result), lasting ? cacheTtlMs : failureTtlMs);
        return result;
      });
      running.set(domain, attempt);
      return attempt;
    },
  };
}

interface Settings {
  resolver: ProbeResolver;
  port: number;
  timeoutMs: number;
  maxAttempts: number;
  allowNonPublic: boolean;
  heloName: string;
  ca: string[] | undefined;
  mtaStsFetch: MtaStsFetch | null;
  now: () => number;
}

/** Every caller of one domain gets the same object, so none may change it under the others. */
function freeze(result: TlsProbeResult): TlsProbeResult {
  for (const part of [result.mx, result.certificate, result.mtaSts]) if (part) Object.freeze(part);
  return Object.freeze(result);
}

/** A result for a probe that learned nothing: no host was asked, or none could be. */
function failed(domain: string, failure: TlsProbeFailure, error: string, now: () => number): TlsProbeResult {
  return {
    domain,
    tls: "none",
    mx: [],
    implicitMx: false,
    failure,
    error,
    checkedAt: new Date(now()).toISOString(),
  };
}

async function probeDomain(domain: string, settings: Settings): Promise<TlsProbeResult> {
  const checkedAt = new Date(settings.now()).toISOString();
  // Fetched while the MX is looked up; the hosts to try depend on it.
  const mtaSts: Promise<MtaStsOutcome> = settings.mtaStsFetch
    ? loadMtaSts(settings.mtaStsFetch, domain, settings.timeoutMs)
    : Promise.resolve({ policy: null });
  const result = await probeHosts(domain, settings, checkedAt, mtaSts);
  const report = mtaStsReport(await mtaSts, result.host);
  if (!report) return result;
  result.mtaSts = report;
  // RFC 8461 §5: under "enforce" a host the policy does not list is not a place to deliver securely.
  // The certificate did verify (no verifyError): mtaSts.mxMatches says why it does not count.
  if (report.mode === "enforce" && !report.mxMatches && result.tls === "verified") result.tls = "offered";
  return result;
}

async function probeHosts(
  domain: string,
  settings: Settings,
  checkedAt: string,
  mtaSts: Promise<MtaStsOutcome>,
): Promise<TlsProbeResult> {
  const result: TlsProbeResult = { domain, tls: "none", mx: [], implicitMx: false, checkedAt };
  const errors: string[] = [];
  let lastFailure: ProbeFailure | undefined;
  try {
    const route = await findMailRoute(domain, settings.resolver, settings.timeoutMs);
    if (route.kind === "null-mx") {
      return { ...result, failure: "null-mx", error: `${domain} publishes a null MX: it accepts no mail` };
    }
    result.mx = route.hosts;
    result.implicitMx = route.kind === "implicit";
    let attempts = 0;
    for (const host of hostsToTry(route.hosts, await mtaSts)) {
      if (attempts >= settings.maxAttempts) break;
      let addresses: string[];
      try {
        addresses = await hostAddresses(host, settings.resolver, settings.timeoutMs, settings.allowNonPublic);
      } catch (err) {
        attempts++;
        lastFailure = asFailure(err, "dns");
        errors.push(lastFailure.message);
        continue;
      }
      for (const address of addresses.slice(0, settings.maxAttempts - attempts)) {
        attempts++;
        try {
          const report = await checkStartTls({ ...settings, address, host });
          result.host = host;
          if (!report.starttls) return result;
          if ("handshakeError" in report) {
            return { ...result, failure: "tls", error: `${host} [${address}]: ${report.handshakeError}` };
          }
          result.tls = report.authorized ? "verified" : "offered";
          if (report.certificate) result.certificate = report.certificate;
          if (report.verifyError) result.verifyError = report.verifyError;
          return result;
        } catch (err) {
          lastFailure = asFailure(err, "connect");
          errors.push(`${host} [${address}]: ${lastFailure.message}`);
        }
      }
    }
  } catch (err) {
    lastFailure = asFailure(err, "dns");
    errors.push(lastFailure.message);
  }
  return {
    ...result,
    failure: lastFailure?.code ?? "connect",
    error: errors.join("; ") || "no mail host to try",
  };
}

/** A ProbeFailure as it is; anything else (a resolver's odd answer, a socket option refused) under `code`. */
function asFailure(err: unknown, code: TlsProbeFailure): ProbeFailure {
  if (err instanceof ProbeFailure) return err;
  return new ProbeFailure(code, errorMessage(err));
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
