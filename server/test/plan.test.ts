import assert from "node:assert/strict";
import { test } from "node:test";
import { evaluate, mergePolicies, presetPolicy, type PolicyDocument } from "@sendguard/shared";
import { planBatches } from "../src/pipeline/plan.js";

const NOW = Date.parse("2026-12-04T03:00:00Z");

function plan(doc: PolicyDocument, recipients: string[]) {
  const { policy } = mergePolicies(presetPolicy("self"), [
    {
      scope: "org",
      document: { domains: { internal: ["corp.example"], semiInternal: ["group.example"] }, ...doc },
    },
  ]);
  const decision = evaluate(policy, {
    sender: "taro@corp.example",
    senderGroups: [],
    recipients: recipients.map((address) => ({ address, field: "to" as const })),
    subject: "s",
    bodyText: "",
    attachments: [],
    size: 100,
    now: new Date(NOW),
    timeZone: "Asia/Tokyo",
    pii: () => ({ phone: 0, postal_address: 0, my_number: 0, credit_card: 0, email: 0 }),
    analysisGaps: [],
  });
  return planBatches(policy, decision, NOW).map((b) => ({ ...b, releaseAt: (b.releaseAt - NOW) / 60_000 }));
}

test("classes released together share a batch when their copies are the same", () => {
  assert.deepEqual(
    plan({ hold: { internal: 5, semiInternal: 5, external: 5 } }, ["a@corp.example", "b@group.example"]),
    [
      {
        name: "internal,semi_internal",
        releaseAt: 5,
        attachmentAction: "pass",
        recipients: ["a@corp.example", "b@group.example"],
      },
    ],
  );
});

test("each attachment action makes its own batch, even released at the same moment", () => {
  const got = plan(
    {
      hold: { internal: 5, semiInternal: 5, external: 5 },
      attachments: { action: "web_download" },
      rules: [
        {
          name: "partner zip",
          enabled: true,
          when: { recipientDomain: ["partner.example"] },
          then: { attachments: { action: "encrypt_zip" } },
        },
      ],
    },
    ["a@corp.example", "c@else.example", "p@partner.example", "q@partner.example", "b@group.example"],
  );
  assert.deepEqual(got, [
    { name: "internal", releaseAt: 5, attachmentAction: "pass", recipients: ["a@corp.example"] },
    {
      name: "semi_internal,external",
      releaseAt: 5,
      attachmentAction: "web_download",
      recipients: ["b@group.example", "c@else.example"],
    },
    {
      name: "external",
      releaseAt: 5,
      attachmentAction: "encrypt_zip",
      recipients: ["p@partner.example", "q@partner.example"],
    },
  ]);
});

test("different release times stay apart; a recipient listed twice is planned once", () => {
  const got = plan(
    { hold: { internal: 1, semiInternal: 1, external: 10 }, attachments: { action: "web_download" } },
    ["c@else.example", "a@corp.example", "C@else.example", "d@else.example"],
  );
  assert.deepEqual(got, [
    { name: "internal", releaseAt: 1, attachmentAction: "pass", recipients: ["a@corp.example"] },
    {
      name: "external",
      releaseAt: 10,
      attachmentAction: "web_download",
      recipients: ["c@else.example", "d@else.example"],
    },
  ]);
});
