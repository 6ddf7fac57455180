// A real SMTP server as the relay target: records every message byte for byte, and can be told to
// reject (5xx), defer (4xx) or slow down chosen recipients, or to go away and come back.
import { SMTPServer } from "smtp-server";
import type { AddressInfo } from "node:net";

export interface SunkMessage {
  from: string;
  to: string[];
  raw: Buffer;
  text: string;
  messageId: string | null;
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
  port = 0;

  async start(port = 0): Promise<this> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      logger: false,
      size: 0,
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
          this.messages.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            to: session.envelope.rcptTo.map((r) => r.address),
            raw,
            text,
            messageId: /^Message-ID:\s*<([^>]+)>/im.exec(text)?.[1] ?? null,
          });
          setTimeout(() => cb(), this.behaviour.dataDelayMs ?? 0);
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
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

  to(address: string): SunkMessage[] {
    return this.messages.filter((m) => m.to.includes(address));
  }
}
