// WinZip AES encryption (AE-2) of one entry's data, as https://www.winzip.com/en/support/aes-encryption/
// specifies: PBKDF2-HMAC-SHA1 (1,000 rounds) over a random salt gives the AES key, the HMAC key and a
// 2-byte password verifier; the data is AES-CTR encrypted with a little-endian block counter
// starting at 1, and an HMAC-SHA1 of the ciphertext, cut to 10 bytes, follows it.
//
// node:crypto's aes-256-ctr counts big-endian, so the keystream is made here: counter blocks are
// written in batches and encrypted with aes-256-ecb in one call per batch, then XORed into the
// data a 32-bit word at a time.
import { createCipheriv, createHmac, pbkdf2Sync, randomBytes, type Cipher, type Hmac } from "node:crypto";
import { endianness } from "node:os";

/** AES-256: key strength 3 in the 0x9901 extra field. */
const KEY_BYTES = 32;
export const AES_SALT_BYTES = 16;
export const AES_VERIFIER_BYTES = 2;
export const AES_AUTH_CODE_BYTES = 10;
/** What the encryption adds to an entry's data: salt, verifier and authentication code. */
export const AES_OVERHEAD = AES_SALT_BYTES + AES_VERIFIER_BYTES + AES_AUTH_CODE_BYTES;
const PBKDF2_ROUNDS = 1000;

/** Keystream made per batch: 4,096 blocks (64 KiB), one ECB call. */
const BATCH_BLOCKS = 4096;
const BLOCK = 16;

// The counter words are written through a Uint32Array, whose byte order is the machine's.
if (endianness() !== "LE") throw new Error("winzip-aes: a little-endian machine is required");

/** XORs `n` bytes of `key` (from `keyAt`) into `data` (from `dataAt`), in place. */
function xorInto(data: Buffer, dataAt: number, key: Buffer, keyAt: number, n: number): void {
  let i = 0;
  // Words only when both sides reach a 4-byte boundary together; otherwise byte by byte.
  if ((data.byteOffset + dataAt - key.byteOffset - keyAt) % 4 === 0) {
    for (; i < n && (data.byteOffset + dataAt + i) % 4 !== 0; i++) data[dataAt + i]! ^= key[keyAt + i]!;
    const words = (n - i) >>> 2;
    if (words > 0) {
      const d = new Uint32Array(data.buffer, data.byteOffset + dataAt + i, words);
      const k = new Uint32Array(key.buffer, key.byteOffset + keyAt + i, words);
      for (let w = 0; w < words; w++) d[w]! ^= k[w]!;
      i += words * 4;
    }
  }
  for (; i < n; i++) data[dataAt + i]! ^= key[keyAt + i]!;
}

export class WinZipAesEncryptor {
  /** Salt and password verifier: the first bytes of the entry's data. */
  readonly header: Buffer;
  private readonly ecb: Cipher;
  private readonly hmac: Hmac;
  private readonly counters = new Uint32Array(BATCH_BLOCKS * 4);
  /** The next counter value (blocks are numbered from 1); 2^53 blocks are beyond any ZIP. */
  private counter = 1;
  private keystream: Buffer = Buffer.alloc(0);
  private used = 0;

  constructor(password: string) {
    const salt = randomBytes(AES_SALT_BYTES);
    const keys = pbkdf2Sync(Buffer.from(password, "utf8"), salt, PBKDF2_ROUNDS, 2 * KEY_BYTES + 2, "sha1");
    this.ecb = createCipheriv("aes-256-ecb", keys.subarray(0, KEY_BYTES), null).setAutoPadding(false);
    this.hmac = createHmac("sha1", keys.subarray(KEY_BYTES, 2 * KEY_BYTES));
    this.header = Buffer.concat([salt, keys.subarray(2 * KEY_BYTES)]);
  }

  /** Encrypts `data` in place and returns it (the caller hands over a buffer it owns). */
  update(data: Buffer): Buffer {
    for (let at = 0; at < data.length;) {
      if (this.used === this.keystream.length) this.refill();
      const n = Math.min(data.length - at, this.keystream.length - this.used);
      xorInto(data, at, this.keystream, this.used, n);
      this.used += n;
      at += n;
    }
    this.hmac.update(data);
    return data;
  }

  /** The authentication code that ends the entry's data. */
  final(): Buffer {
    return this.hmac.digest().subarray(0, AES_AUTH_CODE_BYTES);
  }

  private refill(): void {
    const c = this.counters;
    const first = this.counter;
    // A Uint32Array keeps a number modulo 2^32, truncated: low word, then high word. Locals only in
    // the loop: it ran at a seventh of the writer's time when it updated this.counter per block.
    for (let b = 0, i = 0; b < BATCH_BLOCKS; b++, i += 4) {
      const n = first + b;
      c[i] = n;
      c[i + 1] = n / 0x1_0000_0000;
    }
    this.counter = first + BATCH_BLOCKS;
    this.keystream = this.ecb.update(new Uint8Array(c.buffer, 0, BATCH_BLOCKS * BLOCK));
    this.used = 0;
  }
}
