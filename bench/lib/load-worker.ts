// The load client's thread (smtp-client.ts runLoad).
import { parentPort, workerData } from "node:worker_threads";
import { runLoadHere, type LoadOptions } from "./smtp-client.js";

parentPort?.postMessage(await runLoadHere(workerData as LoadOptions));
