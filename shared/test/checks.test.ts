// Client-side confirm logic shared by the Thunderbird and Outlook add-ins (shared/src/checks).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  FALLBACK_CLIENT_POLICY,
  buildConfirmModel,
  convertExternalToBcc,
  formatDuration,
  formatSize,
  ownText,
  readyToSend,
  type ClientPolicy,
  type ConfirmModel,
  type ConfirmWarningCode,
  type Draft,
  type DraftRecipient,
} from "../src/index.js";
import { normalizeText } from "../src/rules/patterns.js";
import { presetPolicy } from "../src/policy/index.js";

type ClientSettings = ClientPolicy["client"];

function policy(
  change: Partial<Omit<ClientPolicy, "client">> = {},
  client: Partial<ClientSettings> = {},
): ClientPolicy {
  return {
    organization: { name: "Corp", timezone: "Asia/Tokyo", language: "ja" },
    language: "ja",
    domains: {
      internal: ["corp.example", "*.corp.example", "!guest.corp.example"],
      semiInternal: ["group.example"],
    },
    hold: { internal: 5, semiInternal: 5, external: 5 },
    delay: { semiInternal: 0, external: 0 },
    holdMinutes: 5,
    forcedBcc: { threshold: 10, to: "sender" },
    attachmentAction: "pass",
    ...change,
    client: { ...presetPolicy("self").client, ...client },
  };
}

function draft(change: Partial<Draft> = {}): Draft {
  return {
    from: "Taro Yamada <taro@corp.example>",
    recipients: [{ address: "client@partner.example", field: "to" }],
    subject: "お打ち合わせの件",
    body: "いつもお世話になっております。",
    attachments: [],
    ...change,
  };
}

const to = (address: string): DraftRecipient => ({ address, field: "to" });
const cc = (address: string): DraftRecipient => ({ address, field: "cc" });
const bcc = (address: string): DraftRecipient => ({ address, field: "bcc" });

const codes = (m: ConfirmModel) => m.warnings.map((w) => w.code);
const only = (m: ConfirmModel, code: ConfirmWarningCode) => m.warnings.filter((w) => w.code === code);

describe("recipient groups", () => {
  test("by class (wildcards and exclusions), then by domain sorted case-insensitively; fields kept", () => {
    const m = buildConfirmModel(
      draft({
        recipients: [
          to("b@Zeta.example"),
          cc("boss@corp.example"),
          to("a@alpha.example"),
          bcc("x@sales.corp.example"),
          to("visitor@guest.corp.example"),
          cc("peer@group.example"),
          cc("c@ALPHA.example"),
        ],
      }),
      policy(),
      "ja",
    );
    assert.deepEqual(m.groups, [
      {
        class: "internal",
        domains: [
          { domain: "corp.example", recipients: [cc("boss@corp.example")] },
          { domain: "sales.corp.example", recipients: [bcc("x@sales.corp.example")] },
        ],
      },
      {
        class: "semi_internal",
        domains: [{ domain: "group.example", recipients: [cc("peer@group.example")] }],
      },
      {
        class: "external",
        domains: [
          { domain: "alpha.example", recipients: [to("a@alpha.example"), cc("c@ALPHA.example")] },
          { domain: "guest.corp.example", recipients: [to("visitor@guest.corp.example")] },
          { domain: "zeta.example", recipients: [to("b@Zeta.example")] },
        ],
      },
    ]);
  });

  test("an address in To and Cc (any case) is shown once, with its most visible field and its name", () => {
    const m = buildConfirmModel(
      draft({
        recipients: [
          cc("Client@Partner.example"),
          { address: "client@partner.example", name: "Client", field: "to" },
          bcc("other@partner.example"),
          cc("other@partner.example"),
          bcc("third@partner.example"),
          bcc("THIRD@partner.example"),
        ],
      }),
      policy(),
      "en",
    );
    assert.deepEqual(m.groups, [
      {
        class: "external",
        domains: [
          {
            domain: "partner.example",
            recipients: [
              { address: "Client@Partner.example", name: "Client", field: "to" },
              cc("other@partner.example"),
              bcc("third@partner.example"),
            ],
          },
        ],
      },
    ]);
    assert.deepEqual(m.mustTick, [
      "Client@Partner.example",
      "other@partner.example",
      "third@partner.example",
    ]);
  });

  test('"Name <addr>" is split, blank entries are dropped, an address without a domain is external', () => {
    const m = buildConfirmModel(
      draft({ recipients: [to('"Yamada, Hanako" <hanako@corp.example>'), to("  "), cc("nobody")] }),
      policy(),
      "ja",
    );
    assert.deepEqual(m.groups, [
      {
        class: "internal",
        domains: [
          {
            domain: "corp.example",
            recipients: [{ address: "hanako@corp.example", name: "Yamada, Hanako", field: "to" }],
          },
        ],
      },
      { class: "external", domains: [{ domain: "", recipients: [cc("nobody")] }] },
    ]);
    assert.equal(m.skip, false);
  });
});

