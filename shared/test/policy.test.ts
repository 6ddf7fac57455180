import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { mergePolicies, parsePolicyDocument, presetPolicy, presetProblems } from "../src/policy/index.js";

describe("parsePolicyDocument", () => {
  test("a full document in the self preset is accepted and normalised", () => {
    const r = parsePolicyDocument({
      preset: "self",
      domains: {
        internal: ["Corp.Example", "*.corp.example", "!guest.corp.example"],
        semiInternal: ["group.example"],
      },
      hold: { internal: 0, semiInternal: 5, external: 60 },
      delay: { external: 30 },
      forcedBcc: { threshold: 10, to: "undisclosed" },
      approval: { approvers: ["Boss@Corp.Example"], timeoutMinutes: 60, timeoutAction: "approve" },
      rules: [
        {
          name: "night",
          when: {
            recipientClass: ["external"],
            timeWindow: { from: "19:00", to: "09:00", days: ["mon", "fri"] },
          },
          then: { reject: { reason: { ja: "夜間の社外送信は禁止です", en: "No external mail at night" } } },
        },
        { name: "xlsx", when: { attachmentExtension: [".XLSX"] }, then: { hold: { minutes: 30 } } },
      ],
      locks: ["hold.external", "rules"],
    });
    assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
    assert.deepEqual(r.document.domains?.internal, ["corp.example", "*.corp.example", "!guest.corp.example"]);
    assert.deepEqual(r.document.approval?.approvers, ["boss@corp.example"]);
    assert.deepEqual(r.document.rules?.[1]?.when.attachmentExtension, ["xlsx"]);
    assert.equal(r.document.rules?.[0]?.enabled, true);
  });

  const bad: [string, unknown, RegExp][] = [
    ["a list at the top", [], /^\(document\): expected a mapping/],
    ["an unknown key", { holdd: {} }, /^\(document\): unknown key holdd/],
    ["a negative hold", { hold: { external: -1 } }, /^hold\.external: expected minutes ≥ 0/],
    [
      "a bad time",
      {
        rules: [
          { name: "r", when: { timeWindow: { from: "25:00", to: "09:00" } }, then: { hold: { minutes: 1 } } },
        ],
      },
      /^rules\.0\.when\.timeWindow\.from: expected HH:MM/,
    ],
    [
      "a bad regex",
      { rules: [{ name: "r", when: { subjectMatches: "(" }, then: { hold: { minutes: 1 } } }] },
      /^rules\.0\.when\.subjectMatches: expected a valid regular expression/,
    ],
    [
      "a rule without actions",
      { rules: [{ name: "r", then: {} }] },
      /^rules\.0\.then: name at least one action/,
    ],
    [
      "an unknown condition",
      { rules: [{ name: "r", when: { recipientCount: 3 }, then: { hold: { minutes: 1 } } }] },
      /^rules\.0\.when: unknown key recipientCount/,
    ],
    ["a bad domain", { domains: { internal: ["corp example"] } }, /^domains\.internal\.0: expected a domain/],
    [
      "an empty pii condition",
      { rules: [{ name: "r", when: { piiAtLeast: {} }, then: { hold: { minutes: 1 } } }] },
      /piiAtLeast: name at least one of phone/,
    ],
    [
      "a bad approver",
      { approval: { approvers: ["boss"] } },
      /^approval\.approvers\.0: expected an e-mail address/,
    ],
    [
      "a bad weekday",
      {
        rules: [
          {
            name: "r",
            when: { timeWindow: { from: "09:00", to: "10:00", days: ["monday"] } },
            then: { hold: { minutes: 1 } },
          },
        ],
      },
      /days\.0/,
    ],
  ];
  for (const [why, input, message] of bad) {
    test(`refuses ${why}, naming the key`, () => {
      const r = parsePolicyDocument(input);
      assert.equal(r.ok, false);
      assert.ok(!r.ok && r.errors.some((e) => message.test(e)), JSON.stringify(!r.ok && r.errors));
    });
  }
});

describe("presets", () => {
  test("standard holds every class 5 minutes, forces Bcc at 10 and uses the download centre", () => {
    const p = presetPolicy("standard");
    assert.deepEqual(p.hold, { internal: 5, semiInternal: 5, external: 5 });
    assert.deepEqual(p.forcedBcc, { threshold: 10, to: "sender" });
    assert.equal(p.attachments.action, "web_download");
  });

  test("standard has few knobs: rules need the self preset", () => {
    assert.deepEqual(presetProblems({ hold: { external: 10 }, domains: {} }, "standard"), []);
    assert.match(
      presetProblems({ rules: [] }, "standard")[0] ?? "",
      /^rules: not configurable with the standard preset/,
    );
    assert.deepEqual(presetProblems({ rules: [] }, "self"), []);
  });
});

describe("mergePolicies", () => {
  const start = presetPolicy("self");

  test("later scopes override keys, rules append in scope order", () => {
    const { policy } = mergePolicies(start, [
      {
        scope: "org",
        document: {
          hold: { external: 60 },
          rules: [{ name: "a", enabled: true, when: {}, then: { hold: { minutes: 1 } } }],
        },
      },
      {
        scope: "group:sales",
        document: {
          hold: { internal: 0 },
          rules: [{ name: "b", enabled: true, when: {}, then: { hold: { minutes: 2 } } }],
        },
      },
      { scope: "user:a@corp.example", document: { hold: { external: 90 } } },
    ]);
    assert.deepEqual(policy.hold, { internal: 0, semiInternal: 5, external: 90 });
    assert.deepEqual(
      policy.rules.map((r) => r.name),
      ["a", "b"],
    );
  });

  test("a key locked by the organisation cannot be changed below it, and the attempt is reported", () => {
    const { policy, ignored } = mergePolicies(start, [
      { scope: "org", document: { hold: { external: 60 }, locks: ["hold.external", "rules"] } },
      {
        scope: "group:sales",
        document: {
          hold: { external: 0, internal: 1 },
          rules: [{ name: "x", enabled: true, when: {}, then: { hold: { minutes: 0 } } }],
        },
      },
    ]);
    assert.equal(policy.hold.external, 60);
    assert.equal(policy.hold.internal, 1, "unlocked siblings still apply");
    assert.deepEqual(policy.rules, []);
    assert.deepEqual(ignored, ["group:sales: hold.external is locked", "group:sales: rules is locked"]);
  });

  test("locking a whole section locks its keys; arrays replace rather than merge", () => {
    const { policy, ignored } = mergePolicies(start, [
      { scope: "org", document: { domains: { internal: ["corp.example"] }, locks: ["domains"] } },
      {
        scope: "user:a@corp.example",
        document: { domains: { internal: ["evil.example"] }, client: { attachmentReminderWords: ["添付"] } },
      },
    ]);
    assert.deepEqual(policy.domains.internal, ["corp.example"]);
    assert.deepEqual(policy.client.attachmentReminderWords, ["添付"]);
    assert.equal(ignored.length, 1);
  });

  test("the start policy is not modified", () => {
    mergePolicies(start, [{ scope: "org", document: { hold: { external: 1 } } }]);
    assert.equal(start.hold.external, 5);
  });
});
