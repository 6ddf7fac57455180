// The policy language shared by the add-ins and the gateway. A policy document sets some keys for
// one scope (organisation, group, user); the effective policy of a sender is the merge of the preset,
// the organisation's, their groups' and their own documents.
import { z } from "zod";
import { compilePolicyRegex } from "../rules/regex.js";

const minutes = z
  .number()
  .min(0, "expected minutes ≥ 0")
  .max(10080, "expected at most 10080 minutes (7 days)");
const bytes = z.number().int().min(1, "expected a number of bytes ≥ 1");
const lower = (s: string) => s.toLowerCase();

export const domainPattern = z
  .string()
  .regex(
    /^!?(\*\.)?[a-z0-9][a-z0-9.-]*$/i,
    "expected a domain, *.domain (its subdomains) or !domain (excluded)",
  )
  .transform(lower);

/** An address, or a wildcard pattern with * such as "*@corp.example" or "new-*@corp.example". */
export const addressPattern = z
  .string()
  .regex(/^[^\s<>@]+@[^\s<>@]+$/, "expected an address or a pattern such as *@example.co.jp")
  .transform(lower);

const email = z
  .string()
  .regex(/^[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+$/, "expected an e-mail address")
  .transform(lower);

/** A text shown to people: one string for both languages, or {ja, en}. */
export const localized = z.union([
  z.string().min(1),
  z.strictObject({ ja: z.string().min(1), en: z.string().min(1) }),
]);
export type Localized = z.infer<typeof localized>;

/** Compiled by the engine that matches it (RE2: linear time), so what is stored also runs. */
const regex = z
  .string()
  .min(1)
  .max(1000)
  .superRefine((source, ctx) => {
    const compiled = compilePolicyRegex(source);
    if (!compiled.ok)
      ctx.addIssue({
        code: "custom",
        message: `expected a valid regular expression (RE2 syntax, matched case-insensitively): ${compiled.error}`,
      });
  });

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "expected HH:MM on a 24-hour clock, e.g. 19:00");
export const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
export type Weekday = (typeof WEEKDAYS)[number];
const recipientClass = z.enum(["internal", "semi_internal", "external"]);
const words = z.array(z.string().min(1)).min(1);

/**
 * Why part of a message's content was not seen by the rules: the text limit cut it (truncated),
 * the analysis ran out of time, a size, expansion, nesting or entry-count limit stopped the look
 * (too_large), it could not be parsed (unreadable), it needs a password (encrypted), or its format
 * is not read (unsupported: legacy .doc/.xls/.ppt, 7z, RAR).
 */
export const ANALYSIS_GAP_REASONS = [
  "truncated",
  "timeout",
  "too_large",
  "unreadable",
  "encrypted",
  "unsupported",
] as const;
export type AnalysisGapReason = (typeof ANALYSIS_GAP_REASONS)[number];

export const conditionsSchema = z.strictObject({
  sender: z.array(addressPattern).min(1).optional(),
  senderGroup: z.array(z.string().min(1)).min(1).optional(),
  recipientClass: z.array(recipientClass).min(1).optional(),
  recipientDomain: z.array(domainPattern).min(1).optional(),
  recipientAddress: z.array(addressPattern).min(1).optional(),
  externalToCcAtLeast: z.number().int().min(1).optional(),
  /** Someone other than the sender is in To or Cc. */
  toCcOtherThanSender: z.boolean().optional(),
  /** In the organisation's timezone; from > to spans midnight. Days are those of the start time. */
  timeWindow: z
    .strictObject({ from: hhmm, to: hhmm, days: z.array(z.enum(WEEKDAYS)).min(1).optional() })
    .optional(),
  subjectContains: words.optional(),
  subjectMatches: regex.optional(),
  bodyContains: words.optional(),
  bodyMatches: regex.optional(),
  /** Body and the text of attachments together. */
  contentContains: words.optional(),
  contentMatches: regex.optional(),
  attachmentCountAtLeast: z.number().int().min(1).optional(),
  attachmentName: z.array(z.string().min(1)).min(1).optional(),
  attachmentExtension: z
    .array(
      z
        .string()
        .regex(/^\.?[a-z0-9]+$/i, "expected an extension such as xlsx")
        .transform((e) => lower(e.replace(/^\./, ""))),
    )
    .min(1)
    .optional(),
  attachmentSizeAtLeast: bytes.optional(),
  attachmentEncrypted: z.boolean().optional(),
  messageSizeAtLeast: bytes.optional(),
  /** Part of the content the rules look at was not seen (true: for any reason; or these reasons). */
  analysisIncomplete: z
    .union([z.literal(true), z.array(z.enum(ANALYSIS_GAP_REASONS)).min(1, "name at least one reason")], {
      error: `expected true or a list of reasons: ${ANALYSIS_GAP_REASONS.join(", ")}`,
    })
    .optional(),
  /** Matches when any listed kind reaches its count in body and attachments together. */
  piiAtLeast: z
    .strictObject({
      phone: z.number().int().min(1).optional(),
      postal_address: z.number().int().min(1).optional(),
      my_number: z.number().int().min(1).optional(),
      credit_card: z.number().int().min(1).optional(),
      email: z.number().int().min(1).optional(),
    })
    .refine(
      (p) => Object.keys(p).length > 0,
      "name at least one of phone, postal_address, my_number, credit_card, email",
    )
    .optional(),
});
export type Conditions = z.infer<typeof conditionsSchema>;

