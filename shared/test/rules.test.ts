import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { mergePolicies, presetPolicy, type Conditions, type PolicyDocument } from "../src/policy/index.js";
import { clientAttachmentRules } from "../src/rules/attachment-rules.js";
import { evaluate, needsContent, type RuleInput } from "../src/rules/evaluate.js";

const ZERO_PII = { phone: 0, postal_address: 0, my_number: 0, credit_card: 0, email: 0 };

function policyWith(doc: PolicyDocument) {
  return mergePolicies(presetPolicy("self"), [
    {
      scope: "org",
      document: {
        domains: { internal: ["corp.example", "*.corp.example"], semiInternal: ["group.example"] },
        ...doc,
      },
    },
  ]).policy;
}

function input(change: Partial<RuleInput> = {}): RuleInput {
  return {
    sender: "taro@corp.example",
    senderGroups: ["sales"],
    recipients: [
      { address: "hanako@corp.example", field: "to" },
      { address: "client@partner.example", field: "cc" },
    ],
    subject: "御見積書の送付",
    bodyText: "いつもお世話になっております。",
    attachments: [],
    size: 10_000,
    now: new Date("2026-11-27T03:00:00Z"), // Friday 12:00 in Tokyo
    timeZone: "Asia/Tokyo",
    pii: () => ZERO_PII,
    analysisGaps: [],
    ...change,
  };
}

/** Whether a rule with these conditions matches the input. */
function matches(when: Conditions, change: Partial<RuleInput> = {}): boolean {
  const policy = policyWith({ rules: [{ name: "r", enabled: true, when, then: { hold: { minutes: 1 } } }] });
  return evaluate(policy, input(change)).matched.includes("r");
}

const tokyo = (iso: string) => new Date(`${iso}+09:00`);

