// MessageInspector (server/src/pipeline/inspect.ts): bare CR/LF, size limit, header capture and the
// multipart boundary check. Every property must hold however the stream is cut into chunks.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MessageInspector, type InspectOptions } from "../src/pipeline/inspect.js";

interface Outcome {
  problem: string | null;
  /** Only compared when there is no problem. */
  out: string | null;
  header: string | null;
  boundaryFound: boolean | null;
}

const defaults: InspectOptions = { maxBytes: 1 << 20, maxHeaderBytes: 4096, lineEndings: "reject" };

/** Feeds `chunks` through a fresh inspector and returns what a caller can observe. */
function inspect(
  chunks: Buffer[],
  options: Partial<InspectOptions> = {},
): Outcome & { detail: string | null; written: number } {
  const inspector = new MessageInspector({ ...defaults, ...options });
  const out: Buffer[] = [];
  for (const chunk of chunks) {
    const b = inspector.push(chunk);
    if (b) out.push(b);
  }
  const tail = inspector.end();
  if (tail) out.push(tail);
  const problem = inspector.problem;
  const data = Buffer.concat(out);
  return {
    problem: problem?.code ?? null,
    detail: problem?.detail ?? null,
    out: problem ? null : data.toString("latin1"),
    header: problem ? null : (inspector.header?.toString("latin1") ?? null),
    boundaryFound: problem ? null : inspector.multipartProblem === null,
    written: data.length,
  };
}

const bytes = (s: string) => Buffer.from(s, "latin1");

/** The message whole, in every possible split into two chunks, and one byte at a time. */
function splits(message: string): { name: string; chunks: Buffer[] }[] {
  const b = bytes(message);
  const out = [{ name: "one chunk", chunks: [b] }];
  for (let i = 1; i < b.length; i++)
    out.push({ name: `split at ${i}`, chunks: [b.subarray(0, i), b.subarray(i)] });
  out.push({ name: "1-byte chunks", chunks: [...b].map((x) => Buffer.from([x])) });
  return out;
}

/** Asserts that every way of chunking `message` gives `expected` (problem code, output, header, boundary). */
function assertEverySplit(
  message: string,
  expected: Partial<Outcome>,
  options: Partial<InspectOptions> = {},
): void {
  for (const { name, chunks } of splits(message)) {
    const { problem, out, header, boundaryFound } = inspect(chunks, options);
    const got: Outcome = { problem, out, header, boundaryFound };
    for (const key of Object.keys(expected) as (keyof Outcome)[]) {
      assert.deepEqual(got[key], expected[key], `${name}: ${key} (message ${JSON.stringify(message)})`);
    }
  }
}

const HEAD = "From: alice@corp.example\r\nTo: bob@example.com\r\nSubject: test\r\n\r\n";