export const attachmentActionSchema = z.enum(["pass", "encrypt_zip", "web_download"]);

export const actionsSchema = z
  .strictObject({
    reject: z.strictObject({ reason: localized }).optional(),
    approve: z.strictObject({ approvers: z.array(email).min(1).optional() }).optional(),
    hold: z.strictObject({ minutes }).optional(),
    delayExternal: z.strictObject({ minutes }).optional(),
    forceBcc: z.strictObject({ to: z.enum(["sender", "undisclosed"]).default("sender") }).optional(),
    addBcc: z.strictObject({ addresses: z.array(email).min(1) }).optional(),
    attachments: z.strictObject({ action: attachmentActionSchema }).optional(),
  })
  .refine(
    (a) => Object.keys(a).length > 0,
    "name at least one action: reject, approve, hold, delayExternal, forceBcc, addBcc, attachments",
  );
export type Actions = z.infer<typeof actionsSchema>;

export const ruleSchema = z.strictObject({
  name: z.string().min(1).max(100),
  description: z.string().max(1000).optional(),
  enabled: z.boolean().default(true),
  when: conditionsSchema.default({}),
  then: actionsSchema,
});
export type Rule = z.infer<typeof ruleSchema>;

const severity = z.enum(["warn", "confirm", "block"]);

/** What the add-ins do before Send (read through GET /api/v1/policy). */
export const clientSchema = z.strictObject({
  confirmExternal: z.boolean().optional(),
  skipWhenInternalOnly: z.boolean().optional(),
  requireTickEachExternal: z.boolean().optional(),
  allowTickAll: z.boolean().optional(),
  bccSuggestThreshold: z.number().int().min(0).optional(),
  attachmentReminderWords: z.array(z.string().min(1)).optional(),
  warnNewDomainInReply: z.boolean().optional(),
  largeAttachmentBytes: z.number().int().min(0).optional(),
  unsafeDomains: z.array(z.strictObject({ domain: domainPattern, action: severity })).optional(),
  unsafeWords: z.array(z.strictObject({ word: z.string().min(1), action: severity })).optional(),
  unsafeFileTypes: z
    .array(z.strictObject({ extension: z.string().min(1).transform(lower), action: severity }))
    .optional(),
});

export const PRESETS = ["standard", "self"] as const;
export type PresetName = (typeof PRESETS)[number];

/** One scope's document: every key optional. */
export const policyDocumentSchema = z.strictObject({
  preset: z.enum(PRESETS).optional(),
  domains: z
    .strictObject({
      internal: z.array(domainPattern).optional(),
      semiInternal: z.array(domainPattern).optional(),
    })
    .optional(),
  hold: z
    .strictObject({
      internal: minutes.optional(),
      semiInternal: minutes.optional(),
      external: minutes.optional(),
    })
    .optional(),
  delay: z.strictObject({ semiInternal: minutes.optional(), external: minutes.optional() }).optional(),
  forcedBcc: z
    .strictObject({
      threshold: z.number().int().min(0).optional(),
      to: z.enum(["sender", "undisclosed"]).optional(),
    })
    .optional(),
  attachments: z
    .strictObject({
      /** For recipients outside the organisation; rules choose per recipient. */
      action: attachmentActionSchema.optional(),
      /** A copy to a domain whose mail server offers (or verifiably offers) TLS keeps its files. */
      unlessTls: z.enum(["offered", "verified"]).nullable().optional(),
      zip: z.strictObject({ encryption: z.enum(["aes256", "zipcrypto"]).optional() }).optional(),
      password: z
        .strictObject({
          length: z.number().int().min(8).max(64).optional(),
          /** Who gets the password, in a mail of its own once the message has gone. */
          notify: z.enum(["recipients", "sender"]).optional(),
          delayMinutes: minutes.optional(),
        })
        .optional(),
      download: z
        .strictObject({
          /** password: one sent apart (password.notify); code: a one-time code mailed at download time. */
          auth: z.enum(["password", "code"]).optional(),
          expiryDays: z.number().min(0.01).max(90).optional(),
          /** Per link; 0: no limit. */
          maxDownloads: z.number().int().min(0).max(1000).optional(),
          /** "[ダウンロード通知]" to the sender at the first download of each recipient's link. */
          notifySender: z.boolean().optional(),
        })
        .optional(),
      /**
       * S/MIME or PGP messages with attachments cannot be rewritten: their copies go as they are
       * (pass), only once an approver agrees (approval), or the message is refused at intake (reject).
       */
      signedMessages: z.enum(["pass", "approval", "reject"]).optional(),
    })
    .optional(),
  approval: z
    .strictObject({
      approvers: z.array(email).optional(),
      groupApprovers: z.record(z.string().min(1), z.array(email)).optional(),
      useManager: z.boolean().optional(),
      timeoutMinutes: z.number().min(0.05, "expected at least 0.05 minutes").max(43200).optional(),
      timeoutAction: z.enum(["deny", "approve"]).optional(),
      allowSelfApproval: z.boolean().optional(),
    })
    .optional(),
  rules: z.array(ruleSchema).max(500).optional(),
  client: clientSchema.optional(),
  /** Dotted keys ("hold.external", "rules") that groups and users below this scope cannot change. */
  locks: z
    .array(z.string().regex(/^[a-zA-Z]+(\.[a-zA-Z]+)*$/, "expected a dotted key such as hold.external"))
    .optional(),
});
export type PolicyDocument = z.infer<typeof policyDocumentSchema>;