describe("conditions", () => {
  const cases: [string, Conditions, Partial<RuleInput>, boolean][] = [
    ["no conditions always match", {}, {}, true],
    ["sender address", { sender: ["taro@corp.example"] }, {}, true],
    ["sender wildcard", { sender: ["*@corp.example"] }, {}, true],
    [
      "sender wildcard in the local part",
      { sender: ["new-*@corp.example"] },
      { sender: "new-jiro@corp.example" },
      true,
    ],
    ["sender wildcard mismatch", { sender: ["new-*@corp.example"] }, {}, false],
    ["sender group", { senderGroup: ["sales"] }, {}, true],
    ["sender group mismatch", { senderGroup: ["legal"] }, {}, false],
    ["recipient class external", { recipientClass: ["external"] }, {}, true],
    ["recipient class semi-internal absent", { recipientClass: ["semi_internal"] }, {}, false],
    [
      "a subdomain wildcard is internal",
      { recipientClass: ["external"] },
      { recipients: [{ address: "a@tokyo.corp.example", field: "to" }] },
      false,
    ],
    ["recipient domain", { recipientDomain: ["partner.example"] }, {}, true],
    ["recipient domain wildcard", { recipientDomain: ["*.example"] }, {}, true],
    [
      "recipient domain exclusion",
      { recipientDomain: ["*.example", "!partner.example"] },
      { recipients: [{ address: "c@partner.example", field: "to" }] },
      false,
    ],
    ["recipient address wildcard", { recipientAddress: ["*@partner.example"] }, {}, true],
    ["external To/Cc count reached", { externalToCcAtLeast: 1 }, {}, true],
    [
      "external Bcc does not count",
      { externalToCcAtLeast: 1 },
      { recipients: [{ address: "x@partner.example", field: "bcc" }] },
      false,
    ],
    ["someone other than the sender in To", { toCcOtherThanSender: true }, {}, true],
    [
      "only the sender in To",
      { toCcOtherThanSender: true },
      {
        recipients: [
          { address: "TARO@corp.example", field: "to" },
          { address: "x@partner.example", field: "bcc" },
        ],
      },
      false,
    ],
    ["time window inside", { timeWindow: { from: "09:00", to: "18:00" } }, {}, true],
    ["time window outside", { timeWindow: { from: "13:00", to: "18:00" } }, {}, false],
    [
      "window across midnight, evening",
      { timeWindow: { from: "19:00", to: "09:00" } },
      { now: tokyo("2026-11-27T23:30:00") },
      true,
    ],
    [
      "window across midnight, early morning",
      { timeWindow: { from: "19:00", to: "09:00" } },
      { now: tokyo("2026-11-28T08:59:00") },
      true,
    ],
    [
      "window across midnight, the end is exclusive",
      { timeWindow: { from: "19:00", to: "09:00" } },
      { now: tokyo("2026-11-28T09:00:00") },
      false,
    ],
    ["weekday listed (Friday)", { timeWindow: { from: "00:00", to: "23:59", days: ["fri"] } }, {}, true],
    ["weekday not listed", { timeWindow: { from: "00:00", to: "23:59", days: ["sat", "sun"] } }, {}, false],
    [
      "Saturday 08:00 belongs to Friday night's window",
      { timeWindow: { from: "19:00", to: "09:00", days: ["fri"] } },
      { now: tokyo("2026-11-28T08:00:00") },
      true,
    ],
    [
      "Monday 08:00 belongs to Sunday night's window",
      { timeWindow: { from: "19:00", to: "09:00", days: ["mon", "tue", "wed", "thu", "fri"] } },
      { now: tokyo("2026-11-30T08:00:00") },
      false,
    ],
    [
      "the organisation's timezone, not UTC",
      { timeWindow: { from: "19:00", to: "23:00" } },
      { now: new Date("2026-11-27T11:00:00Z") },
      true,
    ],
    ["subject keyword", { subjectContains: ["見積"] }, {}, true],
    [
      "subject keyword, full-width letters",
      { subjectContains: ["secret"] },
      { subject: "ＳＥＣＲＥＴ資料" },
      true,
    ],
    ["subject regex", { subjectMatches: "御?見積書" }, {}, true],
    ["body keyword", { bodyContains: ["お世話"] }, {}, true],
    ["body keyword absent", { bodyContains: ["極秘"] }, {}, false],
    [
      "content includes attachment text",
      { contentContains: ["極秘"] },
      {
        attachments: [
          { filename: "a.docx", extension: "docx", size: 1, encrypted: false, text: "社外秘・極秘" },
        ],
      },
      true,
    ],
    ["content regex", { contentMatches: "社外秘|極秘" }, { bodyText: "これは社外秘です" }, true],
    [
      "attachment count",
      { attachmentCountAtLeast: 3 },
      {
        attachments: Array.from({ length: 3 }, (_, i) => ({
          filename: `${i}.pdf`,
          extension: "pdf",
          size: 1,
          encrypted: false,
          text: "",
        })),
      },
      true,
    ],
    ["attachment count not reached", { attachmentCountAtLeast: 3 }, {}, false],
    [
      "attachment name glob",
      { attachmentName: ["*顧客*"] },
      {
        attachments: [
          { filename: "顧客リスト.xlsx", extension: "xlsx", size: 1, encrypted: false, text: "" },
        ],
      },
      true,
    ],
    [
      "attachment extension",
      { attachmentExtension: ["xlsx"] },
      { attachments: [{ filename: "a.XLSX", extension: "xlsx", size: 1, encrypted: false, text: "" }] },
      true,
    ],
    [
      "attachment size",
      { attachmentSizeAtLeast: 1000 },
      { attachments: [{ filename: "a", extension: "", size: 1000, encrypted: false, text: "" }] },
      true,
    ],
    [
      "encrypted attachment",
      { attachmentEncrypted: true },
      { attachments: [{ filename: "a.zip", extension: "zip", size: 1, encrypted: true, text: "" }] },
      true,
    ],
    [
      "unencrypted attachment",
      { attachmentEncrypted: false },
      { attachments: [{ filename: "a.zip", extension: "zip", size: 1, encrypted: false, text: "" }] },
      true,
    ],
    ["no attachment is not 'unencrypted attachment'", { attachmentEncrypted: false }, {}, false],
    ["message size", { messageSizeAtLeast: 10_000 }, {}, true],
    ["message size below", { messageSizeAtLeast: 10_001 }, {}, false],
    ["PII count reached", { piiAtLeast: { phone: 10 } }, { pii: () => ({ ...ZERO_PII, phone: 10 }) }, true],
    [
      "PII: any listed kind",
      { piiAtLeast: { phone: 10, postal_address: 2 } },
      { pii: () => ({ ...ZERO_PII, postal_address: 2 }) },
      true,
    ],
    ["PII below", { piiAtLeast: { phone: 10 } }, { pii: () => ({ ...ZERO_PII, phone: 9 }) }, false],
    ["all conditions must hold", { recipientClass: ["external"], subjectContains: ["請求"] }, {}, false],
  ];
  for (const [why, when, change, expected] of cases) {
    test(`${why} → ${expected ? "matches" : "does not match"}`, () =>
      assert.equal(matches(when, change), expected));
  }

  test("PII is counted only when a rule asks for it", () => {
    let calls = 0;
    const pii = () => {
      calls++;
      return ZERO_PII;
    };
    matches({ subjectContains: ["x"] }, { pii });
    assert.equal(calls, 0);
    matches({ piiAtLeast: { email: 1 } }, { pii });
    assert.equal(calls, 1);
  });
});

