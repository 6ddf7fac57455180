// Test-only fault injection for the crash tests (test/e2e/crash.test.ts). Started with
// SENDGUARD_TEST_CRASH_AT=NAME in its environment, the gateway kills itself with SIGKILL when it
// first reaches crashPoint(NAME): a kill -9 at one exact step, which a test cannot time from
// outside (the steps between two writes take microseconds). Unset, as it always is in production,
// crashPoint does nothing; docs/configuration.md says so.
const crashAt = process.env.SENDGUARD_TEST_CRASH_AT;

/** The steps a crash test can stop the gateway at. */
export type CrashPoint =
  /** copies.ts: the encrypted ZIP written, the message copy that carries it not yet */
  | "zip_written"
  /** copies.ts: the copies' files written and fsynced, their rows (and download package) not yet committed */
  | "copies_written"
  /** copies.ts: the attachments stored in the download vault and the links made, the notices not yet written */
  | "download_prepared"
  /** copies.ts: the copies committed, the plain attachment files not yet removed */
  | "copies_committed";

export function crashPoint(name: CrashPoint): void {
  if (crashAt === name) process.kill(process.pid, "SIGKILL");
}
