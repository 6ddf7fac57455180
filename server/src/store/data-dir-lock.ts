// One gateway per data directory. A second one would reset the first one's leases at its start and
// deliver again what the first has in flight, so `start` takes an exclusive lock on the directory
// first and refuses to run without it.
//
// The lock is an exclusive SQLite lock on a database of its own (`gateway.lock`): SQLite takes it
// with fcntl(F_SETLK), which the kernel drops when the process ends in any way, kill -9 included,
// and SQLite keeps track of its locks within one process too (two gateways started in one process
// conflict as well). Considered and not taken: a lock file with a stale time (proper-lockfile)
// makes the next start wait after a crash and lets a second process in while the first is only
// slow (paused, swapping) — the very double delivery this prevents; a listening socket in the
// directory stays behind as a file after a crash, and two starts that both find it stale race.
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { Db } from "./db.js";

export const LOCK_FILE = "gateway.lock";

export class DataDirLockedError extends Error {
  constructor(
    readonly dir: string,
    /** The process holding the lock, when the system says (Linux: /proc/locks). */
    readonly pid: number | null,
  ) {
    super(
      `the data directory ${dir} is in use by another Sendguard gateway${pid === null ? "" : ` (pid ${pid})`}; ` +
        "stop that one first, or give this one a dataDir of its own",
    );
  }
}

export interface DataDirLock {
  release(): Promise<void>;
}

/** Takes the lock on `dir` (which must exist) or throws DataDirLockedError at once, without waiting. */
export async function lockDataDir(dir: string): Promise<DataDirLock> {
  const file = join(dir, LOCK_FILE);
  const db = await Db.open(file, false);
  try {
    // In EXCLUSIVE locking mode SQLite keeps the lock of its first write until the connection
    // closes; BEGIN EXCLUSIVE takes the write lock without writing anything. No journal: there is
    // nothing to roll back, and none is left lying in the directory.
    await db.exec(
      "PRAGMA busy_timeout=0; PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=OFF; BEGIN EXCLUSIVE; COMMIT;",
    );
  } catch (err) {
    await db.close();
    if ((err as { code?: string }).code === "SQLITE_BUSY")
      throw new DataDirLockedError(dir, await lockHolder(file));
    throw err;
  }
  return { release: () => db.close() };
}

/** The pid holding a POSIX lock on `file`, from /proc/locks; null where that is not known. */
async function lockHolder(file: string): Promise<number | null> {
  try {
    const [{ ino }, locks] = await Promise.all([stat(file), readFile("/proc/locks", "utf8")]);
    // "1: POSIX  ADVISORY  WRITE 4242 fe:00:2147536 1073741824 1073742335" (the inode ends field 5)
    for (const line of locks.split("\n")) {
      const fields = line.trim().split(/\s+/);
      if (fields[1] === "POSIX" && fields[5]?.split(":")[2] === String(ino)) return Number(fields[4]);
    }
  } catch {
    // Not Linux, or /proc not mounted: the message goes without the pid.
  }
  return null;
}