describe("actions", () => {
  test("reject stops at the first rejecting rule", () => {
    const policy = policyWith({
      rules: [
        { name: "hold", enabled: true, when: {}, then: { hold: { minutes: 30 } } },
        {
          name: "no",
          enabled: true,
          when: { recipientClass: ["external"] },
          then: { reject: { reason: "社外秘" } },
        },
        { name: "later", enabled: true, when: {}, then: { addBcc: { addresses: ["boss@corp.example"] } } },
      ],
    });
    const d = evaluate(policy, input());
    assert.deepEqual(d.reject, { rule: "no", reason: "社外秘" });
    assert.deepEqual(d.matched, ["hold", "no"]);
  });

  test("holds take the longest, delays and Bcc additions accumulate, disabled rules are skipped", () => {
    const policy = policyWith({
      hold: { internal: 0, semiInternal: 0, external: 60 },
      rules: [
        {
          name: "h",
          enabled: true,
          when: {},
          then: { hold: { minutes: 30 }, addBcc: { addresses: ["boss@corp.example"] } },
        },
        {
          name: "d",
          enabled: true,
          when: { recipientDomain: ["partner.example"] },
          then: { delayExternal: { minutes: 45 } },
        },
        { name: "off", enabled: false, when: {}, then: { reject: { reason: "x" } } },
      ],
    });
    const d = evaluate(policy, input());
    assert.equal(d.reject, null);
    assert.deepEqual(d.hold, { internal: 30, semiInternal: 30, external: 60 });
    assert.equal(d.delay.external, 45);
    assert.deepEqual(d.addBcc, ["boss@corp.example"]);
  });

  test("approval collects its rules and named approvers", () => {
    const policy = policyWith({
      rules: [
        {
          name: "new",
          enabled: true,
          when: { senderGroup: ["sales"] },
          then: { approve: { approvers: ["mgr@corp.example"] } },
        },
        { name: "ext", enabled: true, when: { recipientClass: ["external"] }, then: { approve: {} } },
      ],
    });
    assert.deepEqual(evaluate(policy, input()).approval, {
      rules: ["new", "ext"],
      approvers: ["mgr@corp.example"],
    });
  });

  test("forced Bcc at the threshold of external To/Cc addresses", () => {
    const many = Array.from({ length: 10 }, (_, i) => ({
      address: `p${i}@partner${i}.example`,
      field: "to" as const,
    }));
    const policy = policyWith({ forcedBcc: { threshold: 10, to: "undisclosed" } });
    assert.equal(evaluate(policy, input({ recipients: many })).forceBcc?.to, "undisclosed");
    assert.equal(evaluate(policy, input({ recipients: many.slice(1) })).forceBcc, null);
  });

  test("recipients are classified internal / semi-internal / external", () => {
    const d = evaluate(
      policyWith({}),
      input({
        recipients: [
          { address: "a@corp.example", field: "to" },
          { address: "b@group.example", field: "cc" },
          { address: "c@else.example", field: "bcc" },
        ],
      }),
    );
    assert.deepEqual(
      d.recipients.map((r) => r.class),
      ["internal", "semi_internal", "external"],
    );
  });

  describe("attachment action per recipient", () => {
    const three = input({
      recipients: [
        { address: "a@corp.example", field: "to" },
        { address: "b@group.example", field: "cc" },
        { address: "c@else.example", field: "to" },
        { address: "d@partner.example", field: "bcc" },
      ],
      attachments: [{ filename: "a.pdf", extension: "pdf", size: 3_000_000, encrypted: false, text: "" }],
    });
    const actions = (doc: PolicyDocument) =>
      Object.fromEntries(
        evaluate(policyWith(doc), three).recipients.map((r) => [r.address, r.attachmentAction]),
      );

    test("the policy's action is for recipients outside the organisation; colleagues get the files", () => {
      assert.deepEqual(actions({ attachments: { action: "web_download" } }), {
        "a@corp.example": "pass",
        "b@group.example": "web_download",
        "c@else.example": "web_download",
        "d@partner.example": "web_download",
      });
      const standard = evaluate(presetPolicy("standard"), three).recipients;
      assert.ok(
        standard.every((r) => r.attachmentAction === "web_download"),
        "no internal domains: all outside",
      );
    });

    test("a rule's action applies to the recipients its recipient conditions name", () => {
      const got = actions({
        rules: [
          {
            name: "large to externals",
            enabled: true,
            when: { recipientClass: ["external"], attachmentSizeAtLeast: 2_000_000 },
            then: { attachments: { action: "web_download" } },
          },
          {
            name: "partner gets a zip",
            enabled: true,
            when: { recipientAddress: ["d@partner.example"] },
            then: { attachments: { action: "encrypt_zip" } },
          },
          {
            name: "internal plain",
            enabled: true,
            when: { recipientClass: ["internal", "semi_internal"], recipientDomain: ["corp.example"] },
            then: { attachments: { action: "encrypt_zip" } },
          },
        ],
      });
      assert.deepEqual(got, {
        "a@corp.example": "encrypt_zip", // class and domain both hold for it
        "b@group.example": "pass", // semi-internal, but not corp.example
        "c@else.example": "web_download",
        "d@partner.example": "encrypt_zip", // the later rule wins
      });
    });

    test("a rule without recipient conditions applies to every recipient; an unmatched rule to none", () => {
      const rule = (when: Conditions) => ({
        rules: [
          { name: "r", enabled: true, when, then: { attachments: { action: "encrypt_zip" as const } } },
        ],
      });
      assert.ok(
        Object.values(actions(rule({ attachmentExtension: ["pdf"] }))).every((a) => a === "encrypt_zip"),
      );
      assert.ok(Object.values(actions(rule({ attachmentExtension: ["xlsx"] }))).every((a) => a === "pass"));
    });
  });

  test("needsContent is true only for body, attachment or PII conditions", () => {
    assert.equal(
      needsContent(
        policyWith({
          rules: [
            { name: "r", enabled: true, when: { subjectContains: ["x"] }, then: { hold: { minutes: 1 } } },
          ],
        }),
      ),
      false,
    );
    assert.equal(
      needsContent(
        policyWith({
          rules: [
            { name: "r", enabled: true, when: { piiAtLeast: { phone: 1 } }, then: { hold: { minutes: 1 } } },
          ],
        }),
      ),
      true,
    );
    assert.equal(
      needsContent(
        policyWith({
          rules: [
            { name: "r", enabled: true, when: { attachmentCountAtLeast: 3 }, then: { hold: { minutes: 1 } } },
          ],
        }),
      ),
      true,
    );
  });
});

