// Promise wrapper over one sqlite3 connection. Writes go through `transaction`, which runs one at a
// time so that concurrent callers never interleave their statements inside one BEGIN … COMMIT.
import sqlite3 from "sqlite3";

export type Params = Record<string, unknown> | unknown[];

/** One statement with `?` placeholders and the values for them. */
export interface SqlStatement {
  sql: string;
  params: unknown[];
}

/**
 * `value` as an SQLite literal. Text is quoted with quotes doubled, which is SQLite's only escape;
 * text holding a NUL (which would end the SQL string in C) goes in as UTF-8 bytes in hex, cast to
 * text. Anything that has no exact literal is refused rather than guessed at.
 */
export function sqlLiteral(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "string") {
    return value.includes("\0")
      ? `CAST(X'${Buffer.from(value, "utf8").toString("hex")}' AS TEXT)`
      : `'${value.replaceAll("'", "''")}'`;
  }
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`cannot write ${value} into SQL`);
    return String(value);
  }
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "boolean") return value ? "1" : "0";
  if (Buffer.isBuffer(value)) return `X'${value.toString("hex")}'`;
  throw new TypeError(`cannot write a value of type ${typeof value} into SQL`);
}

/** `sql` with each `?` replaced by the literal of its parameter. `?` must not stand in the SQL text otherwise. */
export function withLiterals(sql: string, params: unknown[]): string {
  const parts = sql.split("?");
  if (parts.length - 1 !== params.length) {
    throw new Error(`${parts.length - 1} placeholders but ${params.length} values in: ${sql.slice(0, 200)}`);
  }
  let out = parts[0] as string;
  for (let i = 0; i < params.length; i++) out += sqlLiteral(params[i]) + (parts[i + 1] as string);
  return out;
}

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

  /**
   * Runs `work` alone on the connection: after every transaction queued before it, and with none
   * interleaved. A single statement run this way is its own transaction (autocommit).
   */
  serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Runs `work` inside BEGIN IMMEDIATE … COMMIT, serialised with every other transaction. */
  transaction<T>(work: () => Promise<T>): Promise<T> {
    return this.serial(async () => {
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
  }

  /**
   * Runs `statements` as one transaction in a single call into SQLite. Each statement through
   * `transaction` is a trip through the thread pool and back through the event loop; on a busy
   * gateway those trips, queued behind file I/O, took most of a commit (8 ms for 5 statements and
   * BEGIN/COMMIT, against well under 1 ms of SQLite's own work). The values are written into the
   * SQL as literals (sqlLiteral), as sqlite3's exec binds no parameters.
   */
  execTransaction(statements: SqlStatement[]): Promise<void> {
    const sql = statements.map((s) => `${withLiterals(s.sql, s.params)};\n`).join("");
    return this.serial(async () => {
      try {
        await this.exec(`BEGIN IMMEDIATE;\n${sql}COMMIT;`);
      } catch (err) {
        // exec stops at the failing statement with the transaction still open (or none, if BEGIN failed).
        await this.exec("ROLLBACK").catch(() => undefined);
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    // sqlite3 refuses to close a connection with statements left.
    const kept = [...this.statements.values()];
    this.statements.clear();
    await Promise.all(kept.map((k) => new Promise<void>((resolve) => k.statement.finalize(() => resolve()))));
    return new Promise((resolve, reject) => this.db.close((err) => (err ? reject(err) : resolve())));
  }
}
