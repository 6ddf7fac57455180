// Promise wrapper over one sqlite3 connection. Writes go through `transaction`, which runs one at a
// time so that concurrent callers never interleave their statements inside one BEGIN … COMMIT.
import sqlite3 from "sqlite3";

export type Params = Record<string, unknown> | unknown[];

/**
 * Prepared statements kept per connection. A query through `Database#all` prepares, runs and
 * finalizes a statement: three thread-pool round trips and an SQL parse, where a kept statement
 * needs one (measured: 90-130 µs of CPU per query against 45). Bounded because SQL with
 * `IN (?,?,…)` or multi-row VALUES differs with the number of items.
 */
const KEPT_STATEMENTS = 100;

interface Kept {
  statement: sqlite3.Statement;
  /** Callers waiting for the prepare; null once it succeeded. sqlite3 drops their calls if it fails. */
  waiting: ((err: Error) => void)[] | null;
}

export class Db {
  private queue: Promise<unknown> = Promise.resolve();
  /** In least recently used order (a use moves a statement to the end). */
  private readonly statements = new Map<string, Kept>();

  private constructor(private readonly db: sqlite3.Database) {}

  static open(file: string, readonly: boolean): Promise<Db> {
    const mode = readonly ? sqlite3.OPEN_READONLY : sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE;
    return new Promise((resolve, reject) => {
      const db = new sqlite3.Database(file, mode, (err) => (err ? reject(err) : resolve(new Db(db))));
    });
  }

  /**
   * The kept statement for `sql`, prepared on first use. Calls made on it before the prepare has
   * finished wait inside sqlite3; `onPrepareError` is how they learn that it failed. A statement
   * pushed out of the cache is finalized after the calls already made on it (sqlite3 queues them).
   */
  private statement(sql: string, onPrepareError: (err: Error) => void): sqlite3.Statement {
    let kept = this.statements.get(sql);
    if (kept) {
      this.statements.delete(sql);
    } else {
      const created: Kept = {
        statement: this.db.prepare(sql, (err) => {
          const waiting = created.waiting ?? [];
          created.waiting = null;
          if (!err) return;
          if (this.statements.get(sql) === created) this.statements.delete(sql);
          for (const fail of waiting) fail(err);
        }),
        waiting: [],
      };
      kept = created;
      const oldest = this.statements.entries().next().value;
      if (oldest && this.statements.size >= KEPT_STATEMENTS) {
        this.statements.delete(oldest[0]);
        oldest[1].statement.finalize();
      }
    }
    this.statements.set(sql, kept);
    kept.waiting?.push(onPrepareError);
    return kept.statement;
  }

  run(sql: string, params: Params = []): Promise<{ changes: number; lastID: number }> {
    return new Promise((resolve, reject) => {
      this.statement(sql, reject).run(params, function (err) {
        if (err) reject(err);
        else resolve({ changes: this.changes, lastID: this.lastID });
      });
    });
  }

  all<T>(sql: string, params: Params = []): Promise<T[]> {
    return new Promise((resolve, reject) => {
      this.statement(sql, reject).all(params, (err, rows) => (err ? reject(err) : resolve(rows as T[])));
    });
  }

  async get<T>(sql: string, params: Params = []): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) => this.db.exec(sql, (err) => (err ? reject(err) : resolve())));
  }

  /** Runs `work` inside BEGIN IMMEDIATE … COMMIT, serialised with every other transaction. */
  transaction<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(async () => {
      await this.exec("BEGIN IMMEDIATE");
      try {
        const result = await work();
        await this.exec("COMMIT");
        return result;
      } catch (err) {
        await this.exec("ROLLBACK").catch(() => undefined);
        throw err;
      }
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    // sqlite3 refuses to close a connection with statements left.
    const kept = [...this.statements.values()];
    this.statements.clear();
    await Promise.all(kept.map((k) => new Promise<void>((resolve) => k.statement.finalize(() => resolve()))));
    return new Promise((resolve, reject) => this.db.close((err) => (err ? reject(err) : resolve())));
  }
}
