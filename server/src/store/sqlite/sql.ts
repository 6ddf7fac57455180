// SQL building blocks the parts of SqliteStore share.
import type { Db, SqlStatement } from "../db.js";

export function placeholders(n: number): string {
  return Array.from({ length: n }, () => "?").join(",");
}

/**
 * `prefix VALUES (…),(…)…`, in chunks that stay under SQLite's limit on bound variables (and, run
 * by execTransaction, keep each statement's text bounded).
 */
export function insertStatements(prefix: string, rows: unknown[][]): SqlStatement[] {
  const width = rows[0]?.length ?? 0;
  if (!width) return [];
  const perStatement = Math.max(1, Math.floor(30_000 / width));
  const tuple = `(${placeholders(width)})`;
  const statements: SqlStatement[] = [];
  for (let start = 0; start < rows.length; start += perStatement) {
    const chunk = rows.slice(start, start + perStatement);
    statements.push({ sql: `${prefix} VALUES ${chunk.map(() => tuple).join(",")}`, params: chunk.flat() });
  }
  return statements;
}

/** Rows of one table written at one time (e.g. the notices of a message, at its creation). */
export interface WrittenAt<T> {
  items: T[];
  at: number;
}

/** insertStatements for every item of every set, each row made with the time of its set. */
export function insertsAt<T>(
  prefix: string,
  sets: WrittenAt<T>[],
  row: (item: T, at: number) => unknown[],
): SqlStatement[] {
  return insertStatements(
    prefix,
    sets.flatMap(({ items, at }) => items.map((item) => row(item, at))),
  );
}

/** Runs `statements` one by one on `db`, inside the transaction the caller holds open. */
export async function runStatements(db: Db, statements: SqlStatement[]): Promise<void> {
  for (const { sql, params } of statements) await db.run(sql, params);
}

/** One DELETE of up to `limit` rows, as its own transaction; returns how many went. */
export async function deleteSome(writer: Db, sql: string, params: unknown[]): Promise<number> {
  return (await writer.serial(() => writer.run(sql, params))).changes;
}
