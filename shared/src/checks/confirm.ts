// The confirm dialog both add-ins show when the user clicks Send. The add-ins only read the draft
// from their host (Thunderbird compose API, Office.js) and draw the result; every decision is here so
// that Thunderbird and Outlook confirm the same things and word them the same way.
import type { ClientPolicy, Language } from "../api/types.js";
import { classifyAddress, domainMatches, domainOf, type RecipientClass } from "../classify/address.js";
import { t, type MessageKey } from "../i18n/index.js";
import type { RecipientField } from "../rules/evaluate.js";
import { normalizeText } from "../rules/patterns.js";
import { formatDuration } from "../time/duration.js";
import { attachmentPlan, type AttachmentPlanLine } from "./attachment-plan.js";
import { formatSize, ownText } from "./text.js";

export interface DraftRecipient {
  /** The bare address; "Name <addr>" is accepted too and split. */
  address: string;
  name?: string;
  field: RecipientField;
  /**
   * An unexpanded distribution list (Outlook's recipientType "distributionList"): its members are
   * not known here, so it counts as external whatever its own address, and is named in a warning.
   */
  list?: boolean;
}

export interface DraftAttachment {
  name: string;
  /** Bytes; -1 when the client cannot tell (Thunderbird's listAttachments may say so). */
  size: number;
}

export interface Draft {
  from: string;
  recipients: DraftRecipient[];
  subject: string;
  /**
   * Plain text of the body as typed. Quoted reply text may be included (lines starting with ">", or
   * everything below an "-----Original Message-----" / "On … wrote:" / "… のメッセージ:" header); the
   * forgotten-attachment check ignores it, the unsafe-word check does not (it is sent all the same).
   */
  body: string;
  attachments: DraftAttachment[];
  /** For a reply or forward: the addresses of the message replied to (From, To, Cc), to spot a new domain. */
  replyTo?: { addresses: string[] };
}

/** warn: shown, nothing to do · confirm: the dialog must be shown and answered · block: Send stays disabled. */
export type Severity = "warn" | "confirm" | "block";

/** Stable identifiers: the add-ins may pick icons or place warnings by them; the text is for people. */
export type ConfirmWarningCode =
  | "unsafe_domain"
  | "distribution_list"
  | "new_domain"
  | "many_external"
  | "unsafe_word"
  | "attachment_forgotten"
  | "unsafe_file_type"
  | "large_attachment";

export interface ConfirmWarning {
  code: ConfirmWarningCode;
  severity: Severity;
  /** Already in the requested language. */
  text: string;
  /** The address domain, word or file name the warning is about. */
  subject?: string;
}

export interface RecipientGroup {
  class: RecipientClass;
  /** Sorted by domain; recipients keep the draft's order inside a domain. */
  domains: { domain: string; recipients: DraftRecipient[] }[];
}

export interface ConfirmAttachment {
  name: string;
  size: number;
  /** "1.2 MB", or "size unknown" / "サイズ不明" for -1. */
  sizeText: string;
  mustTick: boolean;
}

export interface ConfirmModel {
  /**
   * No dialog needed. Only when the policy's skip settings apply (internal recipients only and
   * skipWhenInternalOnly, or confirmExternal off) AND no warning is at confirm or block level: the
   * skip settings silence the recipient check, never a warning the policy says must be answered.
   * So it is never true when an external recipient exists and confirmExternal is on (fail closed).
   */
  skip: boolean;
  /** Only classes that have recipients, in the order internal, semi_internal, external. */
  groups: RecipientGroup[];
  /** Recipients the user must tick one by one before Send is enabled (in dialog order). */
  mustTick: string[];
  allowTickAll: boolean;
  attachments: ConfirmAttachment[];
  /** What the gateway will do with the attachments, per recipient group; empty without attachments. */
  attachmentPlan: AttachmentPlanLine[];
  /** Most severe first; in a fixed order (recipients, content, attachments) within a severity. */
  warnings: ConfirmWarning[];
  /** Suggest "convert to Bcc": external To/Cc ≥ bccSuggestThreshold (and the threshold ≥ 1). */
  suggestBcc: boolean;
  /** Any warning with severity block: Send must stay disabled. */
  blocked: boolean;
  /** "送信してから 5 分以内なら取り消せます。"; empty when there is no hold to promise. */
  holdNotice: string;
}

