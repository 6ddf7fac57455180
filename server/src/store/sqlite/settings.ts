// What the administrator sets: policy documents (with the version that tells the policy service
// to reload) and DKIM keys.
import type { Db } from "../db.js";
import type { PolicyRecord } from "../types.js";
import { insertAudit } from "./audit.js";

export class Settings {
  constructor(
    private readonly writer: Db,
    private readonly reader: Db,
  ) {}

  async listPolicies(): Promise<PolicyRecord[]> {
    const rows = await this.reader.all<{
      scope: string;
      document: string;
      updated_at: number;
      updated_by: string;
    }>("SELECT * FROM policies ORDER BY scope");
    return rows.map((r) => ({
      scope: r.scope,
      document: r.document,
      updatedAt: r.updated_at,
      updatedBy: r.updated_by,
    }));
  }

  async putPolicy(scope: string, document: string, actor: string): Promise<void> {
    const now = Date.now();
    await this.writer.transaction(async () => {
      await this.writer.run(
        `INSERT INTO policies (scope, document, updated_at, updated_by) VALUES (?,?,?,?)
         ON CONFLICT(scope) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at,
           updated_by = excluded.updated_by`,
        [scope, document, now, actor],
      );
      await this.writer.run("UPDATE policy_version SET version = version + 1");
      await insertAudit(this.writer, [{ actor, action: "policy_set", detail: { scope } }], now);
    });
  }

  async deletePolicy(scope: string, actor: string): Promise<boolean> {
    return this.writer.transaction(async () => {
      const { changes } = await this.writer.run("DELETE FROM policies WHERE scope = ?", [scope]);
      if (!changes) return false;
      await this.writer.run("UPDATE policy_version SET version = version + 1");
      await insertAudit(this.writer, [{ actor, action: "policy_deleted", detail: { scope } }], Date.now());
      return true;
    });
  }

  async policyVersion(): Promise<number> {
    return (await this.reader.get<{ version: number }>("SELECT version FROM policy_version"))?.version ?? 0;
  }

  async saveDkimKey(domain: string, selector: string, privateKey: string): Promise<void> {
    await this.writer.transaction(() =>
      this.writer.run(
        `INSERT INTO dkim_keys (domain, selector, private_key, created_at) VALUES (?,?,?,?)
         ON CONFLICT(domain) DO UPDATE SET selector = excluded.selector, private_key = excluded.private_key,
           created_at = excluded.created_at`,
        [domain, selector, privateKey, Date.now()],
      ),
    );
  }

  async dkimKey(domain: string): Promise<{ selector: string; privateKey: string } | undefined> {
    const row = await this.reader.get<{ selector: string; private_key: string }>(
      "SELECT selector, private_key FROM dkim_keys WHERE domain = ?",
      [domain],
    );
    return row && { selector: row.selector, privateKey: row.private_key };
  }
}
