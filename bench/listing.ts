// Listing one user's held messages, as GET /api/v1/messages?status=held does for the Thunderbird
// popup's poll (SqliteStore.listMessages: user_id = ? OR sender = ? COLLATE NOCASE), in a store of
// 100,000 messages from 200 users, with the current indexes beside a copy of the same database with
// the indexes of the schema before retention (messages_by_user(user_id, created_at) and a binary
// messages_by_sender(sender, created_at), which the NOCASE comparison cannot use). Prints p50/p95
// per query and each query plan.
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Db, type SqlStatement } from "../server/src/store/db.js";
import { listingQuery } from "../server/src/store/sqlite/messages.js";
import { SqliteStore } from "../server/src/store/sqlite.js";
import type { MessageFilter, NewMessage } from "../server/src/store/types.js";
import { newMessage } from "../server/test/fixtures/messages.js";
import { newUser } from "../server/test/fixtures/users.js";
import { printTable } from "./lib/table.js";
import { fmt, percentile } from "./lib/util.js";

const MESSAGES = 100_000;
const USERS = 200;
/** One message in this many of each user is still held (10 each); the rest were sent. */
const HELD_EVERY = 50;
const ROUNDS = 5; // every user's listing, this many times, per database
const YEAR_MS = 365 * 86_400_000;
const NOW = Date.now();

/** The schema before retention's migration: its listing indexes dropped, the old ones back. */
const OLD_INDEXES = `
  DROP INDEX messages_by_user_status;
  DROP INDEX messages_by_sender_status;
  DROP INDEX messages_by_status;
  DROP INDEX messages_by_created;
  DROP INDEX messages_body_kept;
  DROP INDEX messages_by_final;
  CREATE INDEX messages_by_user ON messages(user_id, created_at);
  CREATE INDEX messages_by_sender ON messages(sender, created_at);`;

interface User {
  id: number;
  email: string;
}

/** 100,000 messages over a year, users in turn; a tenth came in without a user (a trusted network). */
async function populate(file: string): Promise<User[]> {
  const store = await SqliteStore.open(file);
  const users: User[] = [];
  for (let i = 0; i < USERS; i++) {
    const user = await store.addUser(newUser(`user${i}@corp.example`));
    users.push({ id: user.id, email: user.email });
  }
  for (let start = 0; start < MESSAGES; start += 1000) {
    const batch: NewMessage[] = [];
    for (let i = start; i < start + 1000; i++) {
      const user = users[i % USERS] as User;
      const m = newMessage({
        createdAt: NOW - YEAR_MS + Math.floor((i / MESSAGES) * YEAR_MS),
        userId: i % 10 === 0 ? null : user.id,
        // Senders as clients write them: the NOCASE comparison is what finds these.
        sender: i % 3 === 0 ? user.email.replace("user", "User") : user.email,
      });
      batch.push({ ...m, notices: [], audit: [] });
    }
    await store.insertMessages(batch);
  }
  await store.close();
  const db = await Db.open(file, false);
  await db.exec(`
    UPDATE messages SET status = 'sent', final_at = created_at + 600000
      WHERE ((rowid - 1) / ${USERS}) % ${HELD_EVERY} <> 0;
    UPDATE batches SET status = 'sent' WHERE message_id IN (SELECT id FROM messages WHERE status = 'sent');`);
  await db.close();
  return users;
}

/**
 * The listing's SELECT as it was written before (one OR): with the current indexes SQLite walks
 * messages_by_status instead of the user's indexes. Shown for its plan only.
 */
const ONE_OR: SqlStatement = {
  sql: "SELECT * FROM messages WHERE (user_id = ? OR sender = ? COLLATE NOCASE) AND status = ? ORDER BY created_at DESC LIMIT ?",
  params: [1, "user0@corp.example", "held", 100],
};

async function queryPlan(file: string, { sql, params }: SqlStatement): Promise<string[]> {
  const db = await Db.open(file, true);
  try {
    const rows = await db.all<{ id: number; parent: number; detail: string }>(
      `EXPLAIN QUERY PLAN ${sql}`,
      params,
    );
    const depth = new Map<number, number>([[0, 0]]);
    return rows.map((r) => {
      const d = (depth.get(r.parent) ?? 0) + 1;
      depth.set(r.id, d);
      return `${"  ".repeat(d)}${r.detail}`;
    });
  } finally {
    await db.close();
  }
}

/** Milliseconds per listMessages call, every user ROUNDS times, after one warm-up round. */
async function measure(file: string, users: User[], status: MessageFilter["status"]) {
  const store = await SqliteStore.open(file);
  const filter = (u: User): MessageFilter => ({
    userId: u.id,
    sender: u.email,
    limit: 100,
    ...(status ? { status } : {}),
  });
  try {
    for (const u of users) await store.listMessages(filter(u));
    const times: number[] = [];
    let found = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (const u of users) {
        const started = performance.now();
        found += (await store.listMessages(filter(u))).length;
        times.push(performance.now() - started);
      }
    }
    return { times, perUser: found / (ROUNDS * users.length) };
  } finally {
    await store.close();
  }
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "sendguard-bench-listing-"));
  try {
    const current = join(dir, "current.db");
    const baseline = join(dir, "baseline.db");
    const started = performance.now();
    const users = await populate(current);
    // The store closed cleanly: the WAL is checkpointed into the file, which is all there is to copy.
    copyFileSync(current, baseline);
    const old = await Db.open(baseline, false);
    await old.exec(OLD_INDEXES);
    await old.close();
    console.log(
      `(${MESSAGES.toLocaleString("en")} messages, ${USERS} users, 1 in ${HELD_EVERY} held, made in ${((performance.now() - started) / 1000).toFixed(1)} s)`,
    );

    const rows: (string | number)[][] = [];
    const databases = [
      ["current indexes", current],
      ["baseline: indexes before retention", baseline],
    ] as const;
    for (const status of ["held", undefined] as const) {
      for (const [label, file] of databases) {
        const { times, perUser } = await measure(file, users, status);
        rows.push([
          status ? "?status=held" : "no status (latest 100)",
          label,
          fmt(perUser, 1),
          fmt(percentile([...times], 50), 2),
          fmt(percentile([...times], 95), 2),
          fmt(Math.max(...times), 2),
        ]);
      }
    }
    printTable(
      `GET /api/v1/messages for one user: SqliteStore.listMessages, ${ROUNDS} × ${USERS} users, ${MESSAGES.toLocaleString("en")} messages`,
      ["listing", "database", "rows", "p50 ms", "p95 ms", "max ms"],
      rows,
      ["times include loading each message's groups and recipients, as the API does"],
    );
    const sample = users[0] as User;
    const held = listingQuery({ userId: sample.id, sender: sample.email, status: "held", limit: 100 });
    const plans: [string, string, SqlStatement][] = [
      ["current indexes", current, held],
      ["baseline: indexes before retention", baseline, held],
      ["current indexes, the SELECT written as one OR (before)", current, ONE_OR],
    ];
    for (const [label, file, statement] of plans) {
      console.log(`Query plan, ${label} (?status=held):\n${(await queryPlan(file, statement)).join("\n")}\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
