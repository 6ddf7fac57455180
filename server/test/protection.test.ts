// What a signature or encryption allows (server/src/pipeline/protection.ts), decided at intake.
import assert from "node:assert/strict";
import { test } from "node:test";
import { mergePolicies, presetPolicy, type Decision } from "@sendguard/shared";
import { protectedDecision, SIGNED_MESSAGES_SETTING } from "../src/pipeline/protection.js";

const decision = (): Decision => ({
  reject: null,
  approval: null,
  hold: { internal: 0, semiInternal: 0, external: 0 },
  delay: { semiInternal: 0, external: 0 },
  forceBcc: null,
  addBcc: [],
  matched: [],
  recipients: [
    {
      address: "a@corp.example",
      field: "to",
      class: "internal",
      domain: "corp.example",
      attachmentAction: "pass",
    },
    {
      address: "c@partner.example",
      field: "to",
      class: "external",
      domain: "partner.example",
      attachmentAction: "web_download",
    },
  ],
});
const policy = (signedMessages: "pass" | "approval" | "reject") =>
  mergePolicies(presetPolicy("standard"), [{ scope: "org", document: { attachments: { signedMessages } } }])
    .policy;
const actions = (d: Decision) => d.recipients.map((r) => r.attachmentAction);

test("encrypted content counts as attachments: reject refuses it", () => {
  const d = protectedDecision(decision(), policy("reject"), { opaque: true }, []);
  assert.equal(d.reject?.rule, SIGNED_MESSAGES_SETTING);
  assert.deepEqual(d.matched, [SIGNED_MESSAGES_SETTING]);
});

test("a signature alone is nothing to convert: every copy goes as it is, even under reject", () => {
  const d = protectedDecision(decision(), policy("reject"), { opaque: false }, [
    { contentType: "application/pkcs7-signature" },
    { contentType: "application/pgp-signature" },
  ]);
  assert.equal(d.reject, null);
  assert.deepEqual(actions(d), ["pass", "pass"]);
  assert.deepEqual(d.matched, []);
});

test("approval keeps the rules that already asked for it and adds the setting", () => {
  const asked = { ...decision(), approval: { rules: ["big"], approvers: ["boss@corp.example"] } };
  const d = protectedDecision(asked, policy("approval"), { opaque: false }, [
    { contentType: "application/pdf" },
  ]);
  assert.deepEqual(d.approval, { rules: ["big", SIGNED_MESSAGES_SETTING], approvers: ["boss@corp.example"] });
  assert.deepEqual(actions(d), ["pass", "pass"]);
});

test("pass sends the attachments inside the signed message", () => {
  const d = protectedDecision(decision(), policy("pass"), { opaque: false }, [
    { contentType: "application/pdf" },
  ]);
  assert.equal(d.reject, null);
  assert.equal(d.approval, null);
  assert.deepEqual(actions(d), ["pass", "pass"]);
});

test("a decision already refused or with nothing to convert is left as it is", () => {
  const refused = { ...decision(), reject: { rule: "r", reason: "no" } };
  assert.equal(protectedDecision(refused, policy("pass"), { opaque: true }, []), refused);
  const plain = { ...decision(), recipients: decision().recipients.slice(0, 1) };
  assert.equal(protectedDecision(plain, policy("reject"), { opaque: true }, []), plain);
});
