// The relay thread (relay-thread.ts): one relay made from the gateway's configuration, sending what
// the main thread hands it — a notice written whole, or a stored message it reads itself from its
// spool file or the bytes given — and answering with the outcome per recipient.
import { parentPort, workerData } from "node:worker_threads";
import type { Config } from "../config/schema.js";
import type { RecipientResult } from "../store/types.js";
import { outgoingStream } from "./outgoing.js";
import type { RelayThreadReply, RelayThreadRequest } from "./relay-thread.js";
import { createRelay } from "./relay.js";

const port = parentPort;
if (!port) throw new Error("relay-worker.ts runs as a worker thread (see relay-thread.ts)");
const relay = createRelay(workerData as Config);
let inFlight = 0;
let closing = false;

function finishIfIdle(): void {
  if (!closing || inFlight > 0) return;
  relay.close();
  port?.close();
}

/** Sends what was handed over; a stored message that cannot be read fails as a send does (a retry). */
async function relayed(request: Exclude<RelayThreadRequest, { type: "close" }>): Promise<RecipientResult[]> {
  const { envelope, options } = request;
  if (request.type === "send") {
    const { buffer, byteOffset, byteLength } = request.message;
    return relay.send(envelope, Buffer.from(buffer, byteOffset, byteLength), options);
  }
  return relay.send(envelope, await outgoingStream(request.message), options);
}

port.on("message", (request: RelayThreadRequest) => {
  if (request.type === "close") {
    closing = true;
    return finishIfIdle();
  }
  const { id } = request;
  inFlight++;
  relayed(request)
    .then(
      (results): RelayThreadReply => ({ id, results }),
      (err: unknown): RelayThreadReply => ({ id, error: err instanceof Error ? err.message : String(err) }),
    )
    .then((reply) => {
      port.postMessage(reply);
      inFlight--;
      finishIfIdle();
    });
});
