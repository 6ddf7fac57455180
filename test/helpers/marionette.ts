// A small Marionette client (the protocol Firefox/Thunderbird speak with `--marionette`): TCP,
// every message framed as `<byte length>:<JSON>`. Commands are `[0, id, name, params]`, replies
// `[1, id, error, result]`. No geckodriver needed (its npm package downloads a binary).
import { connect, type Socket } from "node:net";

export class MarionetteError extends Error {
  constructor(
    readonly command: string,
    readonly error: string,
    message: string,
    readonly stacktrace: string,
  ) {
    super(`${command}: ${error}: ${message}`);
    this.name = "MarionetteError";
  }
}

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

export type Context = "chrome" | "content";

export class Marionette {
  private socket: Socket | null = null;
  private buffer = Buffer.alloc(0);
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closedError: Error | null = null;
  /** The server's hello: `{applicationType: "gecko", marionetteProtocol: 3}`. */
  hello: Record<string, unknown> | null = null;
  sessionId: string | null = null;
  capabilities: Record<string, unknown> = {};

  /** Connects, retrying until `timeoutMs` (the server may not be listening yet), and reads the hello. */
  static async connect(port: number, host = "127.0.0.1", timeoutMs = 30_000): Promise<Marionette> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const client = new Marionette();
      try {
        await client.open(port, host);
        return client;
      } catch (err) {
        client.close();
        if (Date.now() > until)
          throw new Error(`Marionette on ${host}:${port} not reachable: ${(err as Error).message}`, {
            cause: err,
          });
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  private open(port: number, host: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const socket = connect({ port, host });
      this.socket = socket;
      let gotHello = false;
      const fail = (err: Error) => {
        if (!gotHello) reject(err);
        this.failAll(err);
      };
      socket.on("error", fail);
      socket.on("close", () => fail(new Error("Marionette connection closed")));
      socket.on("data", (chunk: Buffer) => {
        this.buffer = Buffer.concat([this.buffer, chunk]);
        for (;;) {
          const packet = this.takePacket();
          if (packet === undefined) break;
          if (!gotHello) {
            gotHello = true;
            this.hello = packet as Record<string, unknown>;
            resolve();
            continue;
          }
          this.dispatch(packet);
        }
      });
    });
  }

  /** Takes one `length:JSON` packet off the buffer; `undefined` when it is not complete yet. */
  private takePacket(): unknown {
    const colon = this.buffer.indexOf(0x3a);
    if (colon < 0) return undefined;
    const length = Number(this.buffer.subarray(0, colon).toString("ascii"));
    if (!Number.isInteger(length)) throw new Error(`bad Marionette frame: ${this.buffer.subarray(0, 40)}`);
    if (this.buffer.length < colon + 1 + length) return undefined;
    const json = this.buffer.subarray(colon + 1, colon + 1 + length).toString("utf8");
    this.buffer = this.buffer.subarray(colon + 1 + length);
    return JSON.parse(json);
  }

  private dispatch(packet: unknown): void {
    if (!Array.isArray(packet) || packet[0] !== 1) return;
    const [, id, error, result] = packet as [1, number, Record<string, string> | null, unknown];
    const waiting = this.pending.get(id);
    if (!waiting) return;
    this.pending.delete(id);
    if (error) {
      waiting.reject(
        new MarionetteError(
          waiting.command,
          error.error ?? "error",
          error.message ?? "",
          error.stacktrace ?? "",
        ),
      );
    } else waiting.resolve(result);
  }

  private failAll(err: Error): void {
    this.closedError ??= err;
    for (const p of this.pending.values()) p.reject(new Error(`${p.command}: ${err.message}`));
    this.pending.clear();
  }

  /** Sends any command; resolves with its result (usually `{value: ...}`), rejects with Marionette's message. */
  send<T = unknown>(command: string, params: Record<string, unknown> = {}): Promise<T> {
    const socket = this.socket;
    if (!socket || this.closedError)
      return Promise.reject(new Error(`${command}: ${this.closedError?.message ?? "not connected"}`));
    const id = this.nextId++;
    const json = Buffer.from(JSON.stringify([0, id, command, params]), "utf8");
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { command, resolve: resolve as (v: unknown) => void, reject });
      socket.write(Buffer.concat([Buffer.from(`${json.length}:`, "ascii"), json]));
    });
  }

  async newSession(capabilities: Record<string, unknown> = {}): Promise<string> {
    const r = await this.send<{ sessionId: string; capabilities: Record<string, unknown> }>(
      "WebDriver:NewSession",
      { capabilities: { alwaysMatch: capabilities } },
    );
    this.sessionId = r.sessionId;
    this.capabilities = r.capabilities;
    return r.sessionId;
  }

  async deleteSession(): Promise<void> {
    await this.send("WebDriver:DeleteSession");
    this.sessionId = null;
  }

  /** "chrome" (privileged, the app's windows) needs `--remote-allow-system-access`. */
  async setContext(context: Context): Promise<void> {
    await this.send("Marionette:SetContext", { value: context });
  }

  async getContext(): Promise<Context> {
    return (await this.send<{ value: Context }>("Marionette:GetContext")).value;
  }

  /** Milliseconds; `script` bounds executeScript/executeAsyncScript (Marionette's default is 30 s). */
  async setTimeouts(timeouts: {
    script?: number | null;
    pageLoad?: number;
    implicit?: number;
  }): Promise<void> {
    await this.send("WebDriver:SetTimeouts", timeouts);
  }

  /** Runs `script` as a function body (`return ...` gives the result); `args` are `arguments[i]`. */
  async executeScript<T = unknown>(script: string, args: unknown[] = [], sandbox?: string): Promise<T> {
    const r = await this.send<{ value: T }>("WebDriver:ExecuteScript", {
      script,
      args,
      ...(sandbox ? { sandbox } : {}),
    });
    return r.value;
  }

  /**
   * Like executeScript, but the last argument is a callback: the result is what the script passes
   * to `arguments[arguments.length - 1]` (or the resolved value of a returned promise).
   */
  async executeAsyncScript<T = unknown>(script: string, args: unknown[] = [], sandbox?: string): Promise<T> {
    const r = await this.send<{ value: T }>("WebDriver:ExecuteAsyncScript", {
      script,
      args,
      ...(sandbox ? { sandbox } : {}),
    });
    return r.value;
  }

  /** In chrome context: all top-level app windows; in content context: tabs/browsers. */
  async getWindowHandles(): Promise<string[]> {
    const r = await this.send<string[] | { value: string[] }>("WebDriver:GetWindowHandles");
    return Array.isArray(r) ? r : r.value;
  }

  async getWindowHandle(): Promise<string> {
    return (await this.send<{ value: string }>("WebDriver:GetWindowHandle")).value;
  }

  async switchToWindow(handle: string, focus = true): Promise<void> {
    await this.send("WebDriver:SwitchToWindow", { handle, focus });
  }

  /** PNG of the current window (chrome context: the whole app window). */
  async takeScreenshot(): Promise<Buffer> {
    const r = await this.send<{ value: string }>("WebDriver:TakeScreenshot", { full: false, hash: false });
    return Buffer.from(r.value, "base64");
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
    this.failAll(new Error("Marionette client closed"));
  }
}