describe("distribution lists", () => {
  const list = (address: string, name?: string): DraftRecipient => ({
    address,
    ...(name ? { name } : {}),
    field: "to",
    list: true,
  });

  test("an unexpanded list is external even at an internal address, must be ticked and is named (ja, en)", () => {
    const d = draft({ recipients: [to("hanako@corp.example"), list("sales@corp.example", "営業部")] });
    const m = buildConfirmModel(d, policy(), "ja");
    assert.deepEqual(
      m.groups.map((g) => [g.class, g.domains.map((x) => x.recipients.map((r) => r.address))]),
      [
        ["internal", [["hanako@corp.example"]]],
        ["external", [["sales@corp.example"]]],
      ],
    );
    assert.equal(m.skip, false, "internal recipients only is no longer true");
    assert.deepEqual(m.mustTick, ["sales@corp.example"]);
    const [w] = only(m, "distribution_list");
    assert.equal(w?.severity, "warn");
    assert.equal(w?.subject, "営業部");
    assert.match(w?.text ?? "", /営業部 は配布リストです/);
    const [en] = only(buildConfirmModel(d, policy(), "en"), "distribution_list");
    assert.match(en?.text ?? "", /営業部 is a distribution list/);
  });

  test("a list without a name is named by its address, is no new domain, and moves to Bcc", () => {
    const d = draft({
      recipients: [to("hanako@corp.example"), list("all@corp.example")],
      replyTo: { addresses: ["hanako@corp.example"] },
    });
    const m = buildConfirmModel(d, policy(), "en");
    assert.equal(only(m, "distribution_list")[0]?.subject, "all@corp.example");
    assert.deepEqual(only(m, "new_domain"), [], "the list's own domain is the organisation's");
    const converted = convertExternalToBcc(d, policy());
    assert.deepEqual(
      converted.recipients.map((r) => [r.address, r.field]),
      [
        ["hanako@corp.example", "to"],
        ["all@corp.example", "bcc"],
      ],
    );
  });
});

describe("ticks", () => {
  const recipients = [
    to("a@partner.example"),
    cc("boss@corp.example"),
    bcc("peer@group.example"),
    bcc("z@b.example"),
  ];

  test("every external recipient must be ticked (in dialog order) when requireTickEachExternal", () => {
    const m = buildConfirmModel(draft({ recipients }), policy(), "ja");
    assert.deepEqual(m.mustTick, ["z@b.example", "a@partner.example"]);
    assert.equal(m.allowTickAll, false);
  });

  test("nothing to tick one by one when the policy does not ask; allowTickAll is passed on", () => {
    const m = buildConfirmModel(
      draft({ recipients }),
      policy({}, { requireTickEachExternal: false, allowTickAll: true }),
      "ja",
    );
    assert.deepEqual(m.mustTick, []);
    assert.equal(m.allowTickAll, true);
  });

  test("every attachment must be ticked when an external recipient exists, not otherwise", () => {
    const attachments = [
      { name: "見積書.pdf", size: 1200 },
      { name: "仕様書.docx", size: -1 },
    ];
    const ext = buildConfirmModel(draft({ recipients, attachments }), policy(), "ja");
    assert.deepEqual(
      ext.attachments.map((a) => a.mustTick),
      [true, true],
    );
    const internal = buildConfirmModel(
      draft({ recipients: [to("boss@corp.example"), cc("peer@group.example")], attachments }),
      policy(),
      "ja",
    );
    assert.deepEqual(
      internal.attachments.map((a) => a.mustTick),
      [false, false],
    );
  });
});

describe("skip", () => {
  const internal = [to("boss@corp.example"), cc("x@sales.corp.example")];

  test("internal recipients only and skipWhenInternalOnly: no dialog", () => {
    assert.equal(buildConfirmModel(draft({ recipients: internal }), policy(), "ja").skip, true);
    const noSkip = policy({}, { skipWhenInternalOnly: false });
    assert.equal(buildConfirmModel(draft({ recipients: internal }), noSkip, "ja").skip, false);
  });

  test("a semi-internal recipient is not internal", () => {
    const m = buildConfirmModel(
      draft({ recipients: [...internal, cc("peer@group.example")] }),
      policy(),
      "ja",
    );
    assert.equal(m.skip, false);
  });

  test("never skipped with an external recipient while confirmExternal is on (fail closed)", () => {
    for (const skipWhenInternalOnly of [true, false]) {
      const m = buildConfirmModel(
        draft({ recipients: [...internal, bcc("x@partner.example")] }),
        policy({}, { skipWhenInternalOnly }),
        "ja",
      );
      assert.equal(m.skip, false);
    }
  });

  test("confirmExternal off: skipped unless a warning is at confirm or block level", () => {
    const off = policy({}, { confirmExternal: false });
    assert.equal(buildConfirmModel(draft(), off, "ja").skip, true);
    // warn level (large attachment) does not force the dialog …
    const large = draft({ attachments: [{ name: "video.mp4", size: 50 * 1024 * 1024 }] });
    assert.deepEqual(codes(buildConfirmModel(large, off, "ja")), ["large_attachment"]);
    assert.equal(buildConfirmModel(large, off, "ja").skip, true);
    // … confirm level (forgotten attachment) does.
    const forgotten = draft({ body: "資料を添付します。" });
    assert.equal(buildConfirmModel(forgotten, off, "ja").skip, false);
  });

  test("the skip settings never hide a confirm- or block-level warning, internal recipients or not", () => {
    const exe = buildConfirmModel(
      draft({ recipients: internal, attachments: [{ name: "tool.exe", size: 10 }] }),
      policy(),
      "ja",
    );
    assert.equal(exe.blocked, true);
    assert.equal(exe.skip, false);
    const forgotten = buildConfirmModel(
      draft({ recipients: internal, body: "資料を添付します。" }),
      policy(),
      "ja",
    );
    assert.equal(forgotten.skip, false);
  });
});

