// Policies fail closed, through SMTP with a real relay target: a stored policy that no longer
// validates (written straight into SQLite, as an older version or a hand edit leaves it) keeps its
// last valid version in force, and after a restart makes its senders' mail wait for approval; a
// message whose text the analysis could not read whole waits for approval under the self preset.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import nodemailer from "nodemailer";
import { uniqueId } from "../helpers/fixtures.js";
import { TestGateway, waitFor } from "../helpers/gateway.js";
import { SmtpSink } from "../helpers/sink.js";

const PW = "correct-horse-1";
const ADMIN = "admin@corp.example";
const SALES = "sales1@corp.example";
const OTHER = "other@corp.example";

interface Listing {
  scope: string;
  document: unknown;
  valid: boolean;
  errors?: string[];
  inForce?: string;
}

interface Audit {
  entries: { action: string; messageId: string | null; detail: { rules?: string[] } }[];
}

describe("policies fail closed", () => {
  const sink = new SmtpSink();
  let gw: TestGateway;
  let admin: string;

  before(async () => {
    await sink.start();
    gw = new TestGateway({ relayPort: sink.port, config: { organization: { holdMinutes: 0 } } });
    gw.addUser(ADMIN, PW, "--role", "admin");
    await gw.start();
    gw.pinPorts();
    admin = await gw.token(ADMIN, PW);
    await put("org", { preset: "self", hold: { internal: 0, semiInternal: 0, external: 0 } });
    for (const [email, groups] of [
      [SALES, ["sales"]],
      [OTHER, []],
    ] as const) {
      const added = await gw.api(admin, "POST", "/admin/users", { email, password: PW, groups });
      assert.equal(added.status, 201, JSON.stringify(added.body));
    }
  });
  after(async () => {
    await gw.stop();
    await sink.stop();
  });

  async function put(scope: string, document: unknown): Promise<void> {
    const r = await gw.api(admin, "PUT", `/admin/policies/${scope}`, document);
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }

  async function send(
    from: string,
    mail: { subject: string; attachments?: { filename: string; content: string }[] },
  ): Promise<{ ok: boolean; reply: string; id?: string; messageId: string }> {
    const messageId = uniqueId("failclosed");
    const transport = nodemailer.createTransport({
      host: "127.0.0.1",
      port: gw.ports.smtp,
      tls: { rejectUnauthorized: false },
      auth: { user: from, pass: PW },
    });
    try {
      const info = await transport.sendMail({
        from,
        to: "client@partner.example",
        text: "本文",
        messageId: `<${messageId}>`,
        ...mail,
      });
      return { ok: true, reply: info.response, id: /Queued as (\S+);/.exec(info.response)?.[1], messageId };
    } catch (err) {
      return { ok: false, reply: (err as { response?: string }).response ?? String(err), messageId };
    } finally {
      transport.close();
    }
  }

  const listing = async (scope: string) =>
    (await gw.api<{ policies: Listing[] }>(admin, "GET", "/admin/policies")).body.policies.find(
      (p) => p.scope === scope,
    );
  const status = async (id: string) =>
    (await gw.api<{ status: string }>(admin, "GET", `/messages/${id}`)).body.status;
  const rulesOf = async (id: string) =>
    (await gw.api<Audit>(admin, "GET", "/admin/audit?limit=200")).body.entries.find(
      (e) => e.messageId === id && e.action === "awaiting_approval",
    )?.detail.rules;

  /** Replaces a scope's stored document behind the gateway's back, and tells it the policies moved on. */
  async function storeBehindItsBack(scope: string, text: string): Promise<void> {
    await gw.write("UPDATE policies SET document = ? WHERE scope = ?", [text, scope]);
    await gw.write("UPDATE policy_version SET version = version + 1");
  }

  test("a stored policy that stops validating: logged, shown, its last valid version stays", async () => {
    await put("group:sales", {
      rules: [
        {
          name: "no-secrets",
          when: { subjectContains: ["極秘"] },
          then: { reject: { reason: "極秘は送信できません / No secrets" } },
        },
      ],
    });
    const before = await send(SALES, { subject: "極秘の資料" });
    assert.equal(before.ok, false);
    assert.match(before.reply, /^550 5\.7\.1 .*\(rule no-secrets\)/);

    // What an older version accepted: a JavaScript lookahead, which RE2 cannot run.
    const broken = {
      rules: [
        {
          name: "no-secrets",
          enabled: true,
          when: { subjectMatches: "極秘(?!ではない)" },
          then: { reject: { reason: "極秘は送信できません / No secrets" } },
        },
      ],
    };
    await storeBehindItsBack("group:sales", JSON.stringify(broken));

    const shown = await waitFor(async () => {
      const l = await listing("group:sales");
      return l && !l.valid ? l : null;
    }, 5000);
    assert.equal(shown.inForce, "last_good");
    assert.deepEqual(shown.document, broken, "what is stored, as stored");
    assert.equal(shown.errors?.length, 1);
    assert.match(
      shown.errors?.[0] ?? "",
      /^rules\.0\.when\.subjectMatches: expected a valid regular expression \(RE2 syntax.*lookahead.*\(rule "no-secrets"\)$/,
    );
    assert.equal((await listing("org"))?.valid, true);

    const logged = await waitFor(
      () => gw.logLines.find((l) => l.level === 50 && l.scope === "group:sales"),
      5000,
      "the error in the log",
    );
    assert.equal(logged.inForce, "last_good");
    assert.deepEqual(logged.errors, shown.errors);

    // The last good version is still in force (the listing made the gateway read the store): a
    // secret is still refused, other mail goes on.
    const secret = await send(SALES, { subject: "極秘の資料" });
    assert.equal(secret.ok, false);
    assert.match(secret.reply, /\(rule no-secrets\)/);
    const normal = await send(SALES, { subject: "ご案内" });
    assert.ok(normal.ok, normal.reply);
    await waitFor(async () => (await status(normal.id as string)) === "sent", 5000, "normal mail sent");
  });

  test("after a restart with no valid version: its senders' mail waits for approval", async () => {
    await gw.stop();
    const firstLine = gw.logLines.length;
    await gw.start();
    admin = await gw.token(ADMIN, PW);
    const shown = await listing("group:sales");
    assert.equal(shown?.valid, false);
    assert.equal(shown?.inForce, "fail_closed");
    const logged = gw.logLines.slice(firstLine).find((l) => l.level === 50 && l.scope === "group:sales");
    assert.equal(logged?.inForce, "fail_closed", "reported at start");

    const held = await send(SALES, { subject: "ご案内" });
    assert.ok(held.ok && held.id, held.reply);
    assert.equal(await status(held.id), "pending_approval");
    assert.deepEqual(await rulesOf(held.id), ["invalid-policy group:sales"]);
    const bystander = await send(OTHER, { subject: "ご案内" });
    assert.ok(bystander.ok && bystander.id, bystander.reply);
    await waitFor(
      async () => (await status(bystander.id as string)) === "sent",
      5000,
      "other groups unaffected",
    );

    const show = gw.cli(["policy", "show", "--user", SALES]);
    assert.equal(show.status, 0, show.stderr);
    assert.match(
      show.stderr,
      /warning: the stored policy of group:sales does not validate:\n {2}- rules\.0\.when\.subjectMatches: /,
    );
    assert.match(show.stderr, /Fix it: sendguard policy set group:sales FILE/);
    assert.match(show.stdout, /name: invalid-policy group:sales/);

    // Fixed by the admin: the group's rule applies again, nothing waits any more.
    await put("group:sales", {
      rules: [
        { name: "no-secrets", when: { subjectMatches: "極秘" }, then: { reject: { reason: "No secrets" } } },
      ],
    });
    assert.equal((await listing("group:sales"))?.valid, true);
    const fixed = await send(SALES, { subject: "ご案内" });
    assert.ok(fixed.ok && fixed.id, fixed.reply);
    await waitFor(async () => (await status(fixed.id as string)) === "sent", 5000, "sent once fixed");
    assert.equal((await send(SALES, { subject: "極秘" })).ok, false);
  });

  test("a row that is not even JSON is listed with its error, not a 500", async () => {
    await put(`user:${OTHER}`, { hold: { external: 0 } });
    await storeBehindItsBack(`user:${OTHER}`, "{ hold: ");
    const shown = await waitFor(async () => {
      const l = await listing(`user:${OTHER}`);
      return l && !l.valid ? l : null;
    }, 5000);
    assert.equal(shown.document, "{ hold: ");
    assert.match(shown.errors?.[0] ?? "", /^\(document\): not valid JSON/);
    assert.equal(shown.inForce, "last_good");
    await gw.api(admin, "DELETE", `/admin/policies/user:${OTHER}`);
  });

  test("self preset: a keyword past the text limit is not seen, so the message waits for approval", async () => {
    await put("group:sales", {
      rules: [
        {
          name: "confidential",
          when: { contentContains: ["社外秘"] },
          then: { reject: { reason: "社外秘は送信できません / Confidential" } },
        },
      ],
    });
    const visible = await send(SALES, {
      subject: "資料",
      attachments: [{ filename: "メモ.txt", content: "これは社外秘です" }],
    });
    assert.equal(visible.ok, false, "read whole, the keyword rule rejects it");
    assert.match(visible.reply, /\(rule confidential\)/);

    // The analysis keeps 2,000,000 characters of text per message: the keyword lies past them.
    const long = await send(SALES, {
      subject: "資料",
      attachments: [{ filename: "長い.txt", content: `${"a ".repeat(1_000_000)}これは社外秘です` }],
    });
    assert.ok(long.ok && long.id, long.reply);
    assert.equal(await status(long.id), "pending_approval");
    assert.deepEqual(await rulesOf(long.id), ["analysis-incomplete"]);
    assert.equal(sink.messages.filter((m) => m.messageId === long.messageId).length, 0, "nothing relayed");
  });
});
