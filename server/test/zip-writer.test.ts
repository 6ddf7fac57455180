// Encrypted ZIP writer (server/src/pipeline/transform/zip/): the archives are opened by independent
// implementations — 7-Zip for AES-256, Info-ZIP unzip for ZipCrypto — and what they extract is
// compared byte for byte with the originals; names, refusals and clean-up on failure.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  truncateSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, describe, test } from "node:test";
import { Separator } from "../src/pipeline/transform/separate/separator.js";
import {
  ZipError,
  writeEncryptedZip,
  type EncryptedZipRequest,
  type ZipErrorCode,
} from "../src/pipeline/transform/zip/index.js";
import { Output } from "../src/pipeline/transform/zip/files.js";

const MiB = 1024 * 1024;
const PASSWORD = "Pass-2026-見積";
const ASCII_PASSWORD = "Pass-2026-q7";
const QUOTE = "見積書（最終版）.xlsx";

const root = mkdtempSync(join(tmpdir(), "sendguard-zip-writer-"));
after(() => rmSync(root, { recursive: true, force: true }));
let made = 0;
const fresh = (what: string) => join(root, `${++made}-${what}`);

/** 7z and unzip with UTF-8 names and times shown in UTC. */
function tool(command: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(command, args, {
    encoding: "utf8",
    env: { ...process.env, LC_ALL: "C.UTF-8", TZ: "UTC" },
    maxBuffer: 64 * MiB,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function input(name: string, content: Buffer): string {
  const dir = fresh("in");
  mkdirSync(dir);
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Every file under `dir`, by path relative to it. */
function extracted(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(relative(dir, path), readFileSync(path));
    }
  };
  walk(dir);
  return files;
}

/** `7z l -slt` as one record per entry. */
function sevenZipList(archive: string, password: string): Record<string, string>[] {
  const r = tool("7z", ["l", "-slt", `-p${password}`, archive]);
  assert.equal(r.status, 0, r.out);
  const body = r.out.split(/^----------$/m)[1] ?? "";
  return body
    .split(/\n\s*\n/)
    .filter((block) => block.includes("Path = "))
    .map((block) =>
      Object.fromEntries(
        block
          .split("\n")
          .map((line) => /^(.+?) = (.*)$/.exec(line))
          .filter((m): m is RegExpExecArray => m !== null)
          .map((m) => [m[1]!, m[2]!]),
      ),
    );
}

async function rejects(promise: Promise<unknown>, code: ZipErrorCode, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ZipError, `a ZipError, not ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  });
}

/** Files of each kind the stored-vs-deflated choice knows: text, random, empty, Japanese name, a PNG renamed. */
function mixedFiles() {
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    randomBytes(4000),
  ]);
  const text = Buffer.from(
    Array.from({ length: 20_000 }, (_, i) => `${i},山田太郎,090-1234-${i % 10_000}\n`).join(""),
  );
  const contents: Record<string, Buffer> = {
    "notes.csv": text,
    "random.bin": randomBytes(3 * MiB + 17),
    "empty.txt": Buffer.alloc(0),
    [QUOTE]: text,
    "picture.dat": png,
  };
  const files = Object.entries(contents).map(([name, content]) => ({ path: input(name, content), name }));
  return { contents, files };
}

describe("encrypted ZIP writer", () => {
  test("AES-256: 7-Zip tests and extracts every file byte for byte, with UTF-8 names and AES-256 methods", async () => {
    const { contents, files } = mixedFiles();
    const outputPath = fresh("aes.zip");
    const result = await writeEncryptedZip({ files, password: PASSWORD, outputPath });
    assert.equal(result.size, statSync(outputPath).size);
    assert.deepEqual(
      result.entries.map((e) => [e.name, e.size, e.stored]),
      [
        ["notes.csv", contents["notes.csv"]!.length, false],
        ["random.bin", 3 * MiB + 17, true],
        ["empty.txt", 0, true],
        [QUOTE, contents[QUOTE]!.length, true],
        ["picture.dat", contents["picture.dat"]!.length, true],
      ],
    );
    const deflated = result.entries[0]!;
    assert.ok(deflated.compressedSize < deflated.size / 2, "text shrinks");
    assert.equal(result.entries[1]!.compressedSize, 3 * MiB + 17 + 28, "stored: data + salt, verifier, HMAC");

    assert.equal(tool("7z", ["t", `-p${PASSWORD}`, outputPath]).status, 0);
    const dir = fresh("out");
    const x = tool("7z", ["x", `-p${PASSWORD}`, `-o${dir}`, outputPath]);
    assert.equal(x.status, 0, x.out);
    assert.deepEqual(extracted(dir), new Map(Object.entries(contents)));

    const listed = sevenZipList(outputPath, PASSWORD);
    assert.deepEqual(
      listed.map((e) => [e.Path, e.Method]),
      [
        ["notes.csv", "AES-256 Deflate"],
        ["random.bin", "AES-256 Store"],
        ["empty.txt", "AES-256 Store"],
        [QUOTE, "AES-256 Store"],
        ["picture.dat", "AES-256 Store"],
      ],
    );
    assert.ok(listed.every((e) => e.Encrypted === "+"));
  });

  test("AES-256: a wrong password is rejected by 7-Zip and nothing is extracted", async () => {
    const outputPath = fresh("aes.zip");
    await writeEncryptedZip({
      files: [{ path: input("a.txt", Buffer.from("secret ".repeat(100))), name: "a.txt" }],
      password: PASSWORD,
      outputPath,
    });
    const t = tool("7z", ["t", "-pwrong", outputPath]);
    assert.notEqual(t.status, 0);
    assert.match(t.out, /Wrong password/i);
    const dir = fresh("out");
    assert.notEqual(tool("7z", ["x", "-pwrong", `-o${dir}`, outputPath]).status, 0);
    assert.ok(!existsSync(join(dir, "a.txt")) || readFileSync(join(dir, "a.txt")).length === 0);
  });

  test("ZipCrypto: Info-ZIP unzip extracts every file byte for byte and lists the UTF-8 names; a wrong password fails", async () => {
    const { contents, files } = mixedFiles();
    const outputPath = fresh("zipcrypto.zip");
    const result = await writeEncryptedZip({
      files,
      password: ASCII_PASSWORD,
      encryption: "zipcrypto",
      outputPath,
    });
    assert.deepEqual(
      result.entries.map((e) => e.stored),
      [false, true, true, true, true],
    );
    assert.equal(result.entries[1]!.compressedSize, 3 * MiB + 17 + 12, "stored: data + 12-byte header");

    const t = tool("unzip", ["-t", "-P", ASCII_PASSWORD, outputPath]);
    assert.equal(t.status, 0, t.out);
    const dir = fresh("out");
    const x = tool("unzip", ["-q", "-P", ASCII_PASSWORD, "-d", dir, outputPath]);
    assert.equal(x.status, 0, x.out);
    assert.deepEqual(extracted(dir), new Map(Object.entries(contents)));
    const names = tool("unzip", ["-Z", "-1", outputPath]);
    assert.deepEqual(names.out.trim().split("\n"), Object.keys(contents));
    const verbose = tool("unzip", ["-Z", "-v", outputPath]).out;
    assert.match(verbose, /file security status:\s+encrypted/);
    assert.match(verbose, /extended local header:\s+yes/, "bit 3: a data descriptor follows each entry");

    const wrong = tool("unzip", ["-t", "-P", "wrong", outputPath]);
    assert.notEqual(wrong.status, 0);
    assert.match(wrong.out, /incorrect password/);
    // 7-Zip reads ZipCrypto too (what Windows users without Explorer use).
    assert.equal(tool("7z", ["t", `-p${ASCII_PASSWORD}`, outputPath]).status, 0);
    assert.equal(sevenZipList(outputPath, ASCII_PASSWORD)[0]!.Method, "ZipCrypto Deflate");
  });

  test("ZipCrypto takes the password's UTF-8 bytes, as unzip does in a UTF-8 locale", async () => {
    const outputPath = fresh("zipcrypto-ja.zip");
    const content = Buffer.from("社外秘".repeat(1000));
    await writeEncryptedZip({
      files: [{ path: input("a.txt", content), name: "社外秘.txt" }],
      password: PASSWORD,
      encryption: "zipcrypto",
      outputPath,
    });
    const x = tool("unzip", ["-p", "-P", PASSWORD, outputPath]);
    assert.equal(x.status, 0, x.out);
    assert.equal(x.out, content.toString());
  });

  test("modification times: the file's own by default, or the one given; the UTC time survives time zones", async () => {
    const given = new Date("2024-03-15T10:20:30Z");
    const own = new Date("2023-01-02T03:04:06Z");
    const path = input("dated.txt", Buffer.from("dated"));
    utimesSync(path, own, own);
    const outputPath = fresh("times.zip");
    await writeEncryptedZip({
      files: [
        { path, name: "own.txt" },
        { path, name: "given.txt", modifiedAt: given },
      ],
      password: PASSWORD,
      outputPath,
    });
    assert.deepEqual(
      sevenZipList(outputPath, PASSWORD).map((e) => e.Modified),
      ["2023-01-02 03:04:06", "2024-03-15 10:20:30"],
    );
  });

  test("duplicate and hostile names (../, NUL, controls, RTL override, 1,000 characters) extract harmlessly inside the folder", async () => {
    const hostile = [
      "../../escape.txt",
      "/etc/passwd",
      "C:\\Windows\\win.ini",
      "nul\u0000byte.txt",
      "bell\u0007\u001b[31mred.txt",
      "invoice\u202Efdp.exe",
      `${"長".repeat(1000)}.docx`,
      "same.txt",
      "SAME.TXT",
      "same.txt",
      "",
      "..",
    ];
    const files = hostile.map((name, i) => ({ path: input(`f${i}`, Buffer.from(`file ${i}`)), name }));
    const outputPath = fresh("hostile.zip");
    const result = await writeEncryptedZip({ files, password: PASSWORD, outputPath });
    const names = result.entries.map((e) => e.name);
    assert.equal(
      new Set(names.map((n) => n.toLowerCase())).size,
      hostile.length,
      "unique, regardless of case",
    );
    for (const name of names) {
      // eslint-disable-next-line no-control-regex -- no control character may remain
      assert.doesNotMatch(name, /[/\\:\u0000-\u001f\u202e]/u, name);
      assert.ok([...name].length <= 120 && Buffer.byteLength(name) <= 255, "capped length");
    }
    assert.ok(names[6]!.endsWith(".docx"), "the extension survives the cut");
    assert.equal(names[5], "invoicefdp.exe", "the real extension shows");
    const dir = fresh("out");
    mkdirSync(dir);
    const x = tool("7z", ["x", `-p${PASSWORD}`, `-o${dir}`, outputPath]);
    assert.equal(x.status, 0, x.out);
    const out = extracted(dir);
    assert.deepEqual([...out.keys()].sort(), [...names].sort(), "one file per entry, none in a subfolder");
    names.forEach((name, i) => assert.equal(out.get(name)!.toString(), `file ${i}`));
    assert.deepEqual(
      readdirSync(join(dir, "..")).filter((n) => n.includes("escape")),
      [],
    );
  });

  test("refusals name what is wrong and leave no file", async () => {
    const one = [{ path: input("a.txt", Buffer.from("a")), name: "a.txt" }];
    const outputPath = fresh("refused.zip");
    const cases: [Partial<EncryptedZipRequest>, ZipErrorCode, RegExp][] = [
      [{ files: [] }, "bad_request", /no files/],
      [{ password: "" }, "bad_request", /password is empty/],
      [{ encryption: "rot13" as never }, "bad_request", /unknown encryption "rot13"/],
      [{ deflateLevel: 0 }, "bad_request", /deflateLevel 0/],
      [
        { files: [{ ...one[0]!, modifiedAt: new Date("nope") }] },
        "bad_request",
        /file 1 \(a.txt\): modifiedAt/,
      ],
      [
        { files: Array.from({ length: 65_536 }, () => one[0]!) },
        "too_many_files",
        /65536 files.*at most 65535/,
      ],
      [
        { files: [{ path: join(root, "missing"), name: "gone.pdf" }] },
        "file_unreadable",
        /cannot open "gone.pdf"/,
      ],
      [{ files: [{ path: root, name: "dir" }] }, "file_unreadable", /is not a regular file/],
    ];
    for (const [change, code, pattern] of cases) {
      await rejects(
        writeEncryptedZip({ files: one, password: PASSWORD, outputPath, ...change }),
        code,
        pattern,
      );
      assert.ok(!existsSync(outputPath), `${code}: no output file`);
    }
    // 4 GiB without writing it: a sparse file.
    const huge = input("huge.iso", Buffer.alloc(0));
    truncateSync(huge, 2 ** 32);
    await rejects(
      writeEncryptedZip({
        files: [...one, { path: huge, name: "huge.iso" }],
        password: PASSWORD,
        outputPath,
      }),
      "file_too_large",
      /"huge.iso".*4294967296 bytes.*ZIP64/,
    );
    assert.ok(!existsSync(outputPath), "the entry written before the refusal is gone with the file");
    // An existing file is never overwritten.
    writeFileSync(outputPath, "keep me");
    await rejects(
      writeEncryptedZip({ files: one, password: PASSWORD, outputPath }),
      "output_unwritable",
      /EEXIST/,
    );
    assert.equal(readFileSync(outputPath, "utf8"), "keep me");
  });

  test("the output refuses to pass 4 GiB (ZIP64 offsets) and writes nothing then", async () => {
    const path = fresh("limit.bin");
    const handle = await open(path, "wx");
    try {
      const out = new Output(handle);
      out.position = 0xffff_fff0;
      await rejects(out.append(Buffer.alloc(15)), "archive_too_large", /4 GiB.*ZIP64/);
      await out.flush();
      assert.equal(statSync(path).size, 0);
    } finally {
      await handle.close();
    }
  });

  test("an input file that disappears or shrinks mid-way fails the archive and the partial file is removed", async () => {
    const big = input("big.jpg", randomBytes(24 * MiB));
    const doomed = input("doomed.txt", Buffer.from("soon gone"));
    const outputPath = fresh("partial.zip");
    const gone = writeEncryptedZip({
      files: [
        { path: big, name: "big.jpg" },
        { path: doomed, name: "doomed.txt" },
      ],
      password: PASSWORD,
      outputPath,
    });
    unlinkSync(doomed);
    await rejects(gone, "file_unreadable", /cannot open "doomed.txt".*ENOENT/);
    assert.ok(!existsSync(outputPath));

    const shrinking = writeEncryptedZip({
      files: [{ path: big, name: "big.jpg" }],
      password: PASSWORD,
      outputPath,
    });
    // The writer reads and writes a MiB at a time on this thread's event loop: cut the file once
    // some of it is in the archive.
    while (!existsSync(outputPath) || statSync(outputPath).size < 2 * MiB)
      await new Promise((resolve) => setImmediate(resolve));
    truncateSync(big, MiB);
    await rejects(shrinking, "file_changed", /"big.jpg".*shrank while being archived/);
    assert.ok(!existsSync(outputPath));
  });

  test("a 50 MB file through the transform threads; deflated because its start shrinks, stored after all because the whole does not", async () => {
    // 14 KiB of zeros make the 256 KiB probe shrink by over 5 %; the random 48 MiB after them cost
    // deflate more in block headers than the zeros saved.
    const content = randomBytes(48 * MiB + 256 * 1024);
    content.fill(0, 0, 14 * 1024);
    const path = input("export.dat", content);
    const outputPath = fresh("pool.zip");
    const separator = new Separator();
    const result = await separator
      .zip({ files: [{ path, name: "export.dat" }], password: PASSWORD, outputPath })
      .finally(() => separator.close());
    assert.deepEqual(result.entries, [
      { name: "export.dat", size: content.length, compressedSize: content.length + 28, stored: true },
    ]);
    assert.equal(result.size, statSync(outputPath).size);
    const dir = fresh("out");
    assert.equal(tool("7z", ["x", `-p${PASSWORD}`, `-o${dir}`, outputPath]).status, 0);
    assert.ok(readFileSync(join(dir, "export.dat")).equals(content));
  });

  test("the threads hand back refusals as ZipErrors with their code, and remove the file of a thread stopped mid-way", async () => {
    const workers = new Separator();
    await rejects(
      workers.zip({
        files: [{ path: join(root, "missing"), name: "x.txt" }],
        password: PASSWORD,
        outputPath: fresh("x.zip"),
      }),
      "file_unreadable",
      /cannot open "x.txt"/,
    );
    const outputPath = fresh("stopped.zip");
    const big = input("big.jpg", randomBytes(48 * MiB));
    const running = workers.zip({ files: [{ path: big, name: "big.jpg" }], password: PASSWORD, outputPath });
    while (!existsSync(outputPath)) await new Promise((resolve) => setTimeout(resolve, 1));
    const outcome = running.then(
      () => "finished",
      (err: Error) => err.message,
    );
    await workers.close();
    assert.match(await outcome, /Terminating worker thread/);
    assert.ok(!existsSync(outputPath));
  });
});