describe("forgotten attachment", () => {
  const reminders: [string, Partial<Draft>, string][] = [
    ["Japanese body", { body: "お世話になっております。\n資料をお送りしますのでご確認ください。" }, "資料"],
    ["the subject", { subject: "【添付】見積書の件" }, "添付"],
    ["English body", { body: "Please find the report attached." }, "attached"],
    ["full-width upper case", { body: "ＡＴＴＡＣＨＥＤ　ＩＳ　ＴＨＥ　ＬＩＳＴ" }, "attached"],
    ["mixed case", { body: "See the Attachment." }, "attachment"],
    ["half-width katakana", { body: "ﾌｧｲﾙを送ります" }, "ファイル"],
  ];
  for (const [what, change, word] of reminders) {
    test(`${what} mentions "${word}" but nothing is attached → confirm`, () => {
      const m = buildConfirmModel(draft(change), policy(), "ja");
      const [w] = only(m, "attachment_forgotten");
      assert.ok(w, JSON.stringify(m.warnings));
      assert.equal(w.severity, "confirm");
      assert.equal(w.subject, word);
      assert.equal(w.text, `「${word}」と書かれていますが、ファイルが添付されていません。`);
      const en = only(buildConfirmModel(draft(change), policy(), "en"), "attachment_forgotten")[0];
      assert.equal(en?.text, `The message mentions "${word}" but nothing is attached.`);
    });
  }

  test("no warning when something is attached", () => {
    const m = buildConfirmModel(
      draft({ body: "資料を添付します。", attachments: [{ name: "資料.pdf", size: 1 }] }),
      policy(),
      "ja",
    );
    assert.deepEqual(only(m, "attachment_forgotten"), []);
  });

  test("the words come from the policy (none: no check)", () => {
    const body = "Bijlage: zie het verslag. 資料を添付します。";
    assert.deepEqual(
      codes(buildConfirmModel(draft({ body }), policy({}, { attachmentReminderWords: [] }), "ja")),
      [],
    );
    const custom = policy({}, { attachmentReminderWords: ["bijlage"] });
    assert.equal(
      only(buildConfirmModel(draft({ body }), custom, "ja"), "attachment_forgotten")[0]?.subject,
      "bijlage",
    );
  });

  const quoted: [string, string][] = [
    ["> quoted lines", "承知しました。\n\n> 資料を添付します。\n>> attached"],
    ["full-width ＞ quoted lines", "承知しました。\n＞ 資料を添付します。"],
    [
      "Outlook's -----Original Message-----",
      "承知しました。\r\n\r\n-----Original Message-----\r\nFrom: a\r\n資料を添付します。",
    ],
    ["Outlook's -----元のメッセージ-----", "承知しました。\n-----元のメッセージ-----\n資料を添付します。"],
    ["Thunderbird's On … wrote:", "OK.\n\nOn 1/5/26 10:00, Client wrote:\nThe file is attached."],
    [
      "Gmail's wrapped On … wrote:",
      "OK.\n\nOn Mon, Jan 5, 2026 at 10:00 AM Client <\nclient@partner.example> wrote:\n\nThe file is attached.",
    ],
    ["… のメッセージ:", "承知しました。\n\n2026/01/05 10:00 山田 太郎 のメッセージ:\n資料を添付します。"],
    ["… さんは書きました:", "承知しました。\n\n山田 太郎 さんは書きました：\n資料を添付します。"],
    [
      "Gmail's Japanese attribution",
      "承知しました。\n\n2026年1月5日(月) 10:00 山田 <client@partner.example>:\n資料を添付します。",
    ],
    [
      "a forwarded message",
      "ご参考まで。\n\n-------- Forwarded Message --------\nSubject: x\n\nThe file is attached.",
    ],
    ["a Japanese forward", "ご参考まで。\n-------- 転送メッセージ --------\n資料を添付します。"],
    [
      "new Outlook's rule and From:",
      "承知しました。\n\n________________________________\n差出人: 山田\n資料を添付します。",
    ],
  ];
  for (const [what, body] of quoted) {
    test(`a reminder word only in quoted text (${what}) does not count`, () => {
      assert.deepEqual(codes(buildConfirmModel(draft({ body }), policy(), "ja")), []);
      // … while the sender's own first line is kept (the header did not swallow everything).
      const firstLine = normalizeText(body.split(/\r?\n/)[0] ?? "");
      assert.ok(ownText(normalizeText(body)).startsWith(firstLine));
    });
  }

  test("what the sender wrote above the quoted message still counts", () => {
    const body = "資料を添付します。\n\nOn 1/5/26 10:00, Client wrote:\n> Thanks.";
    assert.deepEqual(codes(buildConfirmModel(draft({ body }), policy(), "ja")), ["attachment_forgotten"]);
  });

  test("ownText keeps unquoted lines above the first header, and a rule of underscores in a signature", () => {
    assert.equal(ownText(normalizeText("a\n> b\nc\n-----Original Message-----\nd")), "a\nc");
    assert.equal(ownText("sig\n__________\nname\n"), "sig\n__________\nname\n");
    assert.equal(ownText(""), "");
  });
});

