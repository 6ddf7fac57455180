// Structured JSON logs on stdout; every line about a message carries its id as `msg_id`.
import { pino, type Logger } from "pino";

export type { Logger };

/** Log lines kept in memory while stdout cannot take them; beyond this they are dropped. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

export function createLogger(level: string): Logger {
  // Asynchronous writes: when stdout is a pipe whose reader falls behind (journald, a supervisor,
  // a busy test harness), a synchronous write waits for it, 100 ms at a time, and with it every
  // SMTP session. Lines are buffered instead, and flushed when the process exits.
  const destination = pino.destination({ dest: 1, sync: false, maxLength: MAX_BUFFERED_BYTES });
  return pino(
    { level, base: { service: "sendguard" }, timestamp: pino.stdTimeFunctions.isoTime },
    destination,
  );
}
