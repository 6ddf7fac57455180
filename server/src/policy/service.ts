// Policies live in the database per scope (org, group:NAME, user:EMAIL). Changes take effect without
// a restart: the merged documents are reloaded when the policy version in the store moves on, which
// is checked at most once a second. A document is validated before it is stored; a bad one is
// refused with its errors and the previous one stays.
//
// A stored document can still stop validating: a newer version of the schema refuses what an older
// one took (a JavaScript-only regular expression, now that RE2 runs them), or a row was edited by
// hand. Such a scope fails closed, never open: it is logged, shown to admins, and the last valid
// version this process saw of it stays in force; with none (after a restart), every message of the
// senders it covers waits for approval until an admin stores a valid document.
import {
  mergePolicies,
  parsePolicyDocument,
  presetPolicy,
  presetProblems,
  type EffectivePolicy,
  type PolicyDocument,
  type PresetName,
  type Rule,
  type ScopedDocument,
} from "@sendguard/shared";
import { parse as parseYaml } from "yaml";
import type { Config } from "../config/schema.js";
import type { Logger } from "../log.js";
import type { PolicyRecord, Store, UserRecord } from "../store/types.js";

const SCOPE = /^(org|group:[\p{L}\p{N}._-]{1,64}|user:[^\s@]+@[^\s@]+)$/u;
const RECHECK_MS = 1000;

export class PolicyError extends Error {
  constructor(readonly errors: string[]) {
    super(errors.join("\n"));
  }
}

export function isScope(scope: string): boolean {
  return SCOPE.test(scope);
}

/** Reads a YAML or JSON text (JSON is YAML) into a value; syntax errors become PolicyError. */
export function parsePolicyText(text: string): unknown {
  try {
    return parseYaml(text);
  } catch (err) {
    throw new PolicyError([`(document): not valid YAML or JSON: ${(err as Error).message.split("\n")[0]}`]);
  }
}

/** A stored document that does not validate, and what applies instead of it. */
export interface InvalidPolicy {
  scope: string;
  errors: string[];
  /** last_good: the last valid version this process saw; fail_closed: approval for every message. */
  inForce: "last_good" | "fail_closed";
}

/** A stored document as admins see it: valid, or its errors and what applies instead. */
export type PolicyListing = Omit<PolicyRecord, "document"> & { document: unknown } & (
    { valid: true } | { valid: false; errors: string[]; inForce: InvalidPolicy["inForce"] }
  );

export interface EffectiveResult {
  policy: EffectivePolicy;
  ignored: string[];
  /** The scopes of this sender whose stored document does not validate. */
  invalid: InvalidPolicy[];
}

function parseStored(text: string): ReturnType<typeof parsePolicyDocument> & { value?: unknown } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, errors: [`(document): not valid JSON: ${(err as Error).message}`] };
  }
  return { ...parsePolicyDocument(value), value };
}

/** The rule that stands in for a scope with neither a valid document nor a last good version. */
function failClosedRule(scope: string): Rule {
  return {
    name: `invalid-policy ${scope}`,
    description: `The stored policy of ${scope} does not validate: every message waits for approval until it is fixed`,
    enabled: true,
    when: {},
    then: { approve: {} },
  };
}

export class PolicyService {
  private documents = new Map<string, PolicyDocument>();
  /** The last valid document of each stored scope seen by this process. */
  private lastGood = new Map<string, PolicyDocument>();
  private invalid = new Map<string, InvalidPolicy>();
  /** The stored text of each invalid scope as last logged, so that one error is logged once. */
  private logged = new Map<string, string>();
  private records: PolicyRecord[] = [];
  private version = -1;
  private checkedAt = 0;
  /**
   * Merged policies of the current version by user, shared by every caller (who only read them):
   * merging cost more per message than the rest of the rules step.
   */
  private merged = new Map<string, EffectiveResult>();

  /** @param log where a stored document that does not validate is reported (the CLI has none). */
  constructor(
    private readonly store: Store,
    private readonly config: Config,
    private readonly log?: Logger,
  ) {}

  private async refresh(): Promise<void> {
    const now = Date.now();
    if (now - this.checkedAt < RECHECK_MS && this.version >= 0) return;
    this.checkedAt = now;
    const version = await this.store.policyVersion();
    if (version === this.version) return;
    const records = await this.store.listPolicies();
    const documents = new Map<string, PolicyDocument>();
    const lastGood = new Map<string, PolicyDocument>();
    const invalid = new Map<string, InvalidPolicy>();
    const logged = new Map<string, string>();
    for (const record of records) {
      const parsed = parseStored(record.document);
      const document = parsed.ok ? parsed.document : this.lastGood.get(record.scope);
      if (document) {
        documents.set(record.scope, document);
        lastGood.set(record.scope, document);
      }
      if (parsed.ok) continue;
      const problem: InvalidPolicy = {
        scope: record.scope,
        errors: parsed.errors,
        inForce: document ? "last_good" : "fail_closed",
      };
      invalid.set(record.scope, problem);
      logged.set(record.scope, record.document);
      if (this.logged.get(record.scope) !== record.document) {
        this.log?.error(
          problem,
          problem.inForce === "last_good"
            ? `the stored policy of ${record.scope} does not validate: its last valid version stays in force`
            : `the stored policy of ${record.scope} does not validate: every message of its senders waits for approval`,
        );
      }
    }
    this.records = records;
    this.documents = documents;
    this.lastGood = lastGood;
    this.invalid = invalid;
    this.logged = logged;
    this.merged = new Map();
    this.version = version;
  }