const SEVERITY_RANK: Record<Severity, number> = { warn: 0, confirm: 1, block: 2 };
const CLASS_ORDER: readonly RecipientClass[] = ["internal", "semi_internal", "external"];
const FIELD_RANK: Record<RecipientField, number> = { bcc: 0, cc: 1, to: 2 };
const HOLD_KEY = { internal: "internal", semi_internal: "semiInternal", external: "external" } as const;

/** A policy cached by an older add-in or edited by hand may carry an unknown action: confirm it. */
function severityOf(action: string): Severity {
  return action === "warn" || action === "confirm" || action === "block" ? action : "confirm";
}

function stronger(a: Severity, b: Severity): Severity {
  return SEVERITY_RANK[b] > SEVERITY_RANK[a] ? b : a;
}

/** "Taro <taro@example.jp>" → address and name; a bare address stays as it is (trimmed). */
function splitAddress(raw: string): { address: string; name?: string } {
  const m = /^(.*)<([^<>]*)>\s*$/.exec(raw);
  if (!m) return { address: raw.trim() };
  const name = (m[1] ?? "").trim().replace(/^"(.*)"$/, "$1");
  const address = (m[2] ?? "").trim();
  return name ? { address, name } : { address };
}

/** Addresses compare case-insensitively: nobody means two people by Taro@ and taro@. */
function addressKey(address: string): string {
  return splitAddress(address).address.toLowerCase();
}

/** Classifies per distinct domain: 200 recipients are usually a handful of domains. */
function classifier(policy: ClientPolicy): (domain: string, address: string) => RecipientClass {
  const cache = new Map<string, RecipientClass>();
  return (domain, address) => {
    let cls = cache.get(domain);
    if (!cls) {
      cls = classifyAddress(address, policy.domains);
      cache.set(domain, cls);
    }
    return cls;
  };
}

/** A list's members may be anywhere: it is external even at an internal address. */
function recipientClass(
  r: DraftRecipient,
  address: string,
  classOf: (domain: string, address: string) => RecipientClass,
): RecipientClass {
  return r.list ? "external" : classOf(domainOf(address), address);
}

interface Entry {
  recipient: DraftRecipient;
  domain: string;
  cls: RecipientClass;
}

/**
 * One entry per address. An address both in To and in Cc or Bcc is shown once, with the most
 * visible field (To over Cc over Bcc): that is how the recipients will see it.
 */
function uniqueRecipients(draft: Draft, classOf: (domain: string, address: string) => RecipientClass) {
  const byKey = new Map<string, Entry>();
  for (const r of draft.recipients) {
    const { address, name: parsedName } = splitAddress(r.address);
    if (!address) continue;
    const key = address.toLowerCase();
    const name = r.name?.trim() || parsedName;
    const seen = byKey.get(key);
    if (seen) {
      if (FIELD_RANK[r.field] > FIELD_RANK[seen.recipient.field]) seen.recipient.field = r.field;
      if (!seen.recipient.name && name) seen.recipient.name = name;
      continue;
    }
    const recipient: DraftRecipient = name ? { address, name, field: r.field } : { address, field: r.field };
    if (r.list) recipient.list = true;
    byKey.set(key, { recipient, domain: domainOf(address), cls: recipientClass(r, address, classOf) });
  }
  return [...byKey.values()];
}