describe("analysis incomplete", () => {
  const timeout = { part: "大きな資料.pdf", reason: "timeout" } as const;
  const encrypted = { part: "a.zip/b.xlsx", reason: "encrypted" } as const;
  const cases: [string, Conditions, Partial<RuleInput>, boolean][] = [
    ["any reason", { analysisIncomplete: true }, { analysisGaps: [timeout] }, true],
    ["nothing missing", { analysisIncomplete: true }, {}, false],
    ["a listed reason", { analysisIncomplete: ["encrypted", "timeout"] }, { analysisGaps: [timeout] }, true],
    ["an unlisted reason", { analysisIncomplete: ["encrypted"] }, { analysisGaps: [timeout] }, false],
    [
      "one of several gaps",
      { analysisIncomplete: ["encrypted"] },
      { analysisGaps: [timeout, encrypted] },
      true,
    ],
  ];
  for (const [why, when, change, expected] of cases) {
    test(`${why} → ${expected ? "matches" : "does not match"}`, () =>
      assert.equal(matches(when, change), expected));
  }

  const keyword = {
    name: "secret",
    enabled: true,
    when: { contentContains: ["社外秘"] },
    then: { reject: { reason: "社外秘" } },
  };

  test("the self preset sends a message whose content was not all read for approval", () => {
    const policy = policyWith({ rules: [keyword] });
    const d = evaluate(policy, input({ analysisGaps: [timeout] }));
    assert.equal(d.reject, null);
    assert.deepEqual(d.approval?.rules, ["analysis-incomplete"]);
    assert.equal(evaluate(policy, input()).approval, null, "all read: no approval");
  });

  test("the standard preset has no such rule: it reads no content", () => {
    const standard = presetPolicy("standard");
    assert.deepEqual(standard.presetRules, []);
    assert.equal(needsContent(standard), false);
  });

  test("a rule of the same name replaces the preset's, or with enabled: false removes it", () => {
    const softer = {
      name: "analysis-incomplete",
      enabled: true,
      when: { analysisIncomplete: ["timeout" as const] },
      then: { hold: { minutes: 60 } },
    };
    const replaced = evaluate(policyWith({ rules: [softer] }), input({ analysisGaps: [timeout] }));
    assert.equal(replaced.approval, null);
    assert.equal(replaced.hold.external, 60);
    assert.deepEqual(replaced.matched, ["analysis-incomplete"]);
    const off = evaluate(
      policyWith({ rules: [{ ...softer, enabled: false }] }),
      input({ analysisGaps: [timeout] }),
    );
    assert.deepEqual(off.matched, []);
  });

  test("the condition alone does not make the message's content read", () => {
    const only = policyWith({
      rules: [{ name: "r", enabled: true, when: { analysisIncomplete: true }, then: { approve: {} } }],
    });
    assert.equal(needsContent(only), false);
    assert.equal(needsContent(policyWith({ rules: [keyword] })), true);
  });
});

