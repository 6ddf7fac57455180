// Random identifiers, capability tokens, password hashing. Tokens are 256-bit; only their SHA-256
// is stored, so a copy of the database does not hand out working links or API tokens.
import { createHash, createHmac, randomBytes, randomFillSync, scrypt, timingSafeEqual } from "node:crypto";

// Ids are taken from a block of random bytes drawn at once: every message needs a few, and a call
// into the random generator per id cost more than the id is worth (as Node does for randomUUID).
const ID_BYTES = 12;
const idPool = Buffer.alloc(ID_BYTES * 256);
let idOffset = idPool.length;

export function newId(): string {
  if (idOffset === idPool.length) {
    randomFillSync(idPool);
    idOffset = 0;
  }
  const id = idPool.toString("base64url", idOffset, idOffset + ID_BYTES);
  idOffset += ID_BYTES;
  return id;
}

export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

export function sha256(value: string): string {
  return createHash("sha256").update(value).digest("base64url");
}

export function hmac(secret: Buffer, value: string): string {
  return createHmac("sha256", secret).update(value).digest("base64url");
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 };

function derive(
  password: string,
  salt: Buffer,
  N: number,
  r: number,
  p: number,
  keylen: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, keylen, { N, r, p, maxmem: 64 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** "scrypt$N$r$p$salt$hash" so the cost can be raised later without breaking old hashes. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, SCRYPT.N, SCRYPT.r, SCRYPT.p, SCRYPT.keylen);
  return ["scrypt", SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString("base64url"), key.toString("base64url")].join(
    "$",
  );
}

/** False for a wrong password and for a damaged or foreign hash: never throws, never fails open. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash, ...rest] = stored.split("$");
  const [N, R, P] = [n, r, p].map((v) => (v && /^\d{1,7}$/.test(v) ? Number(v) : 0));
  if (scheme !== "scrypt" || rest.length || !N || !R || !P || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64url");
  if (expected.length < 16) return false;
  try {
    const key = await derive(password, Buffer.from(salt, "base64url"), N, R, P, expected.length);
    return timingSafeEqual(key, expected);
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | null = null;

/**
 * A hash that costs the same to check as a real one, used when the user does not exist. Made on
 * first need, not at import: every CLI command would otherwise pay a scrypt at start-up.
 */
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(16).toString("hex"));
  return dummyHash;
}
