// Structured JSON logs on stdout; every line about a message carries its id as `msg_id`.
import { pino, type Logger } from "pino";

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: "sendguard" }, timestamp: pino.stdTimeFunctions.isoTime });
}
