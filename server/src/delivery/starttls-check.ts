// One SMTP conversation that asks a mail host whether it offers STARTTLS and what certificate it
// shows: greeting 220 → EHLO → STARTTLS 220 → TLS handshake → QUIT. Nothing is sent after EHLO
// but STARTTLS and QUIT, so a probe never starts a mail transaction.
//
// Written on node:net/node:tls rather than nodemailer's SMTPConnection: that class verifies or
// rejects the certificate as a whole and keeps its TLS socket private, while the probe needs one
// handshake that is allowed to fail verification and still reports why (chain, name, expiry) and
// what the certificate says.
import { connect as netConnect, isIP, type Socket } from "node:net";
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate, type TLSSocket } from "node:tls";
import { ProbeFailure, type CertificateSummary } from "./tls-probe-result.js";
import { quote, ReplyReader, ReplySyntaxError, type SmtpReply } from "./smtp-reply-reader.js";

export interface StartTlsCheckOptions {
  /** IP address to connect to. */
  address: string;
  /** The mail host's name: the certificate must match it, and it is sent as SNI. */
  host: string;
  port: number;
  /** Our name in EHLO. */
  heloName: string;
  /** The whole conversation, connect to handshake, must finish within this. */
  timeoutMs: number;
  /** Trusted CAs; undefined means Node's bundled roots. */
  ca?: string[];
}

/**
 * The host answered EHLO. A handshake failure after a 220 to STARTTLS is reported here, not
 * thrown: the host did answer, so trying the next MX would not describe this one.
 */
export type StartTlsReport =
  | { starttls: false }
  | { starttls: true; handshakeError: string }
  | { starttls: true; authorized: boolean; verifyError?: string; certificate?: CertificateSummary };

/**
 * Talks to one host; throws ProbeFailure when it does not get through EHLO (so the caller may
 * try the next address or MX host).
 */
export async function checkStartTls(options: StartTlsCheckOptions): Promise<StartTlsReport> {
  const session = new Session(netConnect({ host: options.address, port: options.port }));
  const timer = setTimeout(
    () =>
      session.fail(new ProbeFailure("timeout", `no answer within ${options.timeoutMs} ms (${session.step})`)),
    options.timeoutMs,
  );
  try {
    await session.connected();
    expect(await session.reply("greeting"), 220, "greeting");
    const ehlo = await session.command(`EHLO ${options.heloName}`, "EHLO");
    expect(ehlo, 250, "EHLO");
    // The first line is the server's name; each further line is one extension keyword and its parameters.
    if (!ehlo.lines.slice(1).some((line) => /^STARTTLS(?:\s|$)/i.test(line))) {
      session.quit();
      return { starttls: false };
    }
    const answer = await session.command("STARTTLS", "STARTTLS");
    if (answer.code !== 220) {
      session.quit();
      return { starttls: true, handshakeError: `STARTTLS answered ${describe(answer)}` };
    }
    return await session.handshake(options);
  } finally {
    clearTimeout(timer);
    if (!session.quitting) session.close();
  }
}

function expect(reply: SmtpReply, code: number, step: string): void {
  if (reply.code !== code) throw new ProbeFailure("refused", `${step} answered ${describe(reply)}`);
}

function describe(reply: SmtpReply): string {
  return `${reply.code} ${quote(reply.lines.join(" "))}`;
}

/** The plain-text part of the conversation: one reply awaited at a time, any failure ends it. */
class Session {
  step = "connect";
  quitting = false;
  private readonly reader = new ReplyReader();
  private readonly replies: SmtpReply[] = [];
  private waiter: { resolve: (reply: SmtpReply) => void; reject: (err: Error) => void } | null = null;
  private failure: Error | null = null;
  private tlsSocket: TLSSocket | null = null;
  private readonly onData = (chunk: Buffer): void => {
    try {
      this.replies.push(...this.reader.push(chunk));
    } catch (err) {
      const message = err instanceof ReplySyntaxError ? err.message : String(err);
      this.fail(new ProbeFailure("protocol", `${this.step}: ${message}`));
      return;
    }
    this.wake();
  };

