// Promise wrapper over one sqlite3 connection. Writes go through `transaction`, which runs one at a
// time so that concurrent callers never interleave their statements inside one BEGIN … COMMIT.
import sqlite3 from "sqlite3";

export type Params = Record<string, unknown> | unknown[];

export class Db {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly db: sqlite3.Database) {}

  static open(file: string, readonly: boolean): Promise<Db> {
    const mode = readonly ? sqlite3.OPEN_READONLY : sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE;
    return new Promise((resolve, reject) => {
      const db = new sqlite3.Database(file, mode, (err) => (err ? reject(err) : resolve(new Db(db))));
    });
  }

  run(sql: string, params: Params = []): Promise<{ changes: number; lastID: number }> {
    return new Promise((resolve, reject) => {
      this.db.run(sql, params, function (err) {
        if (err) reject(err);
        else resolve({ changes: this.changes, lastID: this.lastID });
      });
    });
  }

  all<T>(sql: string, params: Params = []): Promise<T[]> {
    return new Promise((resolve, reject) => {
      this.db.all(sql, params, (err, rows) => (err ? reject(err) : resolve(rows as T[])));
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

  close(): Promise<void> {
    return new Promise((resolve, reject) => this.db.close((err) => (err ? reject(err) : resolve())));
  }
}
