// Header From and Sender against who submits (server/src/pipeline/identity.ts).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { IntakeError } from "../src/pipeline/errors.js";
import { parseHeaderBlock } from "../src/pipeline/headers.js";
import {
  canonicalMailbox,
  checkIdentity,
  requireIdentity,
  SenderRefusal,
  type IdentityProblem,
  type SenderIdentity,
  type Submitter,
} from "../src/pipeline/identity.js";

/** The header block as it comes off the wire: raw UTF-8 bytes, CRLF line ends. */
const fields = (lines: string[]) => parseHeaderBlock(Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "utf8"));

/** Base64 encoded word (RFC 2047) of `text`. */
const encodedWord = (text: string) => `=?UTF-8?B?${Buffer.from(text).toString("base64")}?=`;

const alice: Submitter = {
  kind: "user",
  email: "alice@corp.example",
  aliases: ["sales@corp.example", "eigyo@例え.jp", "café@corp.example"],
};

const trusted = (envelopeSender: string): Submitter => ({
  kind: "trusted_network",
  envelopeSender,
  internalDomains: ["corp.example", "*.corp.example", "!guest.corp.example", "other.example", "例え.jp"],
});

type Expected = SenderIdentity | (Pick<IdentityProblem, "kind" | "field"> & { address?: string });

const cases: [why: string, submitter: Submitter, headers: string[], expected: Expected][] = [
  // The user's own addresses, however they are spelt.
  [
    "the user's own address",
    alice,
    ["From: alice@corp.example"],
    { from: "alice@corp.example", sender: null },
  ],
  [
    "the own address with a display name",
    alice,
    ["From: Alice Example <alice@corp.example>"],
    { from: "alice@corp.example", sender: null },
  ],
  ["an alias", alice, ["From: sales@corp.example"], { from: "sales@corp.example", sender: null }],
  [
    "the own address in other letter case",
    alice,
    ["From: ALICE@Corp.Example"],
    { from: "ALICE@Corp.Example", sender: null },
  ],
  [
    "an IDN alias written in punycode",
    alice,
    ["From: eigyo@xn--r8jz45g.jp"],
    { from: "eigyo@xn--r8jz45g.jp", sender: null },
  ],
  [
    "an IDN alias written in Unicode",
    alice,
    ["From: 営業 <eigyo@例え.jp>"],
    { from: "eigyo@例え.jp", sender: null },
  ],
  [
    "an alias local part in NFD (decomposed é) matches its NFC form",
    alice,
    ["From: cafe\u0301@corp.example"],
    { from: "cafe\u0301@corp.example", sender: null },
  ],
  [
    "a Japanese display name in raw UTF-8",
    alice,
    ["From: 山田 花子 <alice@corp.example>"],
    { from: "alice@corp.example", sender: null },
  ],
  [
    "a Japanese display name as an encoded word",
    alice,
    [`From: ${encodedWord("山田 花子")} <alice@corp.example>`],
    { from: "alice@corp.example", sender: null },
  ],
  [
    "a quoted display name with a comma",
    alice,
    ['From: "Example, Alice" <alice@corp.example>'],
    { from: "alice@corp.example", sender: null },
  ],
  [
    "Sender the user's own and From an alias",
    alice,
    ["From: sales@corp.example", "Sender: alice@corp.example"],
    { from: "sales@corp.example", sender: "alice@corp.example" },
  ],
  // Somebody else's address.
  [
    "a foreign address",
    alice,
    ["From: CEO <ceo@corp.example>"],
    { kind: "not_own", field: "From", address: "ceo@corp.example" },
  ],
  [
    "a domain that only begins like the user's",
    alice,
    ["From: alice@corp.example.evil.example"],
    { kind: "not_own", field: "From", address: "alice@corp.example.evil.example" },
  ],
  [
    "a local part that only begins like the user's",
    alice,
    ["From: alice.ceo@corp.example"],
    { kind: "not_own", field: "From", address: "alice.ceo@corp.example" },
  ],
  [
    "Sender someone else's",
    alice,
    ["From: alice@corp.example", "Sender: CEO <ceo@corp.example>"],
    { kind: "not_own", field: "Sender", address: "ceo@corp.example" },
  ],
  [
    "an address hidden in a quoted display name",
    alice,
    ['From: "ceo@corp.example" <alice@corp.example>'],
    { kind: "not_own", field: "From", address: "ceo@corp.example" },
  ],
  [
    "an address hidden in an encoded-word display name",
    alice,
    [`From: ${encodedWord("ceo@corp.example")} <alice@corp.example>`],
    { kind: "not_own", field: "From", address: "ceo@corp.example" },
  ],
  // More than one sender: mail programs would show one of them, not necessarily the checked one.
  [
    "two From fields",
    alice,
    ["From: alice@corp.example", "From: ceo@corp.example"],
    { kind: "several_fields", field: "From" },
  ],
  [
    "two From fields, both the user's",
    alice,
    ["From: alice@corp.example", "FROM: sales@corp.example"],
    { kind: "several_fields", field: "From" },
  ],
  [
    "two addresses in From",
    alice,
    ["From: alice@corp.example, ceo@corp.example"],
    { kind: "several_addresses", field: "From" },
  ],
  [
    "two Sender fields",
    alice,
    ["From: alice@corp.example", "Sender: alice@corp.example", "Sender: ceo@corp.example"],
    { kind: "several_fields", field: "Sender" },
  ],
  // What mail programs read differently is refused, not interpreted.
  ["group syntax", alice, ["From: team: alice@corp.example;"], { kind: "malformed", field: "From" }],
  ["an empty group", alice, ["From: undisclosed-senders:;"], { kind: "malformed", field: "From" }],
  [
    "an address inside an encoded word",
    alice,
    [`From: ${encodedWord("alice")}@corp.example`],
    { kind: "malformed", field: "From" },
  ],
  ["an unclosed quote", alice, ['From: "Alice <alice@corp.example>'], { kind: "malformed", field: "From" }],
  ["an unclosed comment", alice, ["From: alice@corp.example (Alice"], { kind: "malformed", field: "From" }],
  [
    "text after the angle-bracket address",
    alice,
    ["From: Alice <alice@corp.example> ceo@corp.example"],
    { kind: "malformed", field: "From" },
  ],
  ["no From field", alice, ["Subject: x"], { kind: "no_address", field: "From" }],
  ["a From with a name only", alice, ["From: Alice"], { kind: "no_address", field: "From" }],
  // Trusted networks: an internal domain, the envelope sender's.
  [
    "trusted network: internal and the envelope's domain",
    trusted("relay-user@corp.example"),
    ["From: Boss <boss@corp.example>"],
    { from: "boss@corp.example", sender: null },
  ],
  [
    "trusted network: a subdomain named by a wildcard, same as the envelope",
    trusted("a@tokyo.corp.example"),
    ["From: b@Tokyo.Corp.Example"],
    { from: "b@Tokyo.Corp.Example", sender: null },
  ],
  [
    "trusted network: an IDN domain in Unicode against the envelope in punycode",
    trusted("a@xn--r8jz45g.jp"),
    ["From: b@例え.jp"],
    { from: "b@例え.jp", sender: null },
  ],
  [
    "trusted network: internal but another domain than the envelope's",
    trusted("relay-user@corp.example"),
    ["From: x@other.example"],
    { kind: "other_domain", field: "From", address: "x@other.example" },
  ],
  [
    "trusted network: an external From",
    trusted("relay-user@corp.example"),
    ["From: spoof@evil.example"],
    { kind: "not_internal", field: "From", address: "spoof@evil.example" },
  ],
  [
    "trusted network: an excluded subdomain is not internal",
    trusted("a@guest.corp.example"),
    ["From: a@guest.corp.example"],
    { kind: "not_internal", field: "From", address: "a@guest.corp.example" },
  ],
  [
    "trusted network: a Sender in another domain",
    trusted("relay-user@corp.example"),
    ["From: boss@corp.example", "Sender: x@other.example"],
    { kind: "other_domain", field: "Sender", address: "x@other.example" },
  ],
];

