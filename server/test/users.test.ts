// Creating users (server/src/users.ts) against a real SQLite store in a temporary directory.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { verifyPassword } from "../src/secrets.js";
import { SqliteStore } from "../src/store/sqlite.js";
import { createUser, MIN_PASSWORD_LENGTH, UserInputError, type UserInput } from "../src/users.js";

const PASSWORD = "correct-horse-1";

describe("createUser", () => {
  const dir = mkdtempSync(join(tmpdir(), "sendguard-users-test-"));
  let store: SqliteStore;
  before(async () => {
    store = await SqliteStore.open(join(dir, "sendguard.db"));
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Asserts that createUser refuses `input` with a UserInputError matching `message`. */
  async function refused(input: UserInput, message: RegExp, conflict = false): Promise<void> {
    await assert.rejects(createUser(store, input), (err: unknown) => {
      assert.ok(err instanceof UserInputError, String(err));
      assert.match(err.message, message);
      assert.equal(err.conflict, conflict);
      return true;
    });
  }

  test("creates a user with the given password, hashed, and returns the stored record", async () => {
    const { user, password } = await createUser(store, {
      email: "alice@corp.example",
      role: "user",
      password: PASSWORD,
    });
    assert.equal(password, PASSWORD);
    assert.equal(user.email, "alice@corp.example");
    assert.equal(user.role, "user");
    assert.equal(user.language, null);
    assert.equal(user.holdMinutes, null);
    assert.deepEqual(user.aliases, []);
    assert.ok(user.id > 0);
    assert.notEqual(user.passwordHash, PASSWORD);
    assert.equal(await verifyPassword(PASSWORD, user.passwordHash), true);
    const stored = await store.userByEmail("alice@corp.example");
    assert.deepEqual(stored, user);
  });

  test("stores role, language, hold minutes and aliases", async () => {
    const { user } = await createUser(store, {
      email: "boss@corp.example",
      role: "approver",
      password: PASSWORD,
      language: "en",
      holdMinutes: 0,
      aliases: ["ceo@corp.example"],
    });
    const stored = await store.userById(user.id);
    assert.equal(stored?.role, "approver");
    assert.equal(stored?.language, "en");
    assert.equal(stored?.holdMinutes, 0);
    assert.deepEqual(stored?.aliases, ["ceo@corp.example"]);
  });

  test("generates a password when none is given and returns it once", async () => {
    const { user, password } = await createUser(store, { email: "gen@corp.example", role: "admin" });
    assert.match(password, /^[A-Za-z0-9_-]{16}$/);
    assert.ok(password.length >= MIN_PASSWORD_LENGTH);
    assert.equal(await verifyPassword(password, user.passwordHash), true);
  });

  test("trims the e-mail address", async () => {
    const { user } = await createUser(store, {
      email: "  spaced@corp.example \n",
      role: "user",
      password: PASSWORD,
    });
    assert.equal(user.email, "spaced@corp.example");
  });

  test("a duplicate address is a conflict, also in another case", async () => {
    await createUser(store, { email: "dup@corp.example", role: "user", password: PASSWORD });
    await refused(
      { email: "dup@corp.example", role: "user", password: PASSWORD },
      /^user dup@corp\.example already exists$/,
      true,
    );
    await refused({ email: "DUP@Corp.Example", role: "admin", password: PASSWORD }, /already exists/, true);
  });

  const invalid: [why: string, input: UserInput, message: RegExp][] = [
    [
      "an address without @",
      { email: "alice", role: "user", password: PASSWORD },
      /^email "alice": needs the form local-part@domain$/,
    ],
    ["an empty address", { email: "   ", role: "user", password: PASSWORD }, /^email "": /],
    [
      "an address with a space",
      { email: "a b@corp.example", role: "user", password: PASSWORD },
      /^email "a b@corp\.example": contains spaces/,
    ],
    [
      "an address with angle brackets",
      { email: "<a@corp.example>", role: "user", password: PASSWORD },
      /angle brackets/,
    ],
    [
      "a local part over 64 octets",
      { email: `${"x".repeat(65)}@corp.example`, role: "user", password: PASSWORD },
      /local part longer than 64/,
    ],
    [
      "an unknown role",
      { email: "r@corp.example", role: "root", password: PASSWORD },
      /^role must be one of user, approver, admin$/,
    ],
    [
      "a role in another case",
      { email: "r@corp.example", role: "Admin", password: PASSWORD },
      /^role must be one of/,
    ],
    ["an empty role", { email: "r@corp.example", role: "", password: PASSWORD }, /^role must be one of/],
    [
      "a short password",
      { email: "p@corp.example", role: "user", password: "123456789" },
      /^password must have at least 10 characters$/,
    ],
    [
      "an empty password",
      { email: "p@corp.example", role: "user", password: "" },
      /^password must have at least 10/,
    ],
    [
      "an unknown language",
      { email: "l@corp.example", role: "user", password: PASSWORD, language: "fr" },
      /^language must be ja or en$/,
    ],
    [
      "a negative hold time",
      { email: "h@corp.example", role: "user", password: PASSWORD, holdMinutes: -1 },
      /^hold minutes must be a number from 0 to 10080$/,
    ],
    [
      "a hold time over a week",
      { email: "h@corp.example", role: "user", password: PASSWORD, holdMinutes: 10081 },
      /^hold minutes/,
    ],
    [
      "a NaN hold time",
      { email: "h@corp.example", role: "user", password: PASSWORD, holdMinutes: Number.NaN },
      /^hold minutes/,
    ],
    [
      "a bad alias",
      { email: "a@corp.example", role: "user", password: PASSWORD, aliases: ["ok@corp.example", "bad"] },
      /^alias "bad": needs the form/,
    ],
  ];
  for (const [why, input, message] of invalid) {
    test(`refuses ${why} and stores nothing`, async () => {
      await refused(input, message);
      assert.equal(await store.userByEmail(input.email.trim()), undefined);
    });
  }

  test("a 10-character password is long enough", async () => {
    const { user } = await createUser(store, {
      email: "ten@corp.example",
      role: "user",
      password: "0123456789",
    });
    assert.equal(await verifyPassword("0123456789", user.passwordHash), true);
  });

  test("hold minutes at the limits 0 and 10080 are accepted", async () => {
    const { user } = await createUser(store, {
      email: "week@corp.example",
      role: "user",
      password: PASSWORD,
      holdMinutes: 10080,
    });
    assert.equal(user.holdMinutes, 10080);
  });

  test("every created user is listed", async () => {
    const emails = (await store.listUsers()).map((u) => u.email);
    for (const e of ["alice@corp.example", "boss@corp.example", "gen@corp.example", "dup@corp.example"])
      assert.ok(emails.includes(e), e);
  });
});