describe("many external recipients → suggest Bcc", () => {
  const ext = (n: number, field: DraftRecipient["field"] = "to") =>
    Array.from({ length: n }, (_, i) => ({ address: `user${i}@client${i % 3}.example`, field }));

  test("distinct external To/Cc at the threshold → suggestBcc and a confirm warning (ja, en)", () => {
    const recipients = [
      ...ext(2),
      cc("user2@client2.example"),
      cc("USER0@client0.example"),
      to("boss@corp.example"),
    ];
    const p = policy({}, { bccSuggestThreshold: 3 });
    const ja = buildConfirmModel(draft({ recipients }), p, "ja");
    assert.equal(ja.suggestBcc, true);
    assert.deepEqual(only(ja, "many_external"), [
      {
        code: "many_external",
        severity: "confirm",
        text: "To / Cc に社外の宛先が 3 件あります。Bcc に変更することをお勧めします。",
      },
    ]);
    const en = buildConfirmModel(draft({ recipients }), p, "en");
    assert.equal(
      only(en, "many_external")[0]?.text,
      "3 external addresses are in To / Cc: consider moving them to Bcc.",
    );
  });

  test("Bcc, internal and semi-internal recipients do not count; below the threshold nothing", () => {
    const recipients = [
      ...ext(2),
      ...ext(5, "bcc").slice(2),
      cc("peer@group.example"),
      to("boss@corp.example"),
    ];
    const m = buildConfirmModel(draft({ recipients }), policy({}, { bccSuggestThreshold: 3 }), "ja");
    assert.equal(m.suggestBcc, false);
    assert.deepEqual(codes(m), []);
  });

  test("a threshold of 0 never suggests", () => {
    const m = buildConfirmModel(draft({ recipients: ext(50) }), policy({}, { bccSuggestThreshold: 0 }), "ja");
    assert.equal(m.suggestBcc, false);
  });
});

describe("new domain in a reply", () => {
  const replyTo = {
    addresses: ["Client <client@Partner.example>", "taro@corp.example", "peer@group.example"],
  };

  test("a recipient domain the replied-to message did not have → confirm (ja, en)", () => {
    const recipients = [to("client@partner.example"), cc("someone@other.example"), bcc("x@third.example")];
    const ja = buildConfirmModel(draft({ recipients, replyTo }), policy(), "ja");
    assert.deepEqual(only(ja, "new_domain"), [
      {
        code: "new_domain",
        severity: "confirm",
        text: "other.example は返信元のメールの差出人・宛先になかったドメインです。",
        subject: "other.example",
      },
      {
        code: "new_domain",
        severity: "confirm",
        text: "third.example は返信元のメールの差出人・宛先になかったドメインです。",
        subject: "third.example",
      },
    ]);
    const en = buildConfirmModel(draft({ recipients, replyTo }), policy(), "en");
    assert.equal(
      only(en, "new_domain")[0]?.text,
      "other.example was not among the sender and recipients of the message you reply to.",
    );
  });

  test("colleagues may be added; semi-internal domains are new domains too", () => {
    const recipients = [to("client@partner.example"), cc("new@sales.corp.example"), cc("x@group2.example")];
    const p = policy({
      domains: { internal: ["corp.example", "*.corp.example"], semiInternal: ["group2.example"] },
    });
    const m = buildConfirmModel(draft({ recipients, replyTo }), p, "ja");
    assert.deepEqual(
      only(m, "new_domain").map((w) => w.subject),
      ["group2.example"],
    );
  });

  test("nothing when not a reply, when the policy is off, or when the original's addresses are unknown", () => {
    const recipients = [to("someone@other.example")];
    assert.deepEqual(codes(buildConfirmModel(draft({ recipients }), policy(), "ja")), []);
    assert.deepEqual(
      codes(
        buildConfirmModel(draft({ recipients, replyTo }), policy({}, { warnNewDomainInReply: false }), "ja"),
      ),
      [],
    );
    assert.deepEqual(
      codes(buildConfirmModel(draft({ recipients, replyTo: { addresses: [] } }), policy(), "ja")),
      [],
    );
  });
});

