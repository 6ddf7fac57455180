// Policies live in the database per scope (org, group:NAME, user:EMAIL). Changes take effect without
// a restart: the merged documents are reloaded when the policy version in the store moves on, which
// is checked at most once a second. A document is validated before it is stored; a bad one is
// refused with its errors and the previous one stays.
import {
  mergePolicies,
  parsePolicyDocument,
  presetPolicy,
  presetProblems,
  type EffectivePolicy,
  type PolicyDocument,
  type PresetName,
  type ScopedDocument,
} from "@sendguard/shared";
import { parse as parseYaml } from "yaml";
import type { Config } from "../config/schema.js";
import type { Store, UserRecord } from "../store/types.js";

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

export class PolicyService {
  private documents = new Map<string, PolicyDocument>();
  private version = -1;
  private checkedAt = 0;
  /**
   * Merged policies of the current version by user, shared by every caller (who only read them):
   * merging cost more per message than the rest of the rules step.
   */
  private merged = new Map<string, { policy: EffectivePolicy; ignored: string[] }>();

  constructor(
    private readonly store: Store,
    private readonly config: Config,
  ) {}

  private async refresh(): Promise<void> {
    const now = Date.now();
    if (now - this.checkedAt < RECHECK_MS && this.version >= 0) return;
    this.checkedAt = now;
    const version = await this.store.policyVersion();
    if (version === this.version) return;
    const documents = new Map<string, PolicyDocument>();
    for (const record of await this.store.listPolicies()) {
      const parsed = parsePolicyDocument(JSON.parse(record.document));
      if (parsed.ok) documents.set(record.scope, parsed.document);
    }
    this.documents = documents;
    this.merged = new Map();
    this.version = version;
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

  async effectiveFor(
    user: UserRecord | null,
    sender: string,
  ): Promise<{ policy: EffectivePolicy; ignored: string[] }> {
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

  private merge(user: UserRecord | null, sender: string): { policy: EffectivePolicy; ignored: string[] } {
    const scoped: ScopedDocument[] = [];
    const add = (scope: string) => {
      const document = this.documents.get(scope);
      if (document) scoped.push({ scope, document });
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
    return mergePolicies(this.start(), scoped);
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
    await this.store.putPolicy(
      scope.startsWith("user:") ? scope.toLowerCase() : scope,
      JSON.stringify(document),
      actor,
    );
    this.invalidate();
    return document;
  }

  async remove(scope: string, actor: string): Promise<boolean> {
    const removed = await this.store.deletePolicy(scope, actor);
    this.invalidate();
    return removed;
  }
}
