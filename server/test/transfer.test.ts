import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { transferDecoder } from "../src/pipeline/extract/transfer.js";

/** Feeds `input` in `size`-byte chunks and returns everything decoded. */
function decodeIn(encoding: string, input: string | Buffer, size: number): Buffer {
  const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input, "latin1");
  const decoder = transferDecoder(encoding);
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) {
    const decoded = decoder.push(bytes.subarray(i, i + size));
    if (decoded) out.push(decoded);
  }
  const rest = decoder.end();
  if (rest) out.push(rest);
  return Buffer.concat(out);
}

const SIZES = [1, 2, 3, 5, 76, 100_000];

describe("transfer decoders", () => {
  test("quoted-printable: trailing whitespace of a line is dropped (RFC 2045 §6.7), escapes and soft breaks kept across cuts", () => {
    const encoded = "caf=C3=A9  \r\nsoft=\r\nbreak \t\r\nlast line=20\r\nend =\r\n";
    for (const size of SIZES) {
      assert.equal(
        decodeIn("quoted-printable", encoded, size).toString("utf8"),
        "café\r\nsoftbreak\r\nlast line \r\nend ",
        `${size}-byte chunks`,
      );
    }
  });

  test("quoted-printable: a line longer than the batch is decoded without losing an escape at the cut", () => {
    const line = `${"=E3=81=82".repeat(30_000)}x`; // 270,001 bytes, no line break
    const decoded = decodeIn("quoted-printable", line, 65_537).toString("utf8");
    assert.equal(decoded, `${"あ".repeat(30_000)}x`);
  });

  test("quoted-printable: an endless run of whitespace without a line break is consumed as it comes, not carried", () => {
    const decoder = transferDecoder("quoted-printable");
    const consumed = Array.from({ length: 100 }, () => decoder.push(Buffer.alloc(65_536, 0x20)) !== null);
    assert.deepEqual(
      consumed.slice(1),
      Array<boolean>(99).fill(true),
      "every chunk after the first is decoded",
    );
    const tail = Buffer.concat([
      decoder.push(Buffer.from("x=41\r\n")) ?? Buffer.alloc(0),
      decoder.end() ?? Buffer.alloc(0),
    ]);
    assert.match(tail.toString(), /xA\r\n$/);
  });

  test("quoted-printable: a broken escape is kept as it came", () => {
    for (const size of SIZES)
      assert.equal(decodeIn("QUOTED-PRINTABLE", "a=ZZb=4", size).toString(), "a=ZZb=4");
  });

  test("base64: line breaks and junk ignored, concatenated padded segments decoded, any cut", () => {
    const payload = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7) % 256));
    const wrapped = payload.toString("base64").replace(/.{76}/g, "$&\r\n");
    for (const size of [1, 3, 76, 65_536, 1_000_000]) {
      assert.deepEqual(decodeIn("base64", wrapped, size), payload, `${size}-byte chunks`);
    }
    assert.equal(decodeIn("base64", "QQ==\r\nQkI=\r\n*!", 3).toString(), "ABB");
  });

  test("7bit, 8bit, binary and unknown encodings pass the bytes through", () => {
    const bytes = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x3d]);
    for (const encoding of ["7bit", "8bit", "binary", "x-unknown", ""]) {
      assert.deepEqual(decodeIn(encoding, bytes, 2), bytes, encoding);
    }
  });
});