describe("unsafe domains, words and file types", () => {
  test("domains: exact and *.subdomain patterns, the strongest matching action wins (ja, en)", () => {
    const p = policy(
      {},
      {
        unsafeDomains: [
          { domain: "free-mail.example", action: "warn" },
          { domain: "*.evil.example", action: "confirm" },
          { domain: "*.evil.example", action: "block" },
        ],
      },
    );
    const recipients = [to("a@free-mail.example"), cc("b@mx.evil.example"), cc("c@evil.example")];
    const ja = buildConfirmModel(draft({ recipients }), p, "ja");
    assert.deepEqual(
      ja.warnings.map((w) => [w.code, w.severity, w.subject]),
      [
        ["unsafe_domain", "block", "mx.evil.example"],
        ["unsafe_domain", "warn", "free-mail.example"],
      ],
    );
    assert.equal(ja.blocked, true);
    assert.equal(
      ja.warnings[0]?.text,
      "宛先のドメイン mx.evil.example は注意が必要なドメインとして登録されています。組織のポリシーにより、このままでは送信できません。",
    );
    const en = buildConfirmModel(draft({ recipients }), p, "en");
    assert.equal(
      en.warnings[0]?.text,
      "The recipient domain mx.evil.example is on your organisation's caution list. Your organisation's policy does not allow sending it as it is.",
    );
    assert.equal(
      en.warnings[1]?.text,
      "The recipient domain free-mail.example is on your organisation's caution list.",
    );
  });

  test("words: subject and the whole body (quoted text is sent too), full-width and case-insensitive", () => {
    const p = policy(
      {},
      {
        unsafeWords: [
          { word: "極秘", action: "confirm" },
          { word: "Confidential", action: "warn" },
          { word: "マイナンバー", action: "block" },
          { word: "unused", action: "block" },
        ],
      },
    );
    const d = draft({
      subject: "【極秘】人事の件",
      body: "OK\n> ＣＯＮＦＩＤＥＮＴＩＡＬ: マイナンバー一覧",
    });
    const ja = buildConfirmModel(d, p, "ja");
    assert.deepEqual(
      ja.warnings.map((w) => [w.code, w.severity, w.subject]),
      [
        ["unsafe_word", "block", "マイナンバー"],
        ["unsafe_word", "confirm", "極秘"],
        ["unsafe_word", "warn", "Confidential"],
      ],
    );
    assert.equal(ja.warnings[1]?.text, "件名または本文に注意が必要な語句「極秘」が含まれています。");
    const en = buildConfirmModel(d, p, "en");
    assert.equal(
      en.warnings[2]?.text,
      'The subject or body contains "Confidential", which your organisation flags.',
    );
  });

  const files: [string, string | null][] = [
    ["setup.EXE", "block"],
    ["invoice.pdf.exe", "block"],
    ["invoice.exe.", "block"],
    ["invoice.exe  ", "block"],
    ["ｒｕｎ．ｂａｔ", "block"],
    ["script.js", "confirm"],
    ["data.json", null],
    ["notexe", null],
    ["exe", null],
    ["backup.tar.gz", "warn"],
    ["backup.gz", null],
  ];
  for (const [name, severity] of files) {
    test(`file type of ${JSON.stringify(name)} → ${severity ?? "no warning"}`, () => {
      const p = policy(
        {},
        {
          unsafeFileTypes: [
            { extension: "exe", action: "block" },
            { extension: ".BAT", action: "block" },
            { extension: "js", action: "confirm" },
            { extension: "tar.gz", action: "warn" },
          ],
        },
      );
      const m = buildConfirmModel(draft({ attachments: [{ name, size: 100 }] }), p, "ja");
      const w = only(m, "unsafe_file_type");
      assert.deepEqual(
        w.map((x) => x.severity),
        severity ? [severity] : [],
      );
      assert.equal(m.blocked, severity === "block");
      if (w[0]) assert.equal(w[0].subject, name);
    });
  }

  test("file type texts name the file and the extension (ja, en)", () => {
    const d = draft({ attachments: [{ name: "tool.exe", size: 100 }] });
    assert.equal(
      only(buildConfirmModel(d, policy(), "ja"), "unsafe_file_type")[0]?.text,
      "添付ファイル tool.exe は注意が必要な種類 (.exe) のファイルです。組織のポリシーにより、このままでは送信できません。",
    );
    assert.equal(
      only(buildConfirmModel(d, policy(), "en"), "unsafe_file_type")[0]?.text,
      "The attachment tool.exe is of a flagged file type (.exe). Your organisation's policy does not allow sending it as it is.",
    );
  });

  test("an action the add-in does not know is treated as confirm", () => {
    const p = policy({}, { unsafeWords: [{ word: "x-secret", action: "quarantine" as "warn" }] });
    const m = buildConfirmModel(draft({ body: "x-secret" }), p, "ja");
    assert.equal(m.warnings[0]?.severity, "confirm");
  });
});

