// The effective policy (every key set), the presets, and the merge of scoped documents with locks.
import type { z } from "zod";
import { clientDefaults } from "./defaults.js";
import {
  clientSchema,
  policyDocumentSchema,
  type PolicyDocument,
  type PresetName,
  type Rule,
} from "./schema.js";

export type ClientSettings = Required<z.output<typeof clientSchema>>;
export type AttachmentAction = "pass" | "encrypt_zip" | "web_download";

/** How attachments are handled (policy.md "Attachments"). */
export interface AttachmentSettings {
  /** For recipients outside the organisation; rules choose per recipient. */
  action: AttachmentAction;
  /** A copy to a domain whose mail server offers (or verifiably offers) TLS keeps its files. */
  unlessTls: "offered" | "verified" | null;
  zip: { encryption: "aes256" | "zipcrypto" };
  password: { length: number; notify: "recipients" | "sender"; delayMinutes: number };
  download: { auth: "password" | "code"; expiryDays: number; maxDownloads: number; notifySender: boolean };
  signedMessages: "pass" | "approval" | "reject";
}

export interface EffectivePolicy {
  preset: PresetName;
  domains: { internal: string[]; semiInternal: string[] };
  /** Minutes each recipient class is held before release. */
  hold: { internal: number; semiInternal: number; external: number };
  /** Extra minutes after the internal copies went out. */
  delay: { semiInternal: number; external: number };
  /** At this many external To/Cc addresses (0: never) the delivered copy shows no external To/Cc. */
  forcedBcc: { threshold: number; to: "sender" | "undisclosed" };
  attachments: AttachmentSettings;
  approval: {
    approvers: string[];
    groupApprovers: Record<string, string[]>;
    useManager: boolean;
    timeoutMinutes: number;
    timeoutAction: "deny" | "approve";
    allowSelfApproval: boolean;
  };
  /**
   * The preset's own rules, evaluated before `rules`. A rule in `rules` with the same name
   * replaces one (with `enabled: false`, removes it); documents cannot set this list otherwise.
   */
  presetRules: Rule[];
  rules: Rule[];
  client: ClientSettings;
  locks: string[];
}

/**
 * Fail closed when the rules could not see all of the content they look at (a slow or large PDF,
 * the text limit, an encrypted or unreadable file): an approver looks at the message instead.
 * Only "self" has it: "standard" has no rules that read content, so nothing can be hidden there.
 */
export const ANALYSIS_INCOMPLETE_RULE: Rule = {
  name: "analysis-incomplete",
  description:
    "Part of the content that rules look at could not be read (limit, timeout, password, format): approval",
  enabled: true,
  when: { analysisIncomplete: true },
  then: { approve: {} },
};

function base(preset: PresetName): EffectivePolicy {
  return {
    preset,
    domains: { internal: [], semiInternal: [] },
    hold: { internal: 5, semiInternal: 5, external: 5 },
    delay: { semiInternal: 0, external: 0 },
    forcedBcc: { threshold: 10, to: "sender" },
    attachments: {
      action: preset === "standard" ? "web_download" : "pass",
      unlessTls: null,
      zip: { encryption: "aes256" },
      // The password goes to the sender, who passes it on another way: never the mail's own channel.
      password: { length: 12, notify: "sender", delayMinutes: 1 },
      // A one-time code mailed at download time: no password travels at all.
      download: { auth: "code", expiryDays: 7, maxDownloads: 0, notifySender: false },
      // Refused rather than passed: a signed mail's attachments would otherwise leave unprotected.
      signedMessages: "reject",
    },
    approval: {
      approvers: [],
      groupApprovers: {},
      useManager: true,
      timeoutMinutes: 24 * 60,
      timeoutAction: "deny",
      allowSelfApproval: false,
    },
    presetRules: preset === "self" ? [clone(ANALYSIS_INCOMPLETE_RULE)] : [],
    rules: [],
    client: clientDefaults(),
    locks: [],
  };
}

export function presetPolicy(preset: PresetName): EffectivePolicy {
  return base(preset);
}

