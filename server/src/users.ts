// Creating users: validation shared by the CLI and the admin API.
import { randomBytes } from "node:crypto";
import { addressProblem, isLanguage, type Role } from "@sendguard/shared";
import { hashPassword } from "./secrets.js";
import type { Store, UserRecord } from "./store/types.js";

export class UserInputError extends Error {
  constructor(
    message: string,
    readonly conflict = false,
  ) {
    super(message);
  }
}

const ROLES: Role[] = ["user", "approver", "admin"];
export const MIN_PASSWORD_LENGTH = 10;

export interface UserInput {
  email: string;
  role: string;
  password?: string;
  language?: string;
  holdMinutes?: number;
  aliases?: string[];
  groups?: string[];
  manager?: string;
}

/** Longer ones are refused: every check hashes the whole password. */
const MAX_PASSWORD_LENGTH = 1024;

/** `password` when it may be used (else UserInputError), or a generated one when it is undefined. */
function acceptablePassword(password: string | undefined): string {
  if (password === undefined) return randomBytes(12).toString("base64url");
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new UserInputError(`password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new UserInputError(`password must have at most ${MAX_PASSWORD_LENGTH} characters`);
  }
  return password;
}

/**
 * Sets a user's password (a generated one when none is given, returned to be shown once) and
 * revokes all of their tokens and sessions but `keepTokenId`: whoever knew the old password may
 * have made some.
 */
export async function setPassword(
  store: Store,
  user: UserRecord,
  password: string | undefined,
  actor: string,
  keepTokenId: string | null = null,
): Promise<string> {
  const used = acceptablePassword(password);
  await store.setPasswordHash(user.id, await hashPassword(used), keepTokenId, {
    actor,
    action: actor === user.email ? "password_changed" : "password_reset",
    detail: { email: user.email, generated: password === undefined },
  });
  return used;
}

/** Creates a user; generates a password when none is given and returns it (shown once). */
export async function createUser(
  store: Store,
  input: UserInput,
): Promise<{ user: UserRecord; password: string }> {
  const email = input.email.trim();
  const problem = addressProblem(email);
  if (problem) throw new UserInputError(`email ${JSON.stringify(email)}: ${problem}`);
  if (!ROLES.includes(input.role as Role))
    throw new UserInputError(`role must be one of ${ROLES.join(", ")}`);
  if (input.language !== undefined && !isLanguage(input.language))
    throw new UserInputError("language must be ja or en");
  if (input.holdMinutes !== undefined && !(input.holdMinutes >= 0 && input.holdMinutes <= 10080)) {
    throw new UserInputError("hold minutes must be a number from 0 to 10080");
  }
  for (const alias of input.aliases ?? []) {
    const aliasProblem = addressProblem(alias);
    if (aliasProblem) throw new UserInputError(`alias ${JSON.stringify(alias)}: ${aliasProblem}`);
  }
  for (const group of input.groups ?? []) {
    if (!/^[\p{L}\p{N}._-]{1,64}$/u.test(group)) {
      throw new UserInputError(`group ${JSON.stringify(group)}: use letters, digits, . _ - (at most 64)`);
    }
  }
  if (input.manager !== undefined && addressProblem(input.manager)) {
    throw new UserInputError(`manager ${JSON.stringify(input.manager)}: ${addressProblem(input.manager)}`);
  }
  const password = acceptablePassword(input.password);
  if (await store.userByEmail(email)) throw new UserInputError(`user ${email} already exists`, true);
  const user = await store.addUser({
    email,
    passwordHash: await hashPassword(password),
    role: input.role as Role,
    language: (input.language as UserRecord["language"]) ?? null,
    holdMinutes: input.holdMinutes ?? null,
    aliases: input.aliases ?? [],
    groups: input.groups ?? [],
    manager: input.manager ?? null,
  });
  return { user, password };
}