describe("attachments: size, large, unknown size, what the gateway will do", () => {
  test("a large attachment (size ≥ largeAttachmentBytes) → warn with its size (ja, en)", () => {
    const p = policy({}, { largeAttachmentBytes: 1024 * 1024 });
    const attachments = [
      { name: "big.zip", size: 1024 * 1024 },
      { name: "small.txt", size: 1024 * 1024 - 1 },
    ];
    const ja = buildConfirmModel(draft({ attachments }), p, "ja");
    assert.deepEqual(only(ja, "large_attachment"), [
      {
        code: "large_attachment",
        severity: "warn",
        text: "添付ファイル big.zip は大きなファイルです (1.0 MB)。",
        subject: "big.zip",
      },
    ]);
    const en = buildConfirmModel(draft({ attachments }), p, "en");
    assert.equal(only(en, "large_attachment")[0]?.text, "The attachment big.zip is large (1.0 MB).");
    assert.deepEqual(
      codes(buildConfirmModel(draft({ attachments }), policy({}, { largeAttachmentBytes: 0 }), "ja")),
      [],
    );
  });

  test("an unknown size (-1) does not crash, is not large, and reads 'size unknown'", () => {
    const attachments = [{ name: "image.png", size: -1 }];
    const ja = buildConfirmModel(draft({ attachments }), policy({}, { largeAttachmentBytes: 1 }), "ja");
    assert.deepEqual(ja.attachments, [
      { name: "image.png", size: -1, sizeText: "サイズ不明", mustTick: true },
    ]);
    assert.deepEqual(codes(ja), []);
    assert.equal(
      buildConfirmModel(draft({ attachments }), policy(), "en").attachments[0]?.sizeText,
      "size unknown",
    );
  });

  const plan = (m: ConfirmModel) => m.attachmentPlan.map((l) => l.text);

  test("what happens to the attachments, per recipient group (ja, en); nothing without attachments", () => {
    const p = policy({ attachmentAction: "web_download" });
    const d = draft({
      recipients: [
        to("hanako@corp.example"),
        to("a@partner.example"),
        cc("b@zeta.example"),
        to("c@group.example"),
      ],
      attachments: [{ name: "a.pdf", size: 1536 }],
    });
    const ja = buildConfirmModel(d, p, "ja");
    assert.deepEqual(ja.attachments, [{ name: "a.pdf", size: 1536, sizeText: "1.5 KB", mustTick: true }]);
    assert.deepEqual(plan(ja), [
      "社内: そのまま",
      "グループ会社 (group.example): Web ダウンロードに変換 (受信者はダウンロードページから受け取ります)",
      "社外 (partner.example, zeta.example): Web ダウンロードに変換 (受信者はダウンロードページから受け取ります)",
    ]);
    assert.deepEqual(codes(ja), [], "said in the attachment lines, not as a warning");
    assert.deepEqual(plan(buildConfirmModel(d, p, "en")), [
      "Internal: as they are",
      "Group companies (group.example): converted to a web download (fetched from a download page)",
      "External (partner.example, zeta.example): converted to a web download (fetched from a download page)",
    ]);
    assert.deepEqual(plan(buildConfirmModel({ ...d, attachments: [] }, p, "ja")), []);
    const internal = buildConfirmModel({ ...d, recipients: [to("hanako@corp.example")] }, p, "ja");
    assert.deepEqual(plan(internal), ["社内: そのまま"]);
  });

  test("rules choose per recipient as the gateway's do: a domain, an address, colleagues too", () => {
    const p = policy({
      attachmentAction: "web_download",
      attachmentRules: [
        { name: "partner zip", recipientDomain: ["partner.jp"], action: "encrypt_zip", conditional: false },
        { name: "boss plain", recipientAddress: ["boss@*"], action: "pass", conditional: false },
        { name: "internal too", recipientClass: ["internal"], action: "web_download", conditional: false },
      ],
    });
    const d = draft({
      recipients: [
        to("hanako@corp.example"),
        to("a@example.com"),
        to("b@partner.jp"),
        to("boss@example.com"),
      ],
      attachments: [{ name: "a.pdf", size: 10 }],
    });
    assert.deepEqual(plan(buildConfirmModel(d, p, "ja")), [
      "社内: Web ダウンロードに変換 (受信者はダウンロードページから受け取ります)",
      "社外 (example.com): Web ダウンロードに変換 (受信者はダウンロードページから受け取ります)",
      "社外 (example.com): そのまま",
      "社外 (partner.jp): 暗号化 ZIP に変換 (パスワードは別のメールで)",
    ]);
  });

  test("a rule decided on the message says 'if'; TLS exemption is said (ja, en)", () => {
    const p = policy({
      attachmentAction: "pass",
      attachmentUnlessTls: "verified",
      attachmentRules: [
        { name: "large", recipientClass: ["external"], action: "web_download", conditional: true },
      ],
    });
    const d = draft({ attachments: [{ name: "a.pdf", size: 10 }] });
    assert.deepEqual(plan(buildConfirmModel(d, p, "ja")), [
      "社外 (partner.example): そのまま。ルール「large」の条件に当てはまれば Web ダウンロードに変換 (受信者はダウンロードページから受け取ります)",
    ]);
    const zip = policy({ attachmentAction: "encrypt_zip", attachmentUnlessTls: "offered" });
    assert.deepEqual(plan(buildConfirmModel(d, zip, "en")), [
      "External (partner.example): sent as an encrypted ZIP (password in a separate mail) (as they are if the recipient's mail server has TLS)",
    ]);
  });

  const sizes: [number, string][] = [
    [0, "0 B"],
    [1023, "1023 B"],
    [1024, "1.0 KB"],
    [1536, "1.5 KB"],
    [1024 * 1024 - 1, "1.0 MB"],
    [Math.round(1.2 * 1024 * 1024), "1.2 MB"],
    [350 * 1024 * 1024, "350 MB"],
    [5 * 1024 ** 4, "5.0 TB"],
    [-1, "size unknown"],
    [Number.NaN, "size unknown"],
  ];
  for (const [bytes, text] of sizes) {
    test(`formatSize(${bytes}) = ${text}`, () => assert.equal(formatSize(bytes, "en"), text));
  }
});

describe("warnings overall", () => {
  // Two drafts that between them raise every warning (with each attachment action in turn).
  const everything = (attachmentAction: ClientPolicy["attachmentAction"]) => {
    const p = policy(
      { attachmentAction },
      {
        bccSuggestThreshold: 3,
        unsafeDomains: [{ domain: "evil.example", action: "warn" }],
        unsafeWords: [{ word: "極秘", action: "confirm" }],
      },
    );
    return [
      draft({
        recipients: [
          to("a@partner.example"),
          to("b@partner.example"),
          to("c@evil.example"),
          { address: "all@corp.example", name: "全社員", field: "cc", list: true },
        ],
        subject: "極秘",
        body: "資料は別途お送りします。",
        replyTo: { addresses: ["a@partner.example"] },
      }),
      draft({ attachments: [{ name: "tool.js", size: 20 * 1024 * 1024 }] }),
    ].map((d) => ({ d, p }));
  };

  test("every code, in both languages, has its placeholders filled; Japanese text is Japanese", () => {
    const seen = new Set<string>();
    for (const action of ["web_download", "encrypt_zip"] as const) {
      for (const { d, p } of everything(action)) {
        for (const lang of ["ja", "en"] as const) {
          for (const w of buildConfirmModel(d, p, lang).warnings) {
            seen.add(w.code);
            assert.doesNotMatch(w.text, /\{\w+\}/, w.text);
            if (lang === "ja") assert.match(w.text, /[^ -~]/, w.text);
          }
        }
      }
    }
    assert.deepEqual([...seen].sort(), [
      "attachment_forgotten",
      "distribution_list",
      "large_attachment",
      "many_external",
      "new_domain",
      "unsafe_domain",
      "unsafe_file_type",
      "unsafe_word",
    ]);
  });

  test("most severe first; recipients, then content, then attachments within a severity", () => {
    const [first] = everything("web_download");
    assert.ok(first);
    assert.deepEqual(codes(buildConfirmModel(first.d, first.p, "en")), [
      "new_domain",
      "many_external",
      "unsafe_word",
      "attachment_forgotten",
      "unsafe_domain",
      "distribution_list",
    ]);
  });
});