describe("reject mode: line endings", () => {
  const clean: [why: string, message: string][] = [
    ["a plain CRLF message", `${HEAD}line 1\r\nline 2\r\n`],
    ["a dot-stuffed line and an empty body line", `${HEAD}..leading dot\r\n\r\nend\r\n`],
    ["a body without a final CRLF", `${HEAD}no newline at the end`],
    ["CRLF CRLF runs", `${HEAD}\r\n\r\n\r\n`],
    ["8-bit bytes next to CRLF", `${HEAD}\xe6\x97\xa5\r\n\xff\r\n`],
  ];
  for (const [why, message] of clean) {
    test(`accepts ${why} unchanged in every chunking`, () => {
      assertEverySplit(message, { problem: null, out: message, header: HEAD });
    });
  }

  const bad: [why: string, message: string, detail: RegExp][] = [
    ["a bare LF in the body", `${HEAD}line 1\nline 2\r\n`, /bare LF/],
    ["a bare LF in the header", "From: a@b.example\nTo: c@d.example\r\n\r\nbody\r\n", /bare LF/],
    ["an LF as the very first byte", "\nFrom: a@b.example\r\n\r\n", /bare LF/],
    ["a bare CR in the body", `${HEAD}line 1\rline 2\r\n`, /bare CR/],
    ["a bare CR in the header", "From: a@b.example\rTo: c@d.example\r\n\r\n", /bare CR/],
    ["CR CR LF", `${HEAD}line\r\r\n`, /bare CR/],
    ["LF CR", `${HEAD}line\n\rmore\r\n`, /bare LF|bare CR/],
    ["a CR as the last byte of the data", `${HEAD}body\r`, /bare CR at the end/],
    ["a lone CR as the whole message", "\r", /bare CR at the end/],
    ["a lone LF as the whole message", "\n", /bare LF/],
  ];
  for (const [why, message, detail] of bad) {
    test(`rejects ${why} as bare_line_ending in every chunking`, () => {
      assertEverySplit(message, { problem: "bare_line_ending" });
      const whole = inspect([bytes(message)]);
      assert.match(whole.detail ?? "", detail);
    });
  }

  const smuggling: [name: string, seq: string][] = [
    ["<LF>.<LF>", "\n.\n"],
    ["<CR>.<CR>", "\r.\r"],
    ["<LF>.<CR><LF>", "\n.\r\n"],
    ["<CR><LF>.<LF>", "\r\n.\n"],
    ["<CR>.<CR><LF>", "\r.\r\n"],
    ["<CR><LF>.<CR>", "\r\n.\r"],
  ];
  for (const [name, seq] of smuggling) {
    test(`detects the SMTP smuggling sequence ${name} in every chunking`, () => {
      const message = `${HEAD}Hello${seq}MAIL FROM:<ceo@corp.example>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\n`;
      assertEverySplit(message, { problem: "bare_line_ending" });
    });
  }

  test("nothing is passed on once a problem was found, and end() adds nothing", () => {
    const inspector = new MessageInspector(defaults);
    assert.ok(inspector.push(bytes(`${HEAD}ok\r\n`)));
    assert.equal(inspector.push(bytes("bad\nline\r\n")), null);
    assert.equal(inspector.push(bytes("good line\r\n")), null);
    assert.equal(inspector.end(), null);
    assert.equal(inspector.problem?.code, "bare_line_ending");
  });

  test("a CR ending one chunk and an LF starting the next form one CRLF", () => {
    const inspector = new MessageInspector(defaults);
    assert.deepEqual(inspector.push(bytes("A: b\r")), bytes("A: b\r"));
    assert.deepEqual(inspector.push(bytes("\n\r")), bytes("\n\r"));
    assert.deepEqual(inspector.push(bytes("\nbody\r\n")), bytes("\nbody\r\n"));
    assert.equal(inspector.end(), null);
    assert.equal(inspector.problem, null);
    assert.equal(inspector.header?.toString("latin1"), "A: b\r\n\r\n");
  });

  test("a CR ending one chunk followed by a non-LF chunk is a bare CR", () => {
    const inspector = new MessageInspector(defaults);
    inspector.push(bytes("A: b\r"));
    assert.equal(inspector.push(bytes("X")), null);
    assert.equal(inspector.problem?.code, "bare_line_ending");
  });

  test("an empty chunk between the CR and the LF of a CRLF is harmless", () => {
    const result = inspect([bytes("A: b\r"), Buffer.alloc(0), bytes("\n\r\nbody\r\n")]);
    assert.equal(result.problem, null);
  });
});

describe("normalize mode: line endings repaired to CRLF", () => {
  const cases: [why: string, input: string, expected: string][] = [
    ["LF-only text", "A: b\nC: d\n\nline 1\nline 2\n", "A: b\r\nC: d\r\n\r\nline 1\r\nline 2\r\n"],
    ["CR-only text (old Mac)", "A: b\rC: d\r\rline 1\rline 2\r", "A: b\r\nC: d\r\n\r\nline 1\r\nline 2\r\n"],
    ["CRLF text is untouched", "A: b\r\n\r\nbody\r\n", "A: b\r\n\r\nbody\r\n"],
    ["mixed endings", "A: b\r\nC: d\n\rbody\rmore\nend\r\n", "A: b\r\nC: d\r\n\r\nbody\r\nmore\r\nend\r\n"],
    ["CR CR LF", "A: b\r\r\nx", "A: b\r\n\r\nx"],
    ["CR LF LF", "A: b\r\n\nx", "A: b\r\n\r\nx"],
    ["LF at the very start", "\nA: b\n", "\r\nA: b\r\n"],
    ["a CR as the very last byte", "A: b\n\nbody\r", "A: b\r\n\r\nbody\r\n"],
    ["runs of LF", "A: b\n\n\n\n", "A: b\r\n\r\n\r\n\r\n"],
    ["runs of CR", "A: b\r\r\r\r", "A: b\r\n\r\n\r\n\r\n"],
    [
      "SMTP smuggling sequences become harmless CRLF lines",
      "A: b\n\nHi\n.\nX\r.\rY\n.\r\nZ\r\n.\n",
      "A: b\r\n\r\nHi\r\n.\r\nX\r\n.\r\nY\r\n.\r\nZ\r\n.\r\n",
    ],
    ["no line ending at all", "A: b", "A: b"],
  ];
  for (const [why, input, expected] of cases) {
    test(`${why}: identical CRLF output in every chunking`, () => {
      assertEverySplit(input, { problem: null, out: expected }, { lineEndings: "normalize" });
    });
  }

  test("normalized output always passes the reject-mode check", () => {
    const inputs = ["a\rb\nc\r\nd\n\r\n\r\r", "\n\n\r\r", "x\r", "\r\n\n\r\r\n"];
    for (const input of inputs) {
      const normalized = inspect([bytes(input)], { lineEndings: "normalize" });
      assert.equal(normalized.problem, null);
      const again = inspect([bytes(normalized.out ?? "")]);
      assert.equal(again.problem, null, JSON.stringify(normalized.out));
    }
  });

  test("the header of an LF-only upload is captured in its repaired CRLF form", () => {
    assertEverySplit(
      "From: a@b.example\nSubject: x\n\nbody\n",
      { header: "From: a@b.example\r\nSubject: x\r\n\r\n" },
      {
        lineEndings: "normalize",
      },
    );
  });
});