describe("checkIdentity", () => {
  for (const [why, submitter, headers, expected] of cases) {
    test(why, () => {
      const result = checkIdentity(fields(headers), submitter);
      if ("from" in expected) {
        assert.ok("identity" in result, `expected it to pass, got ${JSON.stringify(result)}`);
        assert.deepEqual(result.identity, expected);
        return;
      }
      assert.ok("problem" in result, `expected ${expected.kind}, got ${JSON.stringify(result)}`);
      assert.equal(result.problem.kind, expected.kind, JSON.stringify(result.problem));
      assert.equal(result.problem.field, expected.field);
      if (expected.address !== undefined) {
        assert.ok("address" in result.problem);
        assert.equal(canonicalMailbox(result.problem.address), canonicalMailbox(expected.address));
      }
    });
  }
});

describe("requireIdentity", () => {
  const refusal = (submitter: Submitter, headers: string[]) => {
    try {
      requireIdentity(fields(headers), submitter);
    } catch (err) {
      assert.ok(err instanceof IntakeError, String(err));
      return err;
    }
    assert.fail("expected a refusal");
  };

  test("a foreign From is sender_not_allowed: 550 5.7.1, HTTP 422, the reply says what to use", () => {
    const err = refusal(alice, ["From: CEO <ceo@corp.example>"]);
    assert.ok(err instanceof SenderRefusal);
    assert.equal(err.code, "sender_not_allowed");
    assert.equal(err.smtpCode, 550);
    assert.equal(err.enhancedCode, "5.7.1");
    assert.equal(err.httpStatus, 422);
    assert.match(
      err.detail,
      /^From <ceo@corp\.example> is not an address of alice@corp\.example; send from your own address or an alias \(alice@corp\.example, sales@corp\.example/,
    );
  });

  test("two addresses in From and two From fields are multiple_senders", () => {
    for (const headers of [
      ["From: alice@corp.example, ceo@corp.example"],
      ["From: alice@corp.example", "From: alice@corp.example"],
    ]) {
      const err = refusal(alice, headers);
      assert.ok(err instanceof SenderRefusal);
      assert.equal(err.code, "multiple_senders");
      assert.equal(err.httpStatus, 422);
    }
  });

  test("a missing or unreadable From is a bad message (554 5.6.0), not a refusal of the sender", () => {
    for (const headers of [["Subject: x"], ['From: "Alice <alice@corp.example>']]) {
      const err = refusal(alice, headers);
      assert.ok(!(err instanceof SenderRefusal));
      assert.equal(err.code, "bad_message");
      assert.equal(err.smtpCode, 554);
    }
  });

  test("trusted network: another internal domain than the envelope's names both", () => {
    const err = refusal(trusted("relay-user@corp.example"), ["From: x@other.example"]);
    assert.equal(err.code, "sender_not_allowed");
    assert.match(
      err.detail,
      /From <x@other\.example> is not in the domain of the envelope sender \(corp\.example\)/,
    );
  });
});