describe("clientAttachmentRules (GET /policy, for the confirm dialog)", () => {
  test("the attachment rules this sender can meet, in order, with whether more than recipients decide", () => {
    const policy = policyWith({
      rules: [
        {
          name: "zip",
          enabled: true,
          when: { recipientDomain: ["partner.jp"] },
          then: { attachments: { action: "encrypt_zip" } },
        },
        { name: "no attachment action", enabled: true, when: {}, then: { hold: { minutes: 5 } } },
        {
          name: "large",
          enabled: true,
          when: { recipientClass: ["external"], attachmentSizeAtLeast: 2_000_000 },
          then: { attachments: { action: "web_download" } },
        },
        {
          name: "sales only",
          enabled: true,
          when: { senderGroup: ["sales"] },
          then: { attachments: { action: "pass" } },
        },
        {
          name: "off",
          enabled: false,
          when: {},
          then: { attachments: { action: "pass" } },
        },
        {
          name: "me",
          enabled: true,
          when: { sender: ["taro@*"] },
          then: { attachments: { action: "pass" } },
        },
      ],
    });
    assert.deepEqual(clientAttachmentRules(policy, "Taro@corp.example", ["dev"]), [
      { name: "zip", recipientDomain: ["partner.jp"], action: "encrypt_zip", conditional: false },
      { name: "large", recipientClass: ["external"], action: "web_download", conditional: true },
      { name: "me", action: "pass", conditional: false },
    ]);
    assert.deepEqual(
      clientAttachmentRules(policy, "hanako@corp.example", ["sales"]).map((r) => r.name),
      ["zip", "large", "sales only"],
    );
  });
});