  constructor(private readonly socket: Socket) {
    socket.on("data", this.onData);
    socket.on("error", (err) => this.fail(new ProbeFailure("connect", `${this.step}: ${errorText(err)}`)));
    socket.on("close", () => this.fail(new ProbeFailure("connect", `connection closed during ${this.step}`)));
  }

  connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.waiter = { resolve: () => undefined, reject };
      this.socket.once("connect", () => {
        this.waiter = null;
        this.step = "greeting";
        resolve();
      });
    });
  }

  command(line: string, step: string): Promise<SmtpReply> {
    if (this.replies.length > 0) {
      // Pipelining is not in play, so a reply before our command is the server talking out of turn.
      return Promise.reject(
        new ProbeFailure("protocol", `reply before ${step}: ${describe(this.replies[0]!)}`),
      );
    }
    this.socket.write(`${line}\r\n`);
    return this.reply(step);
  }

  reply(step: string): Promise<SmtpReply> {
    this.step = step;
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.wake();
    });
  }

  /** Upgrades the socket and reads the verdict on the certificate without rejecting it. */
  handshake(options: StartTlsCheckOptions): Promise<StartTlsReport> {
    // Anything already read after the 220 would be fed to no one (or be an injection attempt).
    if (this.replies.length > 0 || !this.reader.idle) {
      return Promise.reject(new ProbeFailure("protocol", "server sent data after its STARTTLS reply"));
    }
    this.step = "TLS handshake";
    this.socket.off("data", this.onData);
    return new Promise((resolve) => {
      const secure = tlsConnect({
        socket: this.socket,
        servername: isIP(options.host) ? undefined : options.host,
        ca: options.ca,
        rejectUnauthorized: false,
        checkServerIdentity,
      });
      this.tlsSocket = secure;
      this.waiter = {
        resolve: () => undefined,
        reject: (err) => resolve({ starttls: true, handshakeError: err.message }),
      };
      secure.on("error", (err) => this.fail(new ProbeFailure("tls", `TLS handshake: ${errorText(err)}`)));
      secure.once("secureConnect", () => {
        this.waiter = null;
        const authorized = secure.authorized;
        const verifyError = authorized ? undefined : String(secure.authorizationError ?? "not verified");
        const certificate = summarize(secure.getPeerCertificate());
        this.quit();
        resolve({ starttls: true, authorized, verifyError, certificate });
      });
    });
  }

  /** Says goodbye and lets the server close; a server that never does is cut off after a second. */
  quit(): void {
    this.quitting = true;
    (this.tlsSocket ?? this.socket).end("QUIT\r\n");
    setTimeout(() => this.close(), 1000).unref();
  }

  fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.reject(err);
    this.close();
  }

  close(): void {
    this.tlsSocket?.destroy();
    this.socket.destroy();
  }

  /** Hands the waiter its reply, or the failure that already ended the conversation. */
  private wake(): void {
    const waiter = this.waiter;
    if (!waiter) return;
    const reply = this.failure ? undefined : this.replies.shift();
    if (!this.failure && !reply) return;
    this.waiter = null;
    if (reply) waiter.resolve(reply);
    else waiter.reject(this.failure!);
  }
}

function summarize(cert: PeerCertificate): CertificateSummary | undefined {
  if (!cert || Object.keys(cert).length === 0) return undefined;
  return {
    subject: distinguishedName(cert.subject),
    issuer: distinguishedName(cert.issuer),
    validTo: new Date(cert.valid_to).toISOString(),
  };
}

function distinguishedName(name: PeerCertificate["subject"] | undefined): string {
  return Object.entries(name ?? {})
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join("+") : value}`)
    .join(", ");
}

function errorText(err: Error & { code?: string }): string {
  return err.code && !err.message.includes(err.code) ? `${err.code} ${err.message}` : err.message;
}
