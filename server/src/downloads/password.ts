// Passwords people read off one message and type into another screen: drawn from letters and
// digits that cannot be mistaken for each other in common fonts (no 0/O/o, 1/l/I/i).
import { randomInt } from "node:crypto";

const UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ";
const LOWER = "abcdefghjkmnpqrstuvwxyz";
const DIGITS = "23456789";
export const PASSWORD_ALPHABET = UPPER + LOWER + DIGITS;

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 64;

/**
 * A random password of `length` characters (MIN_PASSWORD_LENGTH to MAX_PASSWORD_LENGTH) holding at
 * least one capital, one small letter and one digit, as many sites demand. Drawn again until it
 * does, rather than patched, so every such password is equally likely (about 5.6 bits a character).
 */
export function generatePassword(length: number): string {
  if (!Number.isInteger(length) || length < MIN_PASSWORD_LENGTH || length > MAX_PASSWORD_LENGTH) {
    throw new RangeError(
      `password length must be a whole number from ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH}, not ${length}`,
    );
  }
  for (;;) {
    let password = "";
    for (let i = 0; i < length; i++) password += PASSWORD_ALPHABET[randomInt(PASSWORD_ALPHABET.length)];
    if ([UPPER, LOWER, DIGITS].every((set) => [...password].some((c) => set.includes(c)))) return password;
  }
}

/** A one-time code of `digits` decimal digits (6 to 10), leading zeros kept. */
export function generateCode(digits: number): string {
  if (!Number.isInteger(digits) || digits < 6 || digits > 10) {
    throw new RangeError(`a one-time code has 6 to 10 digits, not ${digits}`);
  }
  let code = "";
  for (let i = 0; i < digits; i++) code += String(randomInt(10));
  return code;
}
