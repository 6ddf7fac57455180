// The notice relay's thread (notice-relay.ts): one relay made from the gateway's configuration,
// sending what the main thread hands it and answering with the outcome per recipient.
import { parentPort, workerData } from "node:worker_threads";
import type { Config } from "../config/schema.js";
import type { RelayThreadReply, RelayThreadRequest } from "./notice-relay.js";
import { createRelay } from "./relay.js";

const port = parentPort;
if (!port) throw new Error("relay-worker.ts runs as a worker thread (see notice-relay.ts)");
const relay = createRelay(workerData as Config);
let inFlight = 0;
let closing = false;

function finishIfIdle(): void {
  if (!closing || inFlight > 0) return;
  relay.close();
  port?.close();
}

port.on("message", (request: RelayThreadRequest) => {
  if (request.type === "close") {
    closing = true;
    return finishIfIdle();
  }
  const { id, envelope, message, options } = request;
  inFlight++;
  relay
    .send(envelope, Buffer.from(message.buffer, message.byteOffset, message.byteLength), options)
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