  /** Reads the stored policies now, reporting those that do not validate (at start). */
  async load(): Promise<void> {
    this.invalidate();
    await this.refresh();
  }

  /** Every stored document with whether it validates (GET /admin/policies). */
  async list(): Promise<PolicyListing[]> {
    await this.load();
    return this.records.map((record) => {
      const problem = this.invalid.get(record.scope);
      const parsed = parseStored(record.document);
      // what is stored, as stored: a document that is not even JSON is shown as its text
      const document = "value" in parsed ? parsed.value : record.document;
      return problem
        ? { ...record, document, valid: false, errors: problem.errors, inForce: problem.inForce }
        : { ...record, document, valid: true };
    });
  }

  /** The stored documents that do not validate. */
  async invalidPolicies(): Promise<InvalidPolicy[]> {
    await this.load();
    return [...this.invalid.values()];
  }

  /** Forget the cache: the next lookup reads the store (after a change made in this process). */
  invalidate(): void {
    this.checkedAt = 0;
  }

  private orgPreset(): PresetName {
    return this.documents.get("org")?.preset ?? "standard";
  }

  /** The preset with the configuration file's organisation settings as its defaults. */
  private start(): EffectivePolicy {
    const policy = presetPolicy(this.orgPreset());
    const org = this.config.organization;
    policy.domains = { internal: [...org.internalDomains], semiInternal: [...org.semiInternalDomains] };
    policy.hold = { internal: org.holdMinutes, semiInternal: org.holdMinutes, external: org.holdMinutes };
    return policy;
  }

  async effectiveFor(user: UserRecord | null, sender: string): Promise<EffectiveResult> {
    await this.refresh();
    const key = JSON.stringify([user?.email ?? sender, user?.groups ?? [], user?.holdMinutes ?? null]);
    let result = this.merged.get(key);
    if (!result) {
      result = this.merge(user, sender);
      // Bounded: a flood of distinct unknown senders must not grow it without end.
      if (this.merged.size >= 10_000) this.merged.clear();
      this.merged.set(key, result);
    }
    return result;
  }

  private merge(user: UserRecord | null, sender: string): EffectiveResult {
    const scoped: ScopedDocument[] = [];
    const invalid: InvalidPolicy[] = [];
    const add = (scope: string) => {
      const document = this.documents.get(scope);
      if (document) scoped.push({ scope, document });
      const problem = this.invalid.get(scope);
      if (problem) invalid.push(problem);
    };
    add("org");
    for (const group of user?.groups ?? []) add(`group:${group}`);
    if (user?.holdMinutes !== null && user?.holdMinutes !== undefined) {
      const m = user.holdMinutes;
      scoped.push({
        scope: `user:${user.email}`,
        document: { hold: { internal: m, semiInternal: m, external: m } },
      });
    }
    add(`user:${(user?.email ?? sender).toLowerCase()}`);
    const { policy, ignored } = mergePolicies(this.start(), scoped);
    // First, and past any lock: what a scope that cannot be read would allow is unknown.
    const failClosed = invalid.filter((p) => p.inForce === "fail_closed").map((p) => failClosedRule(p.scope));
    policy.rules.unshift(...failClosed);
    return { policy, ignored, invalid };
  }

  /** Validates a document for a scope; throws PolicyError listing every problem. */
  async validate(scope: string, input: unknown): Promise<PolicyDocument> {
    if (!isScope(scope))
      throw new PolicyError([`scope ${JSON.stringify(scope)}: expected org, group:NAME or user:EMAIL`]);
    const parsed = parsePolicyDocument(input);
    if (!parsed.ok) throw new PolicyError(parsed.errors);
    await this.refresh();
    const preset = scope === "org" ? (parsed.document.preset ?? "standard") : this.orgPreset();
    const problems = presetProblems(parsed.document, preset);
    if (parsed.document.preset !== undefined && scope !== "org")
      problems.push("preset: only the org scope sets the preset");
    if (problems.length) throw new PolicyError(problems);
    return parsed.document;
  }

  async set(scope: string, input: unknown, actor: string): Promise<PolicyDocument> {
    const document = await this.validate(scope, input);
    const stored = scope.startsWith("user:") ? scope.toLowerCase() : scope;
    await this.store.putPolicy(stored, JSON.stringify(document), actor);
    // the last good version from now on, even if the row breaks before the next reload
    this.lastGood.set(stored, document);
    this.invalidate();
    return document;
  }

  async remove(scope: string, actor: string): Promise<boolean> {
    const removed = await this.store.deletePolicy(scope, actor);
    this.lastGood.delete(scope);
    this.invalidate();
    return removed;
  }
}