describe("hold notice", () => {
  test("from the policy's hold, in ja and en; 1 minute is singular; 0 → empty", () => {
    assert.equal(
      buildConfirmModel(draft(), policy(), "ja").holdNotice,
      "送信してから 5 分以内なら取り消せます。",
    );
    assert.equal(
      buildConfirmModel(draft(), policy(), "en").holdNotice,
      "You can undo for 5 minutes after sending.",
    );
    const one = policy({ hold: { internal: 1, semiInternal: 1, external: 1 }, holdMinutes: 1 });
    assert.equal(
      buildConfirmModel(draft(), one, "en").holdNotice,
      "You can undo for 1 minute after sending.",
    );
    const zero = policy({ hold: { internal: 0, semiInternal: 0, external: 0 }, holdMinutes: 0 });
    assert.equal(buildConfirmModel(draft(), zero, "ja").holdNotice, "");
  });

  test("the shortest hold of the recipient classes present: the undo promise must hold for everyone", () => {
    const p = policy({ hold: { internal: 0, semiInternal: 10, external: 60 }, holdMinutes: 60 });
    const ext = buildConfirmModel(draft(), p, "en");
    assert.equal(ext.holdNotice, "You can undo for 1 hour after sending.");
    const mixed = buildConfirmModel(
      draft({ recipients: [to("x@partner.example"), cc("p@group.example")] }),
      p,
      "en",
    );
    assert.equal(mixed.holdNotice, "You can undo for 10 minutes after sending.");
    const withInternal = buildConfirmModel(
      draft({ recipients: [to("x@partner.example"), cc("b@corp.example")] }),
      p,
      "en",
    );
    assert.equal(withInternal.holdNotice, "");
    const half = policy({ hold: { internal: 0.5, semiInternal: 0.5, external: 0.5 }, holdMinutes: 0.5 });
    assert.equal(
      buildConfirmModel(draft(), half, "en").holdNotice,
      "You can undo for 30 seconds after sending.",
    );
  });

  test("durations as people say them, never fractions of a minute", () => {
    const cases: [minutes: number, ja: string, en: string][] = [
      [0.1, "6 秒", "6 seconds"],
      [1, "1 分", "1 minute"],
      [5, "5 分", "5 minutes"],
      [1.5, "1 分 30 秒", "1 minute 30 seconds"],
      [90, "1 時間 30 分", "1 hour 30 minutes"],
      [120, "2 時間", "2 hours"],
      [0.001, "0 秒", "0 seconds"],
    ];
    for (const [minutes, ja, en] of cases) {
      assert.equal(formatDuration(minutes, "ja"), ja);
      assert.equal(formatDuration(minutes, "en"), en);
    }
    const tenth = policy({ hold: { internal: 0.1, semiInternal: 0.1, external: 0.1 }, holdMinutes: 0.1 });
    assert.equal(
      buildConfirmModel(draft(), tenth, "ja").holdNotice,
      "送信してから 6 秒以内なら取り消せます。",
    );
  });
});

describe("convertExternalToBcc", () => {
  test("external To/Cc move to Bcc; internal and semi-internal stay; the draft passed in is unchanged", () => {
    const d = draft({
      recipients: [
        to("boss@corp.example"),
        to("a@partner.example"),
        cc("p@group.example"),
        cc("b@other.example"),
      ],
      attachments: [{ name: "a.pdf", size: 1 }],
    });
    const before = JSON.stringify(d);
    const out = convertExternalToBcc(d, policy());
    assert.equal(JSON.stringify(d), before);
    assert.deepEqual(out.recipients, [
      to("boss@corp.example"),
      bcc("a@partner.example"),
      cc("p@group.example"),
      bcc("b@other.example"),
    ]);
    assert.deepEqual({ ...out, recipients: [] }, { ...d, recipients: [] });
    assert.notEqual(out.attachments, d.attachments);
    const after = buildConfirmModel(out, policy({}, { bccSuggestThreshold: 2 }), "ja");
    assert.equal(after.suggestBcc, false);
    assert.equal(buildConfirmModel(d, policy({}, { bccSuggestThreshold: 2 }), "ja").suggestBcc, true);
  });

  test("when To is left empty, the sender goes into To (with the name from From)", () => {
    const out = convertExternalToBcc(
      draft({ recipients: [to("a@partner.example"), cc("b@other.example"), cc("boss@corp.example")] }),
      policy(),
    );
    assert.deepEqual(out.recipients, [
      { address: "taro@corp.example", name: "Taro Yamada", field: "to" },
      bcc("a@partner.example"),
      bcc("b@other.example"),
      cc("boss@corp.example"),
    ]);
  });

  test("an address already in Bcc, or in both To and Cc, ends up in Bcc once", () => {
    const out = convertExternalToBcc(
      draft({
        from: "taro@corp.example",
        recipients: [
          bcc("A@partner.example"),
          to("a@partner.example"),
          cc("c@partner.example"),
          to("c@partner.example"),
        ],
      }),
      policy(),
    );
    assert.deepEqual(out.recipients, [
      to("taro@corp.example"),
      bcc("A@partner.example"),
      bcc("c@partner.example"),
    ]);
  });

  test("nothing external in To/Cc: the recipients stay as they are and no sender is added", () => {
    const recipients = [cc("boss@corp.example"), bcc("a@partner.example")];
    assert.deepEqual(convertExternalToBcc(draft({ recipients }), policy()).recipients, recipients);
  });
});

