// Spool (server/src/store/spool.ts): small bodies stay in memory for the database, larger ones go
// to a file, against a real directory.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { Spool, type ChunkFilter } from "../src/store/spool.js";

const passThrough: ChunkFilter = { push: (chunk) => chunk, end: () => null };

async function* chunks(...parts: Buffer[]): AsyncIterable<Buffer> {
  for (const part of parts) yield part;
}

async function* failing(first: Buffer): AsyncIterable<Buffer> {
  yield first;
  throw new Error("client went away");
}

describe("Spool.write", () => {
  const root = mkdtempSync(join(tmpdir(), "sendguard-spool-test-"));
  let n = 0;
  async function spool(inlineMaxBytes?: number): Promise<Spool> {
    const s = new Spool(join(root, `s${++n}`), inlineMaxBytes === undefined ? {} : { inlineMaxBytes });
    await s.init();
    return s;
  }
  after(() => rmSync(root, { recursive: true, force: true }));

  test("a body up to inlineMaxBytes stays in memory and no file is made", async () => {
    const s = await spool(10);
    const body = await s.write("a.eml", chunks(Buffer.from("hello"), Buffer.from(" you")), passThrough);
    assert.deepEqual(body.inline, Buffer.from("hello you"));
    assert.equal(body.size, 9);
    await body.durable;
    assert.deepEqual(readdirSync(s.dir), []);
    const exact = await s.write("b.eml", chunks(Buffer.alloc(10, 1)), passThrough);
    assert.equal(exact.inline?.length, 10, "exactly inlineMaxBytes is still inline");
  });

  test("a larger body goes to a file, byte for byte, including what was held before", async () => {
    const s = await spool(10);
    const parts = [Buffer.from("0123456"), Buffer.from("789ab"), Buffer.from("cdef")];
    const body = await s.write("c.eml", chunks(...parts), passThrough);
    assert.equal(body.inline, null);
    assert.equal(body.size, 16);
    await body.durable;
    assert.equal(readFileSync(s.path("c.eml"), "utf8"), "0123456789abcdef");
  });

  test("the default keeps 64 KiB in memory; 0 writes every body to a file", async () => {
    const byDefault = await spool();
    assert.ok((await byDefault.write("d.eml", chunks(Buffer.alloc(64 * 1024)), passThrough)).inline);
    const big = await byDefault.write("e.eml", chunks(Buffer.alloc(64 * 1024 + 1)), passThrough);
    assert.equal(big.inline, null);
    await big.durable;
    const never = await spool(0);
    const tiny = await never.write("f.eml", chunks(Buffer.from("x")), passThrough);
    assert.equal(tiny.inline, null);
    await tiny.durable;
    assert.equal(readFileSync(never.path("f.eml"), "utf8"), "x");
  });

  test("a stream that fails leaves no file behind, whether or not one was begun", async () => {
    const s = await spool(4);
    await assert.rejects(s.write("g.eml", failing(Buffer.from("ab")), passThrough), /client went away/);
    await assert.rejects(s.write("h.eml", failing(Buffer.from("abcdefgh")), passThrough), /client went away/);
    assert.equal(existsSync(s.path("h.eml")), false);
    assert.deepEqual(readdirSync(s.dir), []);
  });

  test("what the filter passes on is stored, not the raw stream", async () => {
    const s = await spool(100);
    const upper: ChunkFilter = {
      push: (c) => Buffer.from(c.toString().toUpperCase()),
      end: () => Buffer.from("!"),
    };
    const body = await s.write("i.eml", chunks(Buffer.from("ab"), Buffer.from("c")), upper);
    assert.deepEqual(body.inline, Buffer.from("ABC!"));
  });
});