function groupRecipients(entries: readonly Entry[]): RecipientGroup[] {
  const byClass = new Map<RecipientClass, Map<string, DraftRecipient[]>>();
  for (const e of entries) {
    let domains = byClass.get(e.cls);
    if (!domains) byClass.set(e.cls, (domains = new Map()));
    const list = domains.get(e.domain);
    if (list) list.push(e.recipient);
    else domains.set(e.domain, [e.recipient]);
  }
  const groups: RecipientGroup[] = [];
  for (const cls of CLASS_ORDER) {
    const domains = byClass.get(cls);
    if (!domains) continue;
    // Domains are lower-cased by domainOf, so a plain comparison is the case-insensitive order.
    const sorted = [...domains.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    groups.push({
      class: cls,
      domains: sorted.map((domain) => ({ domain, recipients: domains.get(domain) ?? [] })),
    });
  }
  return groups;
}

/** Normalised, trimmed, non-empty and de-duplicated words, each with its strongest severity. */
function normalizedWords<T>(
  items: readonly T[],
  word: (item: T) => string,
  action: (item: T) => string,
): { word: string; shown: string; severity: Severity }[] {
  const byWord = new Map<string, { word: string; shown: string; severity: Severity }>();
  for (const item of items) {
    const shown = word(item).trim();
    const normalized = normalizeText(shown);
    if (!normalized) continue;
    const severity = severityOf(action(item));
    const seen = byWord.get(normalized);
    if (seen) seen.severity = stronger(seen.severity, severity);
    else byWord.set(normalized, { word: normalized, shown, severity });
  }
  return [...byWord.values()];
}

/**
 * The part after the last dot must not be the only thing looked at: "tar.gz" is an extension too,
 * and Windows runs "invoice.exe." and "invoice.exe " as invoice.exe, so trailing dots and spaces go.
 */
function fileTypeOf(name: string, types: readonly { word: string; shown: string; severity: Severity }[]) {
  const normalized = normalizeText(name).replace(/[\s.]+$/u, "");
  let hit: { extension: string; severity: Severity } | null = null;
  for (const type of types) {
    const extension = type.word.replace(/^\.+/, "");
    if (!extension || !normalized.endsWith(`.${extension}`)) continue;
    if (!hit || SEVERITY_RANK[type.severity] > SEVERITY_RANK[hit.severity])
      hit = { extension, severity: type.severity };
  }
  return hit;
}

/**
 * The undo promise must hold for every recipient: copies to a class with a shorter hold are gone
 * after that class's hold, so the notice uses the shortest hold of the classes present (policy.hold),
 * not holdMinutes (the longest of any class). Rules on the gateway can only lengthen a hold.
 */
function holdNotice(policy: ClientPolicy, classes: ReadonlySet<RecipientClass>, lang: Language): string {
  let minutes = Infinity;
  for (const cls of classes) {
    const m = policy.hold?.[HOLD_KEY[cls]];
    minutes = Math.min(minutes, typeof m === "number" && Number.isFinite(m) ? m : policy.holdMinutes);
  }
  if (minutes === Infinity) minutes = policy.holdMinutes;
  // under a second is no time to undo in
  if (!(Math.round(minutes * 60) > 0)) return "";
  return t(lang, "confirm.holdNotice", { duration: formatDuration(minutes, lang) });
}

export function buildConfirmModel(draft: Draft, policy: ClientPolicy, lang: Language): ConfirmModel {
  const client = policy.client;
  const entries = uniqueRecipients(draft, classifier(policy));
  const groups = groupRecipients(entries);
  const classes = new Set(entries.map((e) => e.cls));
  const hasExternal = classes.has("external");
  const internalOnly = !hasExternal && !classes.has("semi_internal");

  const warnings: ConfirmWarning[] = [];
  const warn = (
    code: ConfirmWarningCode,
    severity: Severity,
    key: MessageKey,
    vars: Record<string, string | number> = {},
    subject?: string,
  ) => {
    let text = t(lang, key, vars);
    if (severity === "block") text += (lang === "ja" ? "" : " ") + t(lang, "confirm.blocked");
    warnings.push(subject === undefined ? { code, severity, text } : { code, severity, text, subject });
  };

  // Recipients. Domains are checked once each, in dialog order.
  const domains: { domain: string; cls: RecipientClass; listsOnly: boolean }[] = groups.flatMap((g) =>
    g.domains.map((d) => ({ domain: d.domain, cls: g.class, listsOnly: d.recipients.every((r) => r.list) })),
  );
  const unsafeDomains = client.unsafeDomains ?? [];
  for (const { domain } of domains) {
    let severity: Severity | null = null;
    for (const u of unsafeDomains) {
      if (domainMatches(domain, [u.domain]))
        severity = severity ? stronger(severity, severityOf(u.action)) : severityOf(u.action);
    }
    if (severity) warn("unsafe_domain", severity, "confirm.warning.unsafeDomain", { domain }, domain);
  }
  for (const { recipient } of entries) {
    if (!recipient.list) continue;
    const name = recipient.name ?? recipient.address;
    warn("distribution_list", "warn", "confirm.warning.distributionList", { name }, name);
  }
  // A colleague added to a reply is no leak; a new outside domain may be (semi-internal included).
  const earlier = draft.replyTo?.addresses ?? [];
  if (client.warnNewDomainInReply && earlier.length > 0) {
    const known = new Set(earlier.map((a) => domainOf(splitAddress(a).address)));
    // A list is external for its unknown members, not for its own (often internal) domain.
    for (const { domain, cls, listsOnly } of domains) {
      if (cls !== "internal" && !listsOnly && !known.has(domain))
        warn("new_domain", "confirm", "confirm.warning.newDomain", { domain }, domain);
    }
  }
  // Counted like the gateway's forcedBcc: distinct external addresses visible in To or Cc.
  const externalToCc = entries.filter((e) => e.cls === "external" && e.recipient.field !== "bcc").length;
  const threshold = client.bccSuggestThreshold;
  const suggestBcc = threshold >= 1 && externalToCc >= threshold;
  if (suggestBcc) warn("many_external", "confirm", "confirm.warning.manyExternal", { count: externalToCc });

  // Content. Normalised once (NFKC + lower case: "ＡＴＴＡＣＨＥＤ" is "attached").
  const subject = normalizeText(draft.subject);
  const body = normalizeText(draft.body);
  const unsafeWords = normalizedWords(
    client.unsafeWords ?? [],
    (w) => w.word,
    (w) => w.action,
  );
  for (const w of unsafeWords) {
    if (subject.includes(w.word) || body.includes(w.word))
      warn("unsafe_word", w.severity, "confirm.warning.unsafeWord", { word: w.shown }, w.shown);
  }
  if (draft.attachments.length === 0) {
    const reminders = normalizedWords(
      client.attachmentReminderWords ?? [],
      (w) => w,
      () => "confirm",
    );
    if (reminders.length > 0) {
      const own = ownText(body);
      const hit = reminders.find((w) => subject.includes(w.word) || own.includes(w.word));
      if (hit)
        warn(
          "attachment_forgotten",
          "confirm",
          "confirm.warning.attachmentForgotten",
          { word: hit.shown },
          hit.shown,
        );
    }
  }

  // Attachments.
  const fileTypes = normalizedWords(
    client.unsafeFileTypes ?? [],
    (f) => f.extension,
    (f) => f.action,
  );
  const large = client.largeAttachmentBytes;
  const attachments: ConfirmAttachment[] = draft.attachments.map((a) => {
    const sizeText = formatSize(a.size, lang);
    const type = fileTypeOf(a.name, fileTypes);
    if (type)
      warn(
        "unsafe_file_type",
        type.severity,
        "confirm.warning.unsafeFileType",
        { name: a.name, extension: type.extension },
        a.name,
      );
    // 0 switches the check off; an unknown size (-1) is not "large".
    if (large > 0 && Number.isFinite(a.size) && a.size >= large)
      warn(
        "large_attachment",
        "warn",
        "confirm.warning.largeAttachment",
        { name: a.name, size: sizeText },
        a.name,
      );
    return { name: a.name, size: a.size, sizeText, mustTick: hasExternal };
  });

  // Stable sort: most severe first, the order above within a severity.
  warnings.sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity]);
  const blocked = warnings.some((w) => w.severity === "block");
  const mustAnswer = warnings.some((w) => w.severity !== "warn");
  const skipAllowed = (client.skipWhenInternalOnly && internalOnly) || !client.confirmExternal;

  const mustTick: string[] = [];
  if (client.requireTickEachExternal) {
    for (const g of groups) {
      if (g.class !== "external") continue;
      for (const d of g.domains) for (const r of d.recipients) mustTick.push(r.address);
    }
  }

  return {
    skip: skipAllowed && !mustAnswer,
    groups,
    mustTick,
    allowTickAll: client.allowTickAll,
    attachments,
    attachmentPlan: attachments.length ? attachmentPlan(policy, groups, lang) : [],
    warnings,
    suggestBcc,
    blocked,
    holdNotice: holdNotice(policy, classes, lang),
  };
}