describe("readyToSend", () => {
  const m = buildConfirmModel(
    draft({
      recipients: [to("A@partner.example"), cc("boss@corp.example"), cc("b@other.example")],
      attachments: [
        { name: "見積書.pdf", size: 10 },
        { name: "見積書.pdf", size: 20 },
        { name: "仕様書.docx", size: -1 },
      ],
    }),
    policy(),
    "ja",
  );

  test("lists what is still to be ticked, in dialog order", () => {
    const r = readyToSend(m, {
      recipients: new Set(["b@other.example"]),
      attachments: new Set(["仕様書.docx"]),
    });
    assert.deepEqual(r, { ok: false, missing: ["A@partner.example", "見積書.pdf"] });
    assert.deepEqual(readyToSend(m, { recipients: new Set(), attachments: new Set() }).missing, [
      "b@other.example",
      "A@partner.example",
      "見積書.pdf",
      "仕様書.docx",
    ]);
  });

  test("ok once everything is ticked; addresses compare case-insensitively", () => {
    const r = readyToSend(m, {
      recipients: new Set(["a@PARTNER.example", "b@other.example"]),
      attachments: new Set(["見積書.pdf", "仕様書.docx"]),
    });
    assert.deepEqual(r, { ok: true, missing: [] });
  });

  test("never ok while blocked", () => {
    const blocked = buildConfirmModel(
      draft({ recipients: [to("boss@corp.example")], attachments: [{ name: "x.exe", size: 1 }] }),
      policy(),
      "ja",
    );
    assert.deepEqual(readyToSend(blocked, { recipients: new Set(), attachments: new Set(["x.exe"]) }), {
      ok: false,
      missing: [],
    });
  });
});

describe("FALLBACK_CLIENT_POLICY", () => {
  test("fail closed: every recipient is external and must be ticked; nothing is skipped", () => {
    const d = draft({
      recipients: [to("boss@corp.example"), cc("a@partner.example")],
      attachments: [{ name: "a.pdf", size: 1 }],
    });
    const m = buildConfirmModel(d, FALLBACK_CLIENT_POLICY, "ja");
    assert.equal(m.skip, false);
    assert.deepEqual(
      m.groups.map((g) => g.class),
      ["external"],
    );
    assert.deepEqual(m.mustTick, ["boss@corp.example", "a@partner.example"]);
    assert.equal(m.attachments[0]?.mustTick, true);
    assert.equal(m.allowTickAll, false);
    assert.equal(m.holdNotice, "", "no undo is promised when the gateway's hold is unknown");
    assert.deepEqual(codes(m), []);
  });

  test("the checks are the policy defaults (only skipWhenInternalOnly differs)", () => {
    const defaults = presetPolicy("standard").client;
    assert.deepEqual({ ...FALLBACK_CLIENT_POLICY.client, skipWhenInternalOnly: true }, defaults);
  });

  test("frozen, so no caller can weaken it for the next send", () => {
    assert.throws(() => {
      (FALLBACK_CLIENT_POLICY.client as { confirmExternal: boolean }).confirmExternal = false;
    }, TypeError);
    assert.throws(() => FALLBACK_CLIENT_POLICY.client.unsafeFileTypes.pop(), TypeError);
    assert.equal(FALLBACK_CLIENT_POLICY.client.confirmExternal, true);
  });
});

describe("speed", () => {
  test("200 recipients and 10 attachments build in well under 50 ms", () => {
    const recipients: DraftRecipient[] = Array.from({ length: 200 }, (_, i) => ({
      address: `user${i}@${i % 4 === 0 ? "corp.example" : `client${i % 37}.example`}`,
      name: `ユーザー ${i}`,
      field: i % 3 === 0 ? "cc" : i % 7 === 0 ? "bcc" : "to",
    }));
    const d = draft({
      recipients,
      attachments: Array.from({ length: 10 }, (_, i) => ({ name: `資料${i}.pdf`, size: i * 1_000_000 - 1 })),
      body:
        "お世話になっております。\n".repeat(2000) + "-----Original Message-----\n" + "> 資料\n".repeat(2000),
      replyTo: { addresses: recipients.slice(0, 100).map((r) => r.address) },
    });
    const p = policy(
      { attachmentAction: "web_download" },
      {
        unsafeDomains: Array.from({ length: 50 }, (_, i) => ({
          domain: `*.bad${i}.example`,
          action: "warn" as const,
        })),
        unsafeWords: Array.from({ length: 50 }, (_, i) => ({ word: `秘密${i}`, action: "confirm" as const })),
      },
    );
    buildConfirmModel(d, p, "ja"); // warm-up: regular expressions, JIT
    const start = performance.now();
    const m = buildConfirmModel(d, p, "ja");
    const ms = performance.now() - start;
    assert.ok(ms < 50, `${ms.toFixed(1)} ms`);
    assert.equal(m.mustTick.length, 150);
    assert.equal(m.attachments.length, 10);
  });
});
