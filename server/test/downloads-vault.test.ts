// The download vault (server/src/downloads/vault.ts, segments.ts): files encrypted at rest in
// authenticated segments, against a real directory; damaged files must fail before any byte of
// the damaged segment is handed out.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { after, describe, test } from "node:test";
import { HEADER_BYTES, SEGMENT_BYTES, storedSize, TamperedFile } from "../src/downloads/segments.js";
import { Vault, type StoredFile } from "../src/downloads/vault.js";

const SEALED = SEGMENT_BYTES + 16;

/** `sealed` with byte `at` XORed with `mask`. */
function flip(sealed: Buffer, at: number, mask: number): Buffer {
  sealed.writeUInt8(sealed.readUInt8(at) ^ mask, at);
  return sealed;
}

/** Everything a stream gives before it ends or fails, and how it ended. */
async function drain(stream: Readable): Promise<{ bytes: Buffer; error: unknown }> {
  const parts: Buffer[] = [];
  try {
    for await (const chunk of stream) parts.push(chunk as Buffer);
    return { bytes: Buffer.concat(parts), error: null };
  } catch (error) {
    return { bytes: Buffer.concat(parts), error };
  }
}

describe("Vault", () => {
  const root = mkdtempSync(join(tmpdir(), "sendguard-vault-test-"));
  const vault = new Vault(join(root, "downloads"));
  let n = 0;
  after(() => rmSync(root, { recursive: true, force: true }));

  async function stored(data: Buffer): Promise<StoredFile> {
    await vault.init();
    const plain = join(root, `plain-${++n}`);
    writeFileSync(plain, data);
    return vault.put(plain);
  }

  /** Stores `data`, lets `damage` change the stored bytes, and reads it back. */
  async function readDamaged(data: Buffer, damage: (sealed: Buffer) => Buffer) {
    const file = await stored(data);
    const path = join(vault.dir, file.storageName);
    writeFileSync(path, damage(readFileSync(path)));
    return drain(vault.open(file));
  }

  test("round trip at every segment boundary, with size, hash and stored size", async () => {
    for (const size of [0, 1, SEGMENT_BYTES - 1, SEGMENT_BYTES, SEGMENT_BYTES + 1, 3 * SEGMENT_BYTES + 7]) {
      const data = randomBytes(size);
      const file = await stored(data);
      assert.equal(file.size, size);
      assert.equal(file.sha256, createHash("sha256").update(data).digest("hex"));
      assert.equal(file.key.length, 32);
      assert.equal(
        statSync(join(vault.dir, file.storageName)).size,
        storedSize(size),
        `stored size of ${size}`,
      );
      const { bytes, error } = await drain(vault.open(file));
      assert.equal(error, null);
      assert.ok(bytes.equals(data), `round trip of ${size} bytes`);
    }
  });

  test("the stored file holds no plaintext and every file gets its own key", async () => {
    const data = Buffer.from("confidential quarterly figures ".repeat(5000));
    const a = await stored(data);
    const b = await stored(data);
    assert.notDeepEqual(a.key, b.key);
    const onDisk = readFileSync(join(vault.dir, a.storageName));
    assert.equal(onDisk.includes(Buffer.from("confidential")), false);
    assert.notDeepEqual(onDisk, readFileSync(join(vault.dir, b.storageName)));
  });

  test("a flipped bit fails its segment; only the segments before it were handed out", async () => {
    const data = randomBytes(4 * SEGMENT_BYTES);
    const { bytes, error } = await readDamaged(data, (s) => flip(s, HEADER_BYTES + 2 * SEALED + 100, 1));
    assert.ok(error instanceof TamperedFile, String(error));
    assert.match((error as Error).message, /segment 2 does not verify/);
    assert.ok(bytes.equals(data.subarray(0, 2 * SEGMENT_BYTES)), "exactly the two verified segments");
  });

  test("cut at a segment boundary, cut inside, extended, reordered, wrong key, header changed: all fail", async () => {
    const data = randomBytes(3 * SEGMENT_BYTES + 10);
    const cases: [string, (s: Buffer) => Buffer][] = [
      ["cut at a boundary", (s) => s.subarray(0, HEADER_BYTES + 2 * SEALED)],
      ["cut inside", (s) => s.subarray(0, s.length - 5)],
      ["cut to its header", (s) => s.subarray(0, HEADER_BYTES)],
      ["cut inside its header", (s) => s.subarray(0, 5)],
      ["emptied", () => Buffer.alloc(0)],
      ["extended by a segment", (s) => Buffer.concat([s, s.subarray(HEADER_BYTES, HEADER_BYTES + SEALED)])],
      ["extended by a byte", (s) => Buffer.concat([s, Buffer.from([0])])],
      [
        "segments swapped",
        (s) =>
          Buffer.concat([
            s.subarray(0, HEADER_BYTES),
            s.subarray(HEADER_BYTES + SEALED, HEADER_BYTES + 2 * SEALED),
            s.subarray(HEADER_BYTES, HEADER_BYTES + SEALED),
            s.subarray(HEADER_BYTES + 2 * SEALED),
          ]),
      ],
      ["nonce prefix changed", (s) => flip(s, 9, 0x80)],
      ["magic changed", (s) => flip(s, 0, 0x01)],
      ["version changed", (s) => flip(s, 4, 0x03)],
    ];
    for (const [what, damage] of cases) {
      const { bytes, error } = await readDamaged(data, damage);
      assert.ok(error instanceof TamperedFile, `${what}: ${String(error)}`);
      assert.equal(bytes.length % SEGMENT_BYTES, 0, `${what}: only whole verified segments`);
      assert.ok(bytes.equals(data.subarray(0, bytes.length)), `${what}: what came out is the original`);
    }
    const file = await stored(data);
    const wrongKey = await drain(vault.open({ ...file, key: randomBytes(32) }));
    assert.ok(wrongKey.error instanceof TamperedFile);
    assert.equal(wrongKey.bytes.length, 0);
  });

  test("another file's last segment cannot stand in for this file's", async () => {
    const a = await stored(randomBytes(SEGMENT_BYTES + 3));
    const pathA = join(vault.dir, a.storageName);
    const b = await stored(randomBytes(SEGMENT_BYTES + 3));
    const sealedB = readFileSync(join(vault.dir, b.storageName));
    const sealedA = readFileSync(pathA);
    writeFileSync(
      pathA,
      Buffer.concat([sealedA.subarray(0, HEADER_BYTES + SEALED), sealedB.subarray(HEADER_BYTES + SEALED)]),
    );
    const { error } = await drain(vault.open(a));
    assert.ok(error instanceof TamperedFile);
  });

  test("a source that cannot be read leaves no file behind", async () => {
    await vault.init();
    const before = readdirSync(vault.dir).length;
    await assert.rejects(vault.put(join(root, "no-such-file")), /ENOENT/);
    assert.equal(readdirSync(vault.dir).length, before);
    assert.deepEqual((await vault.list()).partial, []);
  });

  test("a missing stored file is an error on the stream, and a hostile name never leaves the vault", async () => {
    const file = await stored(Buffer.from("x"));
    await vault.remove(file.storageName);
    await vault.remove(file.storageName); // twice is fine
    const gone = await drain(vault.open(file));
    assert.match(String(gone.error), /ENOENT/);
    assert.throws(() => vault.open({ storageName: "../secret.key", key: file.key }), /not a vault file name/);
    await assert.rejects(vault.remove("../../etc/passwd"), /not a vault file name/);
  });

  // Speed and event-loop stalls are measured in bench/download.ts, not asserted here.
  test("50 MB: stored and read back whole, segment after segment", async () => {
    const size = 50 * 1024 * 1024;
    const plain = join(root, "big");
    writeFileSync(plain, randomBytes(size));
    await vault.init();
    const file = await vault.put(plain);
    const hash = createHash("sha256");
    for await (const chunk of vault.open(file)) hash.update(chunk as Buffer);
    assert.equal(hash.digest("hex"), file.sha256);
    assert.equal(file.size, size);
  });
});
