// A real SMTP server as the relay target: records every message byte for byte, and can be told to
// reject (5xx), defer (4xx) or slow down chosen recipients, or to go away and come back.
import { SMTPServer } from "smtp-server";
import { createServer, type AddressInfo } from "node:net";

export interface SunkMessage {
  from: string;
  to: string[];
  raw: Buffer;
  text: string;
  messageId: string | null;
  /**
   * The sink answered 250 to the end of DATA on a connection still open. Until then (a delayed
   * reply) or if the client went away first, the message was received but not accepted, and an
   * MTA would throw it away.
   */
  acknowledged: boolean;
  /** The client asked for SMTPUTF8 (RFC 6531) in MAIL FROM. */
  smtpUtf8: boolean;
}

export interface SinkOptions {
  /** Offer SMTPUTF8 in the EHLO reply (default true, as smtp-server does). */
  smtpUtf8?: boolean;
  /** Offer STARTTLS with this certificate (PEM); without it the sink offers no STARTTLS. */
  tls?: { key: string; cert: string };
}

export interface SinkBehaviour {
  /** Per recipient: a reply code to refuse it with (e.g. 550 or 451). */
  rcptReply?: (address: string) => number | null;
  /** Milliseconds to wait before answering the end of DATA. */
  dataDelayMs?: number;
}

export class SmtpSink {
  readonly messages: SunkMessage[] = [];
  readonly errors: Error[] = [];
  behaviour: SinkBehaviour = {};
  private server: SMTPServer | null = null;
  /** Ids of the sessions connected now. */
  private readonly open = new Set<string>();
  port = 0;

  constructor(private readonly options: SinkOptions = {}) {}

  /** Listens on `host` (a loopback address; 127.0.0.2 lets two sinks share a port). */
  async start(port = 0, host = "127.0.0.1"): Promise<this> {
    const { tls } = this.options;
    const server = new SMTPServer({
      authOptional: true,
      ...(tls ? { key: tls.key, cert: tls.cert } : { disabledCommands: ["STARTTLS"] }),
      hideSMTPUTF8: this.options.smtpUtf8 === false,
      logger: false,
      size: 0,
      onConnect: (session, cb) => {
        this.open.add(session.id);
        cb();
      },
      onClose: (session) => {
        this.open.delete(session.id);
      },
      onRcptTo: (address, _session, cb) => {
        const code = this.behaviour.rcptReply?.(address.address);
        if (code)
          return cb(Object.assign(new Error(`sink refuses ${address.address}`), { responseCode: code }));
        cb();
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => {
          const raw = Buffer.concat(chunks);
          const text = raw.toString("utf8");
          const message: SunkMessage = {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            to: session.envelope.rcptTo.map((r) => r.address),
            raw,
            text,
            messageId: /^Message-ID:\s*<([^>]+)>/im.exec(text)?.[1] ?? null,
            acknowledged: false,
            smtpUtf8: session.envelope.smtpUtf8 === true,
          };
          this.messages.push(message);
          setTimeout(() => {
            message.acknowledged = this.open.has(session.id);
            cb();
          }, this.behaviour.dataDelayMs ?? 0);
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    // A client that dies mid-session (a killed gateway) resets its connection: expected here.
    server.on("error", (err: Error) => this.errors.push(err));
    this.server = server;
    this.port = (server.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  /** Clients connected now. */
  get connections(): number {
    return this.open.size;
  }

  to(address: string): SunkMessage[] {
    return this.messages.filter((m) => m.to.includes(address));
  }
}

/** A loopback port nothing listens on (yet): a relay that is down until a sink starts there. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}
