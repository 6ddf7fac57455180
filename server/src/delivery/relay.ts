// Hands a message to the next hop: the configured smarthost over a pooled SMTP connection, or the
// outbox folder (.eml files) on a first run. Reports an outcome per recipient. Runs in the relay
// thread (relay-thread.ts).
import { createPrivateKey, type KeyObject } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import nodemailer, { type SentMessageInfo, type Transporter } from "nodemailer";
import DKIM from "nodemailer/lib/dkim";
import type { MailMessage } from "nodemailer/lib/mailer";
import MimeNode from "nodemailer/lib/mime-node";
import SMTPConnection, { type SMTPConnectionOptions } from "nodemailer/lib/smtp-connection";
import type { Config } from "../config/schema.js";
import type { RecipientResult } from "../store/types.js";
import type { DkimOptions } from "./dkim.js";

export interface Envelope {
  from: string;
  to: string[];
}

export interface SendOptions {
  dkim: DkimOptions | null;
  /** Names the attempt (the outbox file). */
  name: string;
  /** The Message-ID already in the message; nodemailer would otherwise make up one it does not use. */
  messageId: string;
}

export interface Relay {
  /** `message` is a stream (a spooled message) or a buffer (a notice, small and written at once). */
  send(envelope: Envelope, message: Readable | Buffer, options: SendOptions): Promise<RecipientResult[]>;
  close(): void;
}

interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  rejectedErrors?: SmtpError[];
  recipient?: string;
}

function outcomeOf(err: SmtpError): "failed" | "retry" {
  return err.responseCode !== undefined && err.responseCode >= 500 && err.responseCode < 600
    ? "failed"
    : "retry";
}

function describe(err: SmtpError): string {
  return (err.response ?? err.message).replace(/\s+/g, " ").slice(0, 500);
}

/** Only normalises envelopes (setEnvelope, getEnvelope): one, since building a MimeNode costs more. */
const envelopeNormaliser = new MimeNode();

/**
 * An address as nodemailer writes it into MAIL FROM / RCPT TO, which is how the relay's replies
 * name it: the domain as an A-label (taro@xn--r8jz45g.jp), unless the local part is non-ASCII (the
 * address needs SMTPUTF8 then, and the domain stays UTF-8); a local part that is no dot-atom quoted.
 */
export function wireAddress(address: string): string {
  return envelopeNormaliser.setEnvelope({ to: [address] }).getEnvelope().to[0] ?? address;
}

/** RFC 6531: an address with non-ASCII characters in its envelope form can only go with SMTPUTF8. */
function needsSmtpUtf8(address: string): boolean {
  return /\P{ASCII}/u.test(wireAddress(address));
}

/**
 * Outcomes per recipient in the envelope's spelling (the stored one), the relay's replies matched
 * to them by the form they went out in (wireAddress), without regard to case.
 */
export function classifySmtpResult(
  to: string[],
  accepted: string[],
  rejected: SmtpError[],
): RecipientResult[] {
  const byRecipient = new Map(rejected.map((e) => [(e.recipient ?? "").toLowerCase(), e]));
  const ok = new Set(accepted.map((a) => a.toLowerCase()));
  return to.map((address) => {
    const sentAs = wireAddress(address).toLowerCase();
    const err = byRecipient.get(sentAs);
    if (err) return { address, outcome: outcomeOf(err), response: describe(err) };
    if (ok.has(sentAs)) return { address, outcome: "sent", response: "accepted" };
    return { address, outcome: "retry", response: "not acknowledged by the relay" };
  });
}

/**
 * DKIM hashes the body before it can write the signature header first, so nodemailer buffers the
 * message: in memory by default (a 100 MB message cost 90 MB more RSS), on disk past a threshold.
 */
interface DkimCache {
  cacheDir: string;
  cacheTreshold: number; // nodemailer's spelling
}

function dkimCache(config: Config): DkimCache {
  return { cacheDir: join(config.dataDir, "tmp", "dkim"), cacheTreshold: 1024 * 1024 };
}

/** A DKIM key as nodemailer signs with it: parsed, with the cache for large messages. */
type Signing = Omit<DkimOptions, "privateKey"> & { privateKey: KeyObject } & DkimCache;

/** Keys parsed in this thread, by PEM: a PEM is parsed once, not at every signature. */
const parsedKeys = new Map<string, KeyObject>();
const MAX_PARSED_KEYS = 100;

/**
 * nodemailer relays a message unsigned when its key cannot sign (it swallows the error), and the
 * recipient then fails it on DMARC. So a key that does not parse as an RSA private key (the
 * signature is rsa-sha256) throws here: the delivery is a retry, and the key can be mended.
 */
