// PolicyService (server/src/policy/service.ts) when a stored document no longer validates: the last
// valid version this process saw stays in force; with none, the scope's senders need approval.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { evaluate, type PolicyDocument } from "@sendguard/shared";
import { parseConfig } from "../src/config/load.js";
import type { Logger } from "../src/log.js";
import { PolicyService } from "../src/policy/service.js";
import type { PolicyRecord, Store, UserRecord } from "../src/store/types.js";
import { newUser } from "./fixtures/users.js";

/** The policy part of a Store, in memory; `edit` changes a row behind the service's back. */
class PolicyRows {
  private version = 0;
  private rows = new Map<string, PolicyRecord>();

  async policyVersion(): Promise<number> {
    return this.version;
  }

  async listPolicies(): Promise<PolicyRecord[]> {
    return [...this.rows.values()].sort((a, b) => a.scope.localeCompare(b.scope));
  }

  async putPolicy(scope: string, document: string, actor: string): Promise<void> {
    this.edit(scope, document, actor);
  }

  async deletePolicy(scope: string): Promise<boolean> {
    this.version++;
    return this.rows.delete(scope);
  }

  edit(scope: string, document: string, actor = "hand"): void {
    this.rows.set(scope, { scope, document, updatedAt: 1, updatedBy: actor });
    this.version++;
  }
}

class ErrorLog {
  readonly lines: { fields: Record<string, unknown>; message: string }[] = [];
  error(fields: Record<string, unknown>, message: string): void {
    this.lines.push({ fields, message });
  }
}

const config = parseConfig({ organization: { internalDomains: ["corp.example"] } }, "test");
/** A stored user as far as policies look at one (email, groups, hold minutes). */
const user = (email: string, groups: string[] = []) =>
  ({ ...newUser(email, { groups }), id: 1, createdAt: 0 }) as UserRecord;
const SALES = user("taro@corp.example", ["sales"]);

const secretRule: PolicyDocument = {
  rules: [
    {
      name: "no-secrets",
      enabled: true,
      when: { subjectContains: ["極秘"] },
      then: { hold: { minutes: 60 } },
    },
  ],
};
/** Valid for the JavaScript RegExp the gateway used before; RE2 has no lookahead. */
const OLD_STYLE = JSON.stringify({
  rules: [
    { name: "no-secrets", when: { subjectMatches: "極秘(?!ではない)" }, then: { hold: { minutes: 60 } } },
  ],
});

function service(rows: PolicyRows, log = new ErrorLog()): PolicyService {
  return new PolicyService(rows as unknown as Store, config, log as unknown as Logger);
}

async function ruleNames(policies: PolicyService, user: UserRecord): Promise<string[]> {
  await policies.load();
  return (await policies.effectiveFor(user, user.email)).policy.rules.map((r) => r.name);
}

describe("a stored policy that no longer validates", () => {
  test("the last valid version stays in force; the error is logged once and listed", async () => {
    const rows = new PolicyRows();
    const log = new ErrorLog();
    const policies = service(rows, log);
    await policies.set("org", { preset: "self" }, "admin");
    await policies.set("group:sales", secretRule, "admin");
    assert.deepEqual(await ruleNames(policies, SALES), ["no-secrets"]);

    rows.edit("group:sales", OLD_STYLE);
    assert.deepEqual(await ruleNames(policies, SALES), ["no-secrets"], "the last good version");
    const effective = await policies.effectiveFor(SALES, SALES.email);
    assert.equal(effective.policy.rules[0]?.when.subjectContains?.[0], "極秘");
    assert.deepEqual(
      effective.invalid.map((p) => [p.scope, p.inForce]),
      [["group:sales", "last_good"]],
    );

    assert.equal(log.lines.length, 1);
    assert.equal(log.lines[0]?.fields.scope, "group:sales");
    assert.equal(log.lines[0]?.fields.inForce, "last_good");
    assert.match(String((log.lines[0]?.fields.errors as string[])[0]), /subjectMatches: .*lookahead/);
    rows.edit("user:someone@corp.example", JSON.stringify({ hold: { external: 1 } })); // the version moves on
    await policies.load();
    assert.equal(log.lines.length, 1, "an error already reported is not logged again");

    const listed = (await policies.list()).find((p) => p.scope === "group:sales");
    assert.ok(listed && !listed.valid);
    assert.equal(listed.inForce, "last_good");
    assert.deepEqual(listed.document, JSON.parse(OLD_STYLE));
  });

  test("with no valid version (a restart): every message of the scope's senders waits for approval", async () => {
    const rows = new PolicyRows();
    rows.edit("org", JSON.stringify({ preset: "self", locks: ["rules"] }));
    rows.edit("group:sales", OLD_STYLE);
    const log = new ErrorLog();
    const policies = service(rows, log);
    await policies.load();
    assert.equal(log.lines[0]?.fields.inForce, "fail_closed", "reported at load");

    const { policy } = await policies.effectiveFor(SALES, SALES.email);
    assert.deepEqual(
      policy.rules.map((r) => r.name),
      ["invalid-policy group:sales"],
      "first, and not dropped by the organisation's lock on rules",
    );
    const decision = evaluate(policy, {
      sender: SALES.email,
      senderGroups: ["sales"],
      recipients: [{ address: "a@corp.example", field: "to" }],
      subject: "ご案内",
      bodyText: "",
      attachments: [],
      size: 100,
      now: new Date(),
      timeZone: "Asia/Tokyo",
      pii: () => ({ phone: 0, postal_address: 0, my_number: 0, credit_card: 0, email: 0 }),
      analysisGaps: [],
    });
    assert.deepEqual(decision.approval?.rules, ["invalid-policy group:sales"]);

    const other = user("hanako@corp.example");
    assert.deepEqual(await ruleNames(policies, other), [], "senders outside the scope are not affected");

    await policies.set("group:sales", secretRule, "admin");
    assert.deepEqual(
      await ruleNames(policies, SALES),
      [],
      "fixed (the organisation's lock leaves its rules out)",
    );
    assert.deepEqual(await policies.invalidPolicies(), []);
  });

  test("a broken organisation policy holds everyone's mail, known users or not", async () => {
    const rows = new PolicyRows();
    rows.edit("org", "{ preset: self");
    const policies = service(rows);
    assert.deepEqual(await ruleNames(policies, SALES), ["invalid-policy org"]);
    const unknown = await policies.effectiveFor(null, "stranger@corp.example");
    assert.deepEqual(
      unknown.policy.rules.map((r) => r.name),
      ["invalid-policy org"],
    );
    const [problem] = await policies.invalidPolicies();
    assert.match(problem?.errors[0] ?? "", /^\(document\): not valid JSON/);
    assert.equal(
      (await policies.list())[0]?.document,
      "{ preset: self",
      "a text that is not JSON is shown as such",
    );
  });

  test("a scope removed and stored again broken has no last good version", async () => {
    const rows = new PolicyRows();
    const policies = service(rows);
    await policies.set("org", { preset: "self" }, "admin");
    await policies.set("group:sales", secretRule, "admin");
    await ruleNames(policies, SALES);
    await policies.remove("group:sales", "admin");
    await ruleNames(policies, SALES);
    rows.edit("group:sales", OLD_STYLE);
    assert.deepEqual(await ruleNames(policies, SALES), ["invalid-policy group:sales"]);
  });
});
