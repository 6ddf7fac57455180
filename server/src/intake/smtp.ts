// SMTP submission: STARTTLS (and optionally implicit TLS), AUTH PLAIN/LOGIN required except from
// trusted networks sending as an internal domain, sender must be the user or an alias, and a 250
// only once the message is durably stored.
import { BlockList, isIPv6 } from "node:net";
import { domainMatches, domainOf } from "@sendguard/shared";
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from "smtp-server";
import { recipientProblem } from "../address.js";
import type { PasswordChecker } from "../auth/passwords.js";
import type { Config } from "../config/schema.js";
import { localMinute } from "../local-time.js";
import type { Logger } from "../log.js";
import { IntakeError } from "../pipeline/errors.js";
import type { Intake } from "../pipeline/intake.js";
import type { Store, UserRecord } from "../store/types.js";
import { smtpError } from "./smtp-patches.js";
import type { TlsMaterial } from "./tls.js";

export interface SmtpDeps {
  config: Config;
  intake: Intake;
  passwords: PasswordChecker;
  store: Store;
  log: Logger;
  tls: TlsMaterial;
}

function plainAddress(ip: string): string {
  return ip.startsWith("::ffff:") ? ip.slice(7) : ip;
}

export function trustedNetworks(cidrs: string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [network = "", prefix = ""] = cidr.split("/");
    list.addSubnet(network, Number(prefix), isIPv6(network) ? "ipv6" : "ipv4");
  }
  return list;
}

function isLoopback(ip: string): boolean {
  const plain = plainAddress(ip);
  return plain === "::1" || /^127\./.test(plain);
}

/** One line at start saying who may submit without AUTH, and whether AUTH needs TLS. */
export function logSubmissionAccess(config: Config, log: Logger): void {
  const { trustedNetworks, requireTlsForAuth, allowPlainAuthFromLoopback } = config.smtp;
  log.info(
    { event: "smtp_access", trustedNetworks, requireTlsForAuth, allowPlainAuthFromLoopback },
    trustedNetworks.length
      ? `SMTP without AUTH for internal senders from the trusted networks ${trustedNetworks.join(", ")}`
      : "SMTP without AUTH from nowhere: no trusted networks",
  );
}

/**
 * How old a user record read for a trusted-network sender may be: the lookup per message cost ~5 %
 * of a message's CPU. A second, as for policies (policy/service.ts).
 */
const TRUSTED_USER_MAX_AGE_MS = 1000;

/**
 * How old the account record checked at each MAIL FROM may be. Changes made through this process
 * (the admin API) are seen at once; a disable by the CLI, another process, within this bound.
 */
export const ACCOUNT_RECHECK_MAX_AGE_MS = 1000;

function sessionUser(session: SMTPServerSession): UserRecord | undefined {
  return session.user as UserRecord | undefined;
}

/** Reads what is left of a DATA stream so the reply goes out after the client's final dot. */
async function drain(stream: AsyncIterable<Buffer>): Promise<void> {
  for await (const _ of stream);
}

