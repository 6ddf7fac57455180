import assert from "node:assert/strict";
import { createCipheriv, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { isCompressed } from "../src/pipeline/transform/zip/compressed.js";
import { safeEntryName, uniqueEntryNames } from "../src/pipeline/transform/zip/names.js";
import { AES_AUTH_CODE_BYTES, WinZipAesEncryptor } from "../src/pipeline/transform/zip/winzip-aes.js";

/**
 * WinZip AE-2 decryption written out block by block from the specification (PBKDF2-HMAC-SHA1 ×1000,
 * AES-256 in CTR mode with a little-endian counter from 1, HMAC-SHA1 over the ciphertext), as an
 * independent check of the batched encryptor.
 */
function decryptReference(password: string, header: Buffer, ciphertext: Buffer, authCode: Buffer): Buffer {
  const salt = header.subarray(0, 16);
  const keys = pbkdf2Sync(password, salt, 1000, 66, "sha1");
  assert.deepEqual(header.subarray(16, 18), keys.subarray(64, 66), "password verifier");
  const mac = createHmac("sha1", keys.subarray(32, 64)).update(ciphertext).digest();
  assert.deepEqual(authCode, mac.subarray(0, AES_AUTH_CODE_BYTES), "authentication code");
  const out = Buffer.alloc(ciphertext.length);
  for (let block = 0; block * 16 < ciphertext.length; block++) {
    const counter = Buffer.alloc(16);
    counter.writeUInt32LE(block + 1, 0);
    const ecb = createCipheriv("aes-256-ecb", keys.subarray(0, 32), null).setAutoPadding(false);
    const stream = ecb.update(counter);
    for (let i = 0; i < 16 && block * 16 + i < ciphertext.length; i++) {
      out[block * 16 + i] = (ciphertext[block * 16 + i] as number) ^ (stream[i] as number);
    }
  }
  return out;
}

describe("ZIP parts", () => {
  test("WinZip AES-256: any chunking decrypts by the specification, with verifier and HMAC", () => {
    const plain = randomBytes(200_003);
    for (const chunk of [1, 15, 16, 4097, 65_531, 300_000]) {
      const password = "pässword 見積";
      const encryptor = new WinZipAesEncryptor(password);
      const parts: Buffer[] = [];
      for (let i = 0; i < plain.length; i += chunk)
        parts.push(Buffer.from(encryptor.update(Buffer.from(plain.subarray(i, i + chunk)))));
      const authCode = encryptor.final();
      const ciphertext = Buffer.concat(parts);
      assert.notDeepEqual(ciphertext.subarray(0, 64), plain.subarray(0, 64));
      assert.deepEqual(
        decryptReference(password, encryptor.header, ciphertext, authCode),
        plain,
        `${chunk}-byte chunks`,
      );
    }
  });

  test("entry names: paths, controls, bidi overrides, device names and length made harmless; duplicates numbered", () => {
    assert.equal(safeEntryName("../../etc/passwd"), "passwd");
    assert.equal(safeEntryName("C:\\x\\a.txt"), "a.txt");
    assert.equal(safeEntryName("evil\u202Etxt.exe"), "eviltxt.exe");
    assert.equal(safeEntryName("a\u0000b\u0007c.pdf"), "abc.pdf");
    assert.equal(safeEntryName("見積書_2026年.xlsx"), "見積書_2026年.xlsx");
    assert.equal(safeEntryName("nul.txt"), "_nul.txt");
    assert.ok(safeEntryName(""), "an empty name still gets a name");
    const long = safeEntryName(`${"x".repeat(300)}.xlsx`);
    assert.equal([...long].length, 120);
    assert.ok(long.endsWith(".xlsx"));
    const wide = safeEntryName(`${"長".repeat(300)}.xlsx`);
    assert.ok(Buffer.byteLength(wide) <= 255, "within the 255-byte file name limit of ext4 / APFS");
    assert.equal(wide, `${"長".repeat(83)}.xlsx`);
    assert.ok(Buffer.byteLength(uniqueEntryNames([wide, wide])[1]!) <= 255);
    assert.deepEqual(uniqueEntryNames(["a.txt", "A.TXT", "dir/a.txt"]), ["a.txt", "A (2).TXT", "a (3).txt"]);
  });

  test("already-compressed files are recognised by extension or by their first bytes", () => {
    const none = new Uint8Array(16);
    assert.equal(isCompressed("photo.JPG", none), true);
    assert.equal(isCompressed("book.xlsx", none), true);
    assert.equal(isCompressed("notes.txt", none), false);
    assert.equal(
      isCompressed("renamed.bin", Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
      true,
    );
    assert.equal(isCompressed("renamed.bin", Uint8Array.from([0x1f, 0x8b, 8])), true);
    assert.equal(isCompressed("data.csv", Buffer.from("a,b,c\n1,2,3\n")), false);
  });
});