describe("size limit", () => {
  const message = `${HEAD}0123456789\r\n`;
  const size = Buffer.byteLength(message, "latin1");

  test("a message of exactly maxBytes is accepted in every chunking", () => {
    assertEverySplit(message, { problem: null, out: message }, { maxBytes: size });
  });

  test("a message one byte over maxBytes is too_large in every chunking", () => {
    assertEverySplit(message, { problem: "too_large" }, { maxBytes: size - 1 });
    assert.match(
      inspect([bytes(message)], { maxBytes: size - 1 }).detail ?? "",
      new RegExp(`larger than ${size - 1} bytes`),
    );
  });

  test("in normalize mode the limit applies to the repaired size", () => {
    const lf = "A: b\n\nxx\n"; // 9 bytes, 12 after repair
    assertEverySplit(lf, { problem: null }, { lineEndings: "normalize", maxBytes: 12 });
    assertEverySplit(lf, { problem: "too_large" }, { lineEndings: "normalize", maxBytes: 11 });
  });

  test("in normalize mode the LF added for a final CR counts against the limit", () => {
    // "A: b\n\nx\r" repairs to "A: b\r\n\r\nx\r\n" (11 bytes); with a limit of 10 it must be too_large.
    assertEverySplit("A: b\n\nx\r", { problem: "too_large" }, { lineEndings: "normalize", maxBytes: 10 });
  });

  test("nothing more is returned after too_large", () => {
    const inspector = new MessageInspector({ ...defaults, maxBytes: 10 });
    assert.ok(inspector.push(bytes("A: b\r\n")));
    assert.equal(inspector.push(bytes("C: ddddd\r\n")), null);
    assert.equal(inspector.push(bytes("\r\n")), null);
    assert.equal(inspector.end(), null);
    assert.equal(inspector.problem?.code, "too_large");
  });
});

describe("header capture", () => {
  const cases: [why: string, message: string, header: string][] = [
    ["header block including its blank line", `${HEAD}body\r\n`, HEAD],
    [
      "folded header lines",
      "Subject: a\r\n b\r\n\tc\r\nFrom: x@y.example\r\n\r\nbody",
      "Subject: a\r\n b\r\n\tc\r\nFrom: x@y.example\r\n\r\n",
    ],
    [
      "a message that is only a header, ending in CRLF",
      "From: a@b.example\r\nSubject: x\r\n",
      "From: a@b.example\r\nSubject: x\r\n",
    ],
    ["a message that is only a header, without a final CRLF", "From: a@b.example", "From: a@b.example"],
    ["a header followed by an empty body", "From: a@b.example\r\n\r\n", "From: a@b.example\r\n\r\n"],
    ["an empty header (message starts with CRLF)", "\r\nbody line\r\n", "\r\n"],
    ["an empty message", "", ""],
    ["a body that contains another blank line", "A: b\r\n\r\nC: not a header\r\n\r\nend", "A: b\r\n\r\n"],
  ];
  for (const [why, message, header] of cases) {
    test(`${why} is captured identically in every chunking`, () => {
      assertEverySplit(message, { problem: null, header, out: message });
    });
  }

  test("an empty header followed by a body that starts with a blank line is just CRLF in every chunking", () => {
    assertEverySplit("\r\n\r\nbody\r\n", { problem: null, header: "\r\n" });
  });

  test("a header of exactly maxHeaderBytes is accepted in every chunking", () => {
    const header = `X-Pad: ${"a".repeat(1024 - 7 - 4)}\r\n\r\n`;
    assert.equal(header.length, 1024);
    assertEverySplit(`${header}body\r\n`, { problem: null, header }, { maxHeaderBytes: 1024 });
  });

  test("a header block without end that grows past maxHeaderBytes is header_too_large", () => {
    const message = `X-Pad: ${"a".repeat(2000)}\r\nX-More: b\r\n`;
    for (const chunks of [[bytes(message)], [...bytes(message)].map((x) => Buffer.from([x]))]) {
      const result = inspect(chunks, { maxHeaderBytes: 1024 });
      assert.equal(result.problem, "header_too_large");
    }
    assert.match(inspect([bytes(message)], { maxHeaderBytes: 1024 }).detail ?? "", /larger than 1024 bytes/);
  });

  test("a long header that arrives in small chunks is header_too_large", () => {
    const message = `X-Pad: ${"a".repeat(2000)}\r\n\r\nbody\r\n`;
    const b = bytes(message);
    const chunks: Buffer[] = [];
    for (let i = 0; i < b.length; i += 100) chunks.push(b.subarray(i, i + 100));
    assert.equal(inspect(chunks, { maxHeaderBytes: 1024 }).problem, "header_too_large");
  });

  test("a header block larger than maxHeaderBytes is header_too_large however it is chunked", () => {
    const justOver = `X-Pad: ${"a".repeat(1024 - 7 - 4 + 1)}\r\n\r\nbody\r\n`; // header block 1025 bytes
    assertEverySplit(justOver, { problem: "header_too_large" }, { maxHeaderBytes: 1024 });
    const wayOver = `X-Pad: ${"a".repeat(3000)}\r\n\r\nbody\r\n`;
    assert.equal(inspect([bytes(wayOver)], { maxHeaderBytes: 1024 }).problem, "header_too_large");
  });
});