export function createSmtpServer(deps: SmtpDeps, secure: boolean): SMTPServer {
  const { config, intake, passwords, store, log, tls } = deps;
  const trusted = trustedNetworks(config.smtp.trustedNetworks);
  const isTrusted = (ip: string) => {
    const plain = plainAddress(ip);
    return trusted.check(plain, isIPv6(plain) ? "ipv6" : "ipv4");
  };

  const options: SMTPServerOptions = {
    secure,
    key: tls.key,
    cert: tls.cert,
    name: config.smtp.hostname,
    banner: "Sendguard ESMTP",
    size: config.smtp.maxMessageBytes,
    authMethods: ["PLAIN", "LOGIN"],
    authOptional: true, // enforced in onMailFrom, so trusted networks can submit without AUTH
    // With the loopback exemption (tests only), the library lets every client AUTH in plain text
    // and onAuth refuses the others.
    allowInsecureAuth: !config.smtp.requireTlsForAuth || config.smtp.allowPlainAuthFromLoopback,
    logger: false,
    // The client's host name is used nowhere, and the lookup costs a DNS query per connection
    // (delaying the greeting by up to 1.5 s when the resolver is slow).
    disableReverseLookup: true,
    hideENHANCEDSTATUSCODES: false,
    maxClients: 1000,

    onAuth(auth, session, callback) {
      if (config.smtp.requireTlsForAuth && !session.secure && !isLoopback(session.remoteAddress)) {
        return callback(
          smtpError(
            538,
            "5.7.11",
            "Encryption required: use STARTTLS (or the implicit-TLS port) before AUTH",
          ),
        );
      }
      const email = auth.username ?? "";
      passwords
        .check(email, auth.password ?? "", plainAddress(session.remoteAddress))
        .then((result) => {
          if (result.ok) return callback(null, { user: result.user });
          log.warn({ user: email, ip: session.remoteAddress, reason: result.reason }, "smtp auth failed");
          if (result.reason === "too_many_attempts") {
            return callback(
              smtpError(454, "4.7.0", `Too many failed logins; try again in ${result.retryAfter} s`),
            );
          }
          if (result.reason === "busy") {
            return callback(smtpError(454, "4.7.0", "Too many logins at once; try again in a few seconds"));
          }
          if (result.reason === "disabled") {
            return callback(
              smtpError(
                535,
                "5.7.8",
                "Authentication failed: this account is disabled; ask your administrator",
              ),
            );
          }
          callback(smtpError(535, "5.7.8", "Authentication failed: wrong user name or password"));
        })
        .catch((err: unknown) => {
          log.error({ err }, "smtp auth error");
          callback(smtpError(454, "4.7.0", "Temporary authentication failure"));
        });
    },

    onMailFrom(address, session, callback) {
      const from = address.address;
      const authenticated = sessionUser(session);
      if (authenticated) {
        // The account is read again for every message: one that was disabled or deleted after
        // this session authenticated must not go on submitting.
        store
          .userByEmail(authenticated.email, ACCOUNT_RECHECK_MAX_AGE_MS)
          .then((user) => {
            if (!user || user.id !== authenticated.id || user.disabledAt !== null) {
              return callback(
                smtpError(
                  550,
                  "5.7.1",
                  `The account ${authenticated.email} is disabled or no longer exists; ask your administrator`,
                ),
              );
            }
            if (user.passwordHash !== authenticated.passwordHash) {
              // A password change or reset ends what the old password opened, here as for tokens.
              // Forgetting the user lets the client AUTH again on this connection.
              session.user = undefined;
              return callback(
                smtpError(
                  530,
                  "5.7.0",
                  `The password of ${authenticated.email} was changed after this session signed in; sign in again with AUTH`,
                ),
              );
            }
            session.user = user; // an admin's change of aliases applies from the next message on
            const allowed = [user.email, ...user.aliases].some((a) => a.toLowerCase() === from.toLowerCase());
            if (allowed) return callback();
            callback(
              smtpError(
                550,
                "5.7.1",
                `Sender <${from}> is not allowed for ${user.email}; send from your own address`,
              ),
            );
          })
          .catch((err: unknown) => {
            log.error({ err }, "smtp account check error");
            callback(smtpError(451, "4.3.0", "Local error while checking the account; try again later"));
          });
        return;
      }
      if (isTrusted(session.remoteAddress)) {
        if (domainMatches(domainOf(from), config.organization.internalDomains)) return callback();
        return callback(
          smtpError(
            550,
            "5.7.1",
            `Sender <${from}> is not in an internal domain; only internal senders may relay`,
          ),
        );
      }
      callback(smtpError(530, "5.7.0", "Authentication required: use AUTH PLAIN or LOGIN (after STARTTLS)"));
    },

    onRcptTo(address, session, callback) {
      const problem = recipientProblem(address.address);
      if (problem) return callback(smtpError(553, "5.1.3", `Recipient <${address.address}> ${problem}`));
      if (session.envelope.rcptTo.length >= config.smtp.maxRecipients) {
        return callback(smtpError(452, "4.5.3", `Too many recipients; at most ${config.smtp.maxRecipients}`));
      }
      callback();
    },

    onData(stream, session, callback) {
      const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
      const known = sessionUser(session);
      (known ? Promise.resolve(known) : store.userByEmail(mailFrom, TRUSTED_USER_MAX_AGE_MS))
        .then((user) =>
          intake.submit({
            source: "smtp",
            stream,
            mailFrom,
            rcptTo: session.envelope.rcptTo.map((r) => r.address),
            user: user ?? null,
            authenticated: known !== undefined,
            remoteAddress: plainAddress(session.remoteAddress),
            lineEndings: "reject",
          }),
        )
        .then((accepted) => {
          const release = localMinute(Date.parse(accepted.releaseAt), config.organization.timezone);
          callback(null, `2.0.0 Queued as ${accepted.id}; held until ${release}`);
        })
        .catch(async (err: unknown) => {
          await drain(stream).catch(() => undefined);
          if (err instanceof IntakeError)
            return callback(smtpError(err.smtpCode, err.enhancedCode, err.detail));
          log.error({ err }, "smtp data error");
          callback(smtpError(451, "4.3.0", "Local error while storing the message; try again later"));
        });
    },
  };
  return new SMTPServer(options);
}
