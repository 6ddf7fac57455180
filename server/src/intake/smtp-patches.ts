// Three changes to smtp-server's connection, each measured or specified:
// - It adds an enhanced status code chosen from the reply code alone (550 → 5.1.1), which is wrong
//   for policy refusals (RFC 6409 wants 550 5.7.1). Replies whose text already starts with an
//   enhanced code are sent as they are; everything else keeps the library's choice.
// - It waits a fixed 100 ms before the greeting to catch "early talkers" (an MX anti-spam habit).
//   Submission is authenticated, and the pause capped a client that connects per message at
//   9 msgs/s (bench/intake.ts), so the greeting is sent at once.
// - It writes every reply to the socket on its own, so a pipelined MAIL, RCPT, DATA (RFC 2920) cost
//   three writes (and three wake-ups of the client) where one does: replies made in the same tick
//   are corked and go out together at its end. Before the socket is handed to TLS (STARTTLS), what
//   is corked, the 220 included, is written first: TLS writes to the handle underneath, past it.
import type { Socket } from "node:net";
import { SMTPConnection } from "smtp-server/lib/smtp-connection.js";

const ENHANCED = /^[245]\.\d{1,3}\.\d{1,3} /;

type Send = (code: number, data?: string | string[], context?: string | false) => void;
interface Connection {
  send: Send;
  _socket: Socket;
  _setListeners(done: () => void): void;
  _server: { options: { maxClients?: number }; connections: Set<unknown> };
  name: string;
  connectionReady(): void;
}
const proto = SMTPConnection.prototype as unknown as Connection & {
  init(): void;
  upgrade(...args: unknown[]): void;
  sendguardPatched?: boolean;
};

function uncork(socket: Socket): void {
  while (socket.writableCorked) socket.uncork();
}

if (!proto.sendguardPatched) {
  const original = proto.send;
  proto.send = function (this: Connection, code, data, context) {
    const socket = this._socket;
    if (!socket.writableCorked) {
      socket.cork();
      process.nextTick(uncork, socket);
    }
    original.call(this, code, data, typeof data === "string" && ENHANCED.test(data) ? false : context);
  };
  const upgrade = proto.upgrade;
  proto.upgrade = function (this: Connection, ...args: unknown[]) {
    uncork(this._socket);
    upgrade.apply(this, args);
  };
  // The library's init() without the early-talker timer.
  proto.init = function (this: Connection) {
    this._setListeners(() => {
      const { maxClients } = this._server.options;
      if (maxClients && this._server.connections.size > maxClients) {
        return this.send(421, `${this.name} Too many connected clients, try again in a moment`, false);
      }
      this.connectionReady();
    });
  };
  proto.sendguardPatched = true;
}

/** An error smtp-server turns into the reply "CODE ENHANCED text". */
export function smtpError(code: number, enhanced: string, text: string): Error & { responseCode: number } {
  return Object.assign(new Error(`${enhanced} ${text}`), { responseCode: code });
}