describe("multipart boundary", () => {
  const mp = (body: string, boundary = "b1") =>
    `From: a@b.example\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n${body}`;
  const cases: [why: string, message: string, found: boolean][] = [
    [
      "boundary lines present",
      mp("preamble\r\n--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b1--\r\n"),
      true,
    ],
    ["boundary on the first body line", mp("--b1\r\n\r\nhi\r\n--b1--\r\n"), true],
    ["only the close delimiter, without a final CRLF", mp("text\r\n--b1--"), true],
    [
      "boundary with characters that are special in regular expressions",
      mp("--=_a.b+c?(d)\r\n", "=_a.b+c?(d)"),
      true,
    ],
    ["a long boundary", mp(`x\r\n--${"z".repeat(70)}\r\n`, "z".repeat(70)), true],
    ["boundary absent", mp("no parts here\r\nat all\r\n"), false],
    ["empty body", mp(""), false],
    ["boundary only inside a line", mp("see x--b1 here\r\n --b1\r\n\t--b1\r\n"), false],
    ["a shorter prefix of the boundary", mp("--b\r\n-b1\r\n"), false],
    ["boundary in different case", mp("--B1\r\n"), false],
    ["boundary right after a line longer than it", mp(`${"y".repeat(50)}--b1\r\n--b1\r\n`), true],
    [
      "not multipart: nothing is required",
      "From: a@b.example\r\nContent-Type: text/plain\r\n\r\nplain\r\n",
      true,
    ],
    ["no Content-Type: nothing is required", "From: a@b.example\r\n\r\nplain\r\n", true],
  ];
  for (const [why, message, found] of cases) {
    test(`${why}: boundary found = ${found} in every chunking`, () => {
      assertEverySplit(message, { problem: null, boundaryFound: found });
    });
  }

  test("the same holds for an LF-only upload in normalize mode", () => {
    assertEverySplit(
      'Content-Type: multipart/mixed; boundary="b1"\n\n--b1\nhi\n--b1--\n',
      { boundaryFound: true },
      {
        lineEndings: "normalize",
      },
    );
    assertEverySplit(
      'Content-Type: multipart/mixed; boundary="b1"\n\nx--b1\n',
      { boundaryFound: false },
      {
        lineEndings: "normalize",
      },
    );
  });

  test("a message that is only a multipart header (no body, so no boundary line) is reported like an empty body", () => {
    assertEverySplit('From: a@b.example\r\nContent-Type: multipart/mixed; boundary="b1"\r\n', {
      problem: null,
      boundaryFound: false,
    });
  });

  test("boundary text in the middle of a header line is not taken for a boundary line, whatever the split", () => {
    const message =
      'Content-Type: multipart/mixed; boundary="b1"\r\nX-Note: a--b1\r\n\r\nno boundary line here\r\n';
    assertEverySplit(message, { problem: null, boundaryFound: false });
  });

  test("a multipart Content-Type without a boundary parameter is not satisfied by any line starting with --", () => {
    const message = "From: a@b.example\r\nContent-Type: multipart/mixed\r\n\r\ntext\r\n-- \r\nsignature\r\n";
    assert.equal(inspect([bytes(message)]).boundaryFound, false);
  });
});
