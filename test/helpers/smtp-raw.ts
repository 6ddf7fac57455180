// A byte-exact SMTP client for what well-behaved clients never send (smuggling, injection).
import { connect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";

export class RawSmtp {
  private buffer = "";
  private waiters: (() => void)[] = [];

  private constructor(private socket: Socket) {
    this.listen(socket);
  }

  private listen(socket: Socket): void {
    socket.on("data", (d: Buffer) => {
      this.buffer += d.toString("latin1");
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on("close", () => {
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /**
   * STARTTLS, then the TLS handshake (the gateway's certificate is self-signed) and a new EHLO:
   * the gateway takes AUTH only over TLS (smtp.requireTlsForAuth). Byte-exact as before.
   */
  async startTls(): Promise<void> {
    const reply = await this.command("STARTTLS");
    if (!/^220/.test(reply)) throw new Error(`STARTTLS got ${reply}`);
    const secure = tlsConnect({ socket: this.socket, rejectUnauthorized: false, servername: "gw.test" });
    await new Promise<void>((resolve, reject) => secure.once("secureConnect", resolve).once("error", reject));
    this.socket = secure;
    this.listen(secure);
    const ehlo = await this.command("EHLO client.test");
    if (!/^250/.test(ehlo)) throw new Error(`EHLO after STARTTLS got ${ehlo}`);
  }

  static async open(port: number, host = "127.0.0.1"): Promise<RawSmtp> {
    const socket = connect(port, host);
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    const client = new RawSmtp(socket);
    await client.reply();
    return client;
  }

  get closed(): boolean {
    return this.socket.destroyed || this.socket.readableEnded;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** The next complete reply (all continuation lines), e.g. "250 2.0.0 Queued …". */
  async reply(timeoutMs = 10_000): Promise<string> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const match = /^(?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?\n/.exec(this.buffer);
      if (match) {
        this.buffer = this.buffer.slice(match[0].length);
        return match[0].trim();
      }
      if (this.socket.destroyed || Date.now() > until)
        throw new Error(`no reply (have ${JSON.stringify(this.buffer)})`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }

  async command(line: string): Promise<string> {
    this.write(`${line}\r\n`);
    return this.reply();
  }

  /** Everything received so far that is not yet consumed. */
  pending(): string {
    return this.buffer;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Opens a session, authenticates over TLS and reaches DATA (354): what each DATA-content test needs first. */
export async function openData(port: number, user: string, password: string, rcpt: string): Promise<RawSmtp> {
  const client = await RawSmtp.open(port);
  const ehlo = await client.command("EHLO client.test");
  if (!/^250/.test(ehlo)) throw new Error(`EHLO got ${ehlo}`);
  await client.startTls();
  const steps: [string, RegExp][] = [
    [authPlain(user, password), /^235/],
    [`MAIL FROM:<${user}>`, /^250/],
    [`RCPT TO:<${rcpt}>`, /^250/],
    ["DATA", /^354/],
  ];
  for (const [command, expected] of steps) {
    const reply = await client.command(command);
    if (!expected.test(reply)) throw new Error(`${command.split(" ")[0]} got ${reply}`);
  }
  return client;
}

export function authPlain(user: string, password: string): string {
  return `AUTH PLAIN ${Buffer.from(`\0${user}\0${password}`).toString("base64")}`;
}