/** The few knobs of the "standard" preset (like the market's packaged plans); "self" opens all. */
const STANDARD_KEYS = new Set([
  "preset",
  "domains",
  "hold",
  "client",
  "approval",
  "forcedBcc",
  "attachments",
  "locks",
]);

/** Keys a document may not set under `preset`, with what to do about it. */
export function presetProblems(document: PolicyDocument, preset: PresetName): string[] {
  if (preset === "self") return [];
  return Object.keys(document)
    .filter((key) => !STANDARD_KEYS.has(key))
    .map(
      (key) =>
        `${key}: not configurable with the standard preset; set "preset: self" in the organisation policy`,
    );
}

export type ParseResult = { ok: true; document: PolicyDocument } | { ok: false; errors: string[] };

/** Validates a document; every error names the dotted key and what was expected. */
export function parsePolicyDocument(input: unknown): ParseResult {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    return { ok: false, errors: ["(document): expected a mapping of keys (a JSON object or YAML map)"] };
  }
  const result = policyDocumentSchema.safeParse(input);
  if (result.success) return { ok: true, document: result.data };
  return {
    ok: false,
    errors: result.error.issues.map((issue) => {
      const where = issue.path.length ? issue.path.join(".") : "(document)";
      const what =
        issue.code === "unrecognized_keys" ? `unknown key ${issue.keys.join(", ")}` : issue.message;
      return `${where}: ${what}${ruleNamed(input, issue.path)}`;
    }),
  };
}

/** ' (rule "NAME")' for a problem inside a rule that has a name, so a long list is easy to search. */
function ruleNamed(input: object, path: readonly PropertyKey[]): string {
  if (path[0] !== "rules" || typeof path[1] !== "number" || path.length < 3) return "";
  const rules = (input as { rules?: unknown }).rules;
  const name = Array.isArray(rules) ? (rules[path[1]] as { name?: unknown } | null)?.name : undefined;
  return typeof name === "string" && name ? ` (rule ${JSON.stringify(name)})` : "";
}

export interface ScopedDocument {
  /** "org", "group:NAME" or "user:EMAIL": for messages about ignored keys. */
  scope: string;
  document: PolicyDocument;
}

/** Policies are JSON data; structuredClone is not an ES API, and shared/ runs everywhere. */
function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isLocked(path: string, locks: readonly string[]): boolean {
  return locks.some((lock) => path === lock || path.startsWith(`${lock}.`));
}

/**
 * Applies documents in order (organisation, groups, user) over `start`. Objects merge key by key,
 * arrays replace, rules append; a key locked by an earlier scope is ignored and reported.
 */
export function mergePolicies(
  start: EffectivePolicy,
  documents: readonly ScopedDocument[],
): { policy: EffectivePolicy; ignored: string[] } {
  const policy = clone(start);
  const ignored: string[] = [];
  const target = policy as unknown as Record<string, unknown>;

  const apply = (
    scope: string,
    into: Record<string, unknown>,
    value: Record<string, unknown>,
    prefix: string,
  ) => {
    for (const [key, v] of Object.entries(value)) {
      if (v === undefined) continue;
      const path = prefix ? `${prefix}.${key}` : key;
      if (isLocked(path, policy.locks)) {
        ignored.push(`${scope}: ${path} is locked`);
        continue;
      }
      if (isPlainObject(v) && isPlainObject(into[key])) {
        apply(scope, into[key] as Record<string, unknown>, v, path);
      } else {
        into[key] = clone(v);
      }
    }
  };

  for (const { scope, document } of documents) {
    const { rules, locks, preset, ...rest } = document;
    if (preset !== undefined && scope !== "org")
      ignored.push(`${scope}: preset can only be set by the organisation`);
    apply(scope, target, rest, "");
    if (rules) {
      if (isLocked("rules", policy.locks)) ignored.push(`${scope}: rules is locked`);
      else policy.rules.push(...clone(rules));
    }
    if (locks) policy.locks = [...new Set([...policy.locks, ...locks])];
  }
  return { policy, ignored };
}
