// Db (server/src/store/db.ts): values written into SQL as literals, and whole transactions run in
// one call, against a real SQLite database.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Db, sqlLiteral, withLiterals } from "../src/store/db.js";

describe("sqlLiteral", () => {
  test("writes each kind of value as SQLite reads it back", () => {
    assert.equal(sqlLiteral(null), "NULL");
    assert.equal(sqlLiteral(undefined), "NULL");
    assert.equal(sqlLiteral("it's"), "'it''s'");
    assert.equal(sqlLiteral(""), "''");
    assert.equal(sqlLiteral(-12), "-12");
    assert.equal(sqlLiteral(1.5), "1.5");
    assert.equal(sqlLiteral(10n), "10");
    assert.equal(sqlLiteral(true), "1");
    assert.equal(sqlLiteral(Buffer.from([0, 255])), "X'00ff'");
    assert.equal(sqlLiteral("a\0b"), "CAST(X'610062' AS TEXT)");
  });

  test("refuses values that have no exact literal", () => {
    assert.throws(() => sqlLiteral(Number.NaN), /cannot write NaN into SQL/);
    assert.throws(() => sqlLiteral(Number.POSITIVE_INFINITY), /cannot write Infinity into SQL/);
    assert.throws(() => sqlLiteral({ a: 1 }), /cannot write a value of type object into SQL/);
    assert.throws(() => sqlLiteral(Symbol("s")), /type symbol/);
  });

  test("withLiterals fills the placeholders in order and counts them", () => {
    assert.equal(withLiterals("INSERT INTO t VALUES (?,?)", ["a'", 2]), "INSERT INTO t VALUES ('a''',2)");
    assert.throws(() => withLiterals("SELECT ?", []), /1 placeholders but 0 values/);
    assert.throws(() => withLiterals("SELECT 1", [1]), /0 placeholders but 1 values/);
  });
});

describe("Db.execTransaction", () => {
  const dir = mkdtempSync(join(tmpdir(), "sendguard-db-test-"));
  let db: Db;
  before(async () => {
    db = await Db.open(join(dir, "t.db"), false);
    await db.exec("PRAGMA journal_mode=WAL; CREATE TABLE t (k INTEGER PRIMARY KEY, s TEXT, b BLOB, r REAL)");
  });
  after(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("hostile text and binary values round-trip unchanged", async () => {
    const values = [
      "'); DROP TABLE t; --",
      "quote ' and '' and '''",
      "NUL \0 inside",
      "改行\r\n件名【配送保留】 and 🙂",
      "; COMMIT; BEGIN;",
      "?",
      "\\x00 \\' backslashes are not escapes in SQLite",
    ];
    await db.execTransaction(
      values.map((s, i) => ({
        sql: "INSERT INTO t (k, s, b, r) VALUES (?,?,?,?)",
        params: [i, s, Buffer.from(s, "utf8"), i / 3],
      })),
    );
    const rows = await db.all<{ k: number; s: string; b: Buffer; r: number }>("SELECT * FROM t ORDER BY k");
    assert.deepEqual(
      rows.map((r) => r.s),
      values,
    );
    assert.deepEqual(
      rows.map((r) => r.b.toString("utf8")),
      values,
    );
    assert.deepEqual(
      rows.map((r) => r.r),
      values.map((_, i) => i / 3),
    );
    await db.run("DELETE FROM t");
  });

  test("a failing statement rolls the whole transaction back, and the connection goes on", async () => {
    await assert.rejects(
      db.execTransaction([
        { sql: "INSERT INTO t (k, s) VALUES (?,?)", params: [1, "first"] },
        { sql: "INSERT INTO t (k, s) VALUES (?,?)", params: [1, "same key"] },
      ]),
      /UNIQUE constraint failed/,
    );
    assert.deepEqual(await db.all("SELECT * FROM t"), []);
    await db.execTransaction([{ sql: "INSERT INTO t (k, s) VALUES (?,?)", params: [2, "after"] }]);
    await db.transaction(() => db.run("INSERT INTO t (k, s) VALUES (?,?)", [3, "bound"]));
    assert.deepEqual(await db.all("SELECT k FROM t ORDER BY k"), [{ k: 2 }, { k: 3 }]);
    await db.run("DELETE FROM t");
  });

  test("it does not interleave with a transaction already under way", async () => {
    let release = () => undefined as void;
    const open = db.transaction(async () => {
      await db.run("INSERT INTO t (k, s) VALUES (?,?)", [10, "slow"]);
      await new Promise<void>((resolve) => (release = resolve));
      await db.run("INSERT INTO t (k, s) VALUES (?,?)", [11, "slow"]);
    });
    const batch = db.execTransaction([{ sql: "INSERT INTO t (k, s) VALUES (?,?)", params: [12, "batch"] }]);
    await new Promise((r) => setTimeout(r, 50));
    release();
    await Promise.all([open, batch]);
    assert.deepEqual(await db.all("SELECT k FROM t ORDER BY k"), [{ k: 10 }, { k: 11 }, { k: 12 }]);
  });
});