/**
 * Moves external To/Cc recipients to Bcc (semi-internal ones stay: they are the group's own people).
 * If To is left empty, the sender goes into To, as the gateway's forcedBcc "sender" does, so the
 * message does not arrive addressed to nobody. Returns a new draft; the argument is not changed.
 */
export function convertExternalToBcc(draft: Draft, policy: ClientPolicy): Draft {
  const classOf = classifier(policy);
  const inBcc = new Set<string>();
  let moved = false;
  const recipients: DraftRecipient[] = [];
  for (const r of draft.recipients) {
    const { address } = splitAddress(r.address);
    if (!address) continue;
    let field = r.field;
    if (field !== "bcc" && recipientClass(r, address, classOf) === "external") {
      field = "bcc";
      moved = true;
    }
    if (field === "bcc") {
      // An address already in Bcc, or in both To and Cc, must not be there twice.
      const key = address.toLowerCase();
      if (inBcc.has(key)) continue;
      inBcc.add(key);
    }
    recipients.push({ ...r, field });
  }
  if (moved && !recipients.some((r) => r.field === "to")) {
    const sender = splitAddress(draft.from);
    if (sender.address) recipients.unshift({ ...sender, field: "to" });
  }
  return {
    ...draft,
    recipients,
    attachments: draft.attachments.map((a) => ({ ...a })),
    ...(draft.replyTo ? { replyTo: { addresses: [...draft.replyTo.addresses] } } : {}),
  };
}

/**
 * Whether Send may be pressed, given the ticked addresses and attachment names. `missing` lists what
 * is still to be ticked, in dialog order. A blocked model is never ready. Confirm-level warnings are
 * answered by the dialog being shown and Send pressed: they need no tick of their own.
 */
export function readyToSend(
  model: ConfirmModel,
  ticked: { recipients: ReadonlySet<string>; attachments: ReadonlySet<string> },
): { ok: boolean; missing: string[] } {
  const tickedAddresses = new Set<string>();
  for (const a of ticked.recipients) tickedAddresses.add(addressKey(a));
  const missing: string[] = [];
  for (const a of model.mustTick) if (!tickedAddresses.has(addressKey(a))) missing.push(a);
  // Ticks are by name (the add-ins know names, not stable ids): two files of one name share a tick.
  const listed = new Set<string>();
  for (const a of model.attachments) {
    if (!a.mustTick || ticked.attachments.has(a.name) || listed.has(a.name)) continue;
    listed.add(a.name);
    missing.push(a.name);
  }
  return { ok: !model.blocked && missing.length === 0, missing };
}