function signingWith(dkim: DkimOptions | null, cache: DkimCache): Signing | null {
  if (!dkim) return null;
  let key = parsedKeys.get(dkim.privateKey);
  if (!key) {
    try {
      key = createPrivateKey(dkim.privateKey);
    } catch (err) {
      throw new Error(`the DKIM key of ${dkim.domainName} cannot be read: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (key.asymmetricKeyType !== "rsa")
      throw new Error(`the DKIM key of ${dkim.domainName} is ${key.asymmetricKeyType}, not RSA`);
    if (parsedKeys.size >= MAX_PARSED_KEYS) parsedKeys.clear();
    parsedKeys.set(dkim.privateKey, key);
  }
  return { ...dkim, privateKey: key, ...cache };
}

/**
 * A notice is written whole (notify/compose.ts), so it goes to nodemailer's pool as a transport gets
 * it from sendMail (`Transport#send`), without the Mailer's MIME compile step and stream plumbing:
 * they cost more CPU than writing the notice did (~8 % of an accepted message's). The pool reads
 * of `mail.message` only the envelope (normalised here as sendMail does, punycode included), the
 * Message-ID and a stream of the message, DKIM-signed as sendMail would (smtp-pool/index.js,
 * pool-resource.js); the delivery tests send notices through it.
 */
function prebuiltMail(
  envelope: Envelope,
  raw: Buffer,
  messageId: string,
  dkim: Signing | null,
): MailMessage<SentMessageInfo> {
  const normalised = envelopeNormaliser.setEnvelope({ from: envelope.from, to: envelope.to }).getEnvelope();
  const message = {
    getEnvelope: () => ({ ...normalised, to: [...normalised.to] }),
    messageId: () => `<${messageId}>`,
    getHeader: (key: string) => (key.toLowerCase() === "message-id" ? `<${messageId}>` : undefined),
    // Called again when the pool moves the mail to another connection.
    createReadStream: () => (dkim ? new DKIM(dkim).sign(raw) : Readable.from([raw])),
  };
  return { data: {}, message } as unknown as MailMessage<SentMessageInfo>;
}

/** How long what the relay's EHLO offers is trusted before it is read again. */
const CAPABILITIES_TTL_MS = 10 * 60_000;

/** Whether the server's EHLO reply lists `extension`, read on a connection of its own (after STARTTLS). */
function ehloOffers(options: SMTPConnectionOptions, extension: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const connection = new SMTPConnection(options);
    connection.once("error", (err: Error) => {
      connection.close();
      reject(err);
    });
    connection.connect(() => {
      // After the handshake the last reply is the whole EHLO (or HELO) response.
      const ehlo = connection.lastServerResponse || "";
      connection.quit();
      resolve(new RegExp(`^\\d{3}[ -]${extension}\\b`, "im").test(ehlo));
    });
  });
}

class SmtpRelay implements Relay {
  private readonly transport: Transporter;
  private readonly dkimCache: DkimCache;
  private readonly connection: SMTPConnectionOptions;
  private readonly name: string;
  private smtpUtf8: { at: number; offered: Promise<boolean> } | null = null;

  constructor(config: Config) {
    this.dkimCache = dkimCache(config);
    this.name = describeRelay(config);
    const url = new URL(config.relay.url);
    this.connection = {
      host: url.hostname,
      port: Number(url.port || (url.protocol === "smtps:" ? 465 : 25)),
      secure: url.protocol === "smtps:",
      name: config.smtp.hostname,
      tls: { rejectUnauthorized: config.relay.rejectUnauthorized },
      connectionTimeout: 30_000,
      greetingTimeout: 30_000,
      socketTimeout: 120_000,
    };
    this.transport = nodemailer.createTransport({
      pool: true,
      ...this.connection,
      auth: url.username
        ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) }
        : undefined,
      maxConnections: config.relay.maxConnections,
      maxMessages: 1000,
    });
  }

  /**
   * Recipients whose address (or the sender's) has a non-ASCII local part go only if the relay
   * offers SMTPUTF8: nodemailer would send them without it, and the relay might garble them.
   */
  async send(
    envelope: Envelope,
    message: Readable | Buffer,
    options: SendOptions,
  ): Promise<RecipientResult[]> {
    const held = await this.heldForSmtpUtf8(envelope);
    const to = envelope.to.filter((address) => !held.has(address));
    if (!to.length && !Buffer.isBuffer(message)) message.destroy();
    const relayed = to.length ? await this.relay({ ...envelope, to }, message, options) : [];
    const byAddress = new Map(relayed.map((r) => [r.address, r]));
    return envelope.to.map((address) => held.get(address) ?? (byAddress.get(address) as RecipientResult));
  }

  /** The recipients that cannot go now: SMTPUTF8 is needed but not offered (failed) or unknown (retry). */
  private async heldForSmtpUtf8(envelope: Envelope): Promise<Map<string, RecipientResult>> {
    const held = new Map<string, RecipientResult>();
    const senderNeeds = needsSmtpUtf8(envelope.from);
    const needing = senderNeeds ? envelope.to : envelope.to.filter(needsSmtpUtf8);
    if (!needing.length) return held;
    let outcome: RecipientResult["outcome"] = "failed";
    let response: string;
    try {
      if (await this.offersSmtpUtf8()) return held;
      const whose = senderNeeds ? `the sender address <${envelope.from}>` : "this recipient's address";
      response =
        `553 5.6.7 The relay ${this.name} does not offer SMTPUTF8 (RFC 6531), which ${whose} needs ` +
        "for its non-ASCII local part; use an ASCII address, or a relay that supports SMTPUTF8";
    } catch (err) {
      outcome = "retry";
      response = describe(err as SmtpError);
    }
    for (const address of needing) held.set(address, { address, outcome, response });
    return held;
  }

  private offersSmtpUtf8(): Promise<boolean> {
    const now = Date.now();
    if (!this.smtpUtf8 || now - this.smtpUtf8.at > CAPABILITIES_TTL_MS) {
      const offered = ehloOffers(this.connection, "SMTPUTF8");
      // A relay that could not be asked is asked again next time.
      offered.catch(() => {
        if (this.smtpUtf8?.offered === offered) this.smtpUtf8 = null;
      });
      this.smtpUtf8 = { at: now, offered };
    }
    return this.smtpUtf8.offered;
  }

  private async relay(
    envelope: Envelope,
    message: Readable | Buffer,
    { dkim, messageId }: SendOptions,
  ): Promise<RecipientResult[]> {
    const signing = signingWith(dkim, this.dkimCache);
    try {
      const info = Buffer.isBuffer(message)
        ? await this.sendPrebuilt(prebuiltMail(envelope, message, messageId, signing))
        : await this.transport.sendMail({
            envelope: { ...envelope },
            raw: message,
            messageId: `<${messageId}>`,
            ...(signing ? { dkim: signing } : {}),
          });
      return classifySmtpResult(
        envelope.to,
        (info.accepted ?? []).map(String),
        (info.rejectedErrors ?? []) as SmtpError[],
      );
    } catch (e) {
      const err = e as SmtpError;
      if (!Buffer.isBuffer(message)) message.destroy();
      if (err.code === "EENVELOPE" && err.rejectedErrors?.length) {
        return classifySmtpResult(envelope.to, [], err.rejectedErrors);
      }
      return envelope.to.map((address) => ({ address, outcome: outcomeOf(err), response: describe(err) }));
    }
  }

  private sendPrebuilt(mail: MailMessage<SentMessageInfo>): Promise<SentMessageInfo> {
    return new Promise((resolve, reject) =>
      this.transport.transporter.send(mail, (err, info) =>
        err ? reject(err) : resolve(info as SentMessageInfo),
      ),
    );
  }

  close(): void {
    this.transport.close();
  }
}

/** Writes each message to DATA_DIR/outbox as NAME.eml (written to a temp name, fsynced, renamed). */
class OutboxRelay implements Relay {
  private readonly transport = nodemailer.createTransport({ streamTransport: true, buffer: false });

  constructor(
    private readonly dir: string,
    private readonly dkimCache: DkimCache,
  ) {}

  async send(
    envelope: Envelope,
    message: Readable | Buffer,
    { dkim, name, messageId }: SendOptions,
  ): Promise<RecipientResult[]> {
    const final = join(this.dir, `${name}.eml`);
    const temp = `${final}.tmp`;
    try {
      await mkdir(this.dir, { recursive: true });
      const signing = signingWith(dkim, this.dkimCache);
      const info = (await this.transport.sendMail({
        envelope: { ...envelope },
        raw: message,
        messageId: `<${messageId}>`,
        ...(signing ? { dkim: signing } : {}),
      })) as {
        message: Readable;
      };
      const header = `X-Sendguard-Envelope-From: <${envelope.from}>\r\nX-Sendguard-Envelope-To: ${envelope.to.map((t) => `<${t}>`).join(", ")}\r\n`;
      const out = createWriteStream(temp);
      out.write(header);
      await pipeline(info.message, out);
      const file = await open(temp, "r");
      await file.sync();
      await file.close();
      await rename(temp, final);
    } catch (err) {
      // The caller records a retry; nothing half-written stays behind, no spool file stays open.
      if (!Buffer.isBuffer(message)) message.destroy();
      await rm(temp, { force: true }).catch(() => undefined);
      throw err;
    }
    return envelope.to.map((address) => ({ address, outcome: "sent", response: `written to ${final}` }));
  }

  close(): void {
    this.transport.close();
  }
}

/** Where relay.url "outbox" writes its .eml files (and retention deletes them after outboxDays). */
export function outboxDir(config: Config): string {
  return join(config.dataDir, "outbox");
}

/** The next hop, as logs and audit entries name it (without credentials). */
export function describeRelay(config: Config): string {
  if (config.relay.url === "outbox") return `outbox ${outboxDir(config)}`;
  const url = new URL(config.relay.url);
  return `${url.protocol}//${url.host}`;
}

export function createRelay(config: Config): Relay {
  return config.relay.url === "outbox"
    ? new OutboxRelay(outboxDir(config), dkimCache(config))
    : new SmtpRelay(config);
}
