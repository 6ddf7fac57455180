// The real-world policies, end to end through SMTP with a real relay target.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import nodemailer from "nodemailer";
import { TestGateway, waitFor } from "../helpers/gateway.js";
import { bodyText, noticeLink, uniqueId } from "../helpers/fixtures.js";
import { SmtpSink } from "../helpers/sink.js";

const PW = "correct-horse-1";

/** An Etc/GMT zone in which the local time is now 23:xx, so "19:00–09:00" is in force. */
function zoneWhereItIsLateEvening(): string {
  let offset = (23 - new Date().getUTCHours() + 24) % 24;
  if (offset > 14) offset -= 24;
  return offset === 0 ? "Etc/GMT" : `Etc/GMT${offset > 0 ? "-" : "+"}${Math.abs(offset)}`;
}

interface Submitted {
  ok: boolean;
  reply: string;
  id?: string;
}

describe("real-world policies through SMTP", () => {
  const sink = new SmtpSink();
  let gw: TestGateway;
  let admin: string;

  before(async () => {
    await sink.start();
    gw = new TestGateway({
      relayPort: sink.port,
      config: {
        organization: { timezone: zoneWhereItIsLateEvening(), holdMinutes: 0 },
        smtp: { maxMessageBytes: 20 * 1024 * 1024 },
      },
    });
    gw.addUser("admin@corp.example", PW, "--role", "admin");
    await gw.start();
    admin = await gw.token("admin@corp.example", PW);
    const org = await gw.api(admin, "PUT", "/admin/policies/org", {
      preset: "self",
      hold: { internal: 0, semiInternal: 0, external: 0 },
      forcedBcc: { threshold: 0 },
    });
    assert.equal(org.status, 200, JSON.stringify(org.body));
  });
  after(async () => {
    await gw.stop();
    await sink.stop();
  });

  async function user(email: string, policy: unknown, extra: Record<string, unknown> = {}): Promise<void> {
    const added = await gw.api(admin, "POST", "/admin/users", { email, password: PW, ...extra });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    if (policy) {
      const set = await gw.api(admin, "PUT", `/admin/policies/user:${email}`, policy);
      assert.equal(set.status, 200, JSON.stringify(set.body));
    }
  }

  async function send(
    from: string,
    mail: {
      to?: string[];
      cc?: string[];
      bcc?: string[];
      subject?: string;
      text?: string;
      attachments?: { filename: string; content: string | Buffer }[];
    },
  ): Promise<Submitted & { messageId: string }> {
    const messageId = uniqueId("policy");
    const transport = nodemailer.createTransport({
      host: "127.0.0.1",
      port: gw.ports.smtp,
      tls: { rejectUnauthorized: false },
      auth: { user: from, pass: PW },
    });
    try {
      const info = await transport.sendMail({
        from,
        messageId: `<${messageId}>`,
        subject: "test",
        text: "本文",
        ...mail,
      });
      return { ok: true, reply: info.response, id: /Queued as (\S+);/.exec(info.response)?.[1], messageId };
    } catch (err) {
      return { ok: false, reply: (err as { response?: string }).response ?? String(err), messageId };
    } finally {
      transport.close();
    }
  }

  const view = async (id: string) =>
    (
      await gw.api<{
        status: string;
        groups: {
          id: string;
          name: string;
          status: string;
          releaseAt: string;
          recipients: { address: string }[];
        }[];
      }>(admin, "GET", `/messages/${id}`)
    ).body;
  const delivered = (messageId: string) => sink.messages.filter((m) => m.messageId === messageId);

  test("1. hold external mail 60 minutes, but not internal or group-company mail", async () => {
    await user("p1@corp.example", { hold: { internal: 0, semiInternal: 0, external: 60 } });
    const r = await send("p1@corp.example", {
      to: ["a@corp.example", "b@group.example", "c@partner.example"],
    });
    assert.ok(r.ok && r.id, r.reply);
    await waitFor(
      () => delivered(r.messageId).flatMap((m) => m.to).length === 2,
      5000,
      "internal and group copies",
    );
    assert.deepEqual(
      delivered(r.messageId)
        .flatMap((m) => m.to)
        .sort(),
      ["a@corp.example", "b@group.example"],
    );
    const v = await view(r.id);
    const external = v.groups.find((g) => g.name === "external");
    assert.equal(external?.status, "held");
    const heldFor = Date.parse(external?.releaseAt ?? "") - Date.now();
    assert.ok(heldFor > 59 * 60_000 && heldFor <= 60 * 60_000, `external held for ${heldFor} ms`);
    // Each group acts on its own: cancelling only the held external copies.
    const discard = await gw.api<{ status: string }>(
      admin,
      "POST",
      `/messages/${r.id}/groups/${external?.id}/discard`,
    );
    assert.equal(discard.status, 200);
    const after = await view(r.id);
    assert.equal(after.groups.find((g) => g.name === "external")?.status, "discarded");
    assert.equal(after.status, "sent", "the internal copies were sent; nothing else is pending");
    const again = await gw.api<{ error: { code: string } }>(
      admin,
      "POST",
      `/messages/${r.id}/groups/${external?.id}/discard`,
    );
    assert.equal(again.body.error.code, "already_final");
    const foreign = await gw.api(admin, "POST", `/messages/${r.id}/groups/not-a-group/discard`);
    assert.equal(foreign.status, 404);
  });

  test("2. reject external mail 19:00–09:00 (it is 23:xx in the organisation's timezone)", async () => {
    const night = {
      rules: [
        {
          name: "no-external-at-night",
          when: { recipientClass: ["external"], timeWindow: { from: "19:00", to: "09:00" } },
          then: {
            reject: {
              reason: {
                ja: "夜間 (19:00〜9:00) の社外宛送信は禁止されています",
                en: "No external mail between 19:00 and 09:00",
              },
            },
          },
        },
      ],
    };
    await user("p2@corp.example", night);
    const external = await send("p2@corp.example", { to: ["c@partner.example"], subject: "夜の見積" });
    assert.equal(external.ok, false);
    assert.match(
      external.reply,
      /^550 5\.7\.1 No external mail between 19:00 and 09:00 \(rule no-external-at-night\)/,
    );
    const p2 = await gw.token("p2@corp.example", PW);
    const viaApi = await fetch(`${gw.httpUrl}/api/v1/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${p2}`, "content-type": "application/json", "accept-language": "ja" },
      body: JSON.stringify({ to: "c@partner.example", subject: "API から", text: "本文" }),
    });
    assert.equal(viaApi.status, 422);
    assert.deepEqual(await viaApi.json(), {
      error: {
        code: "rejected",
        rule: "no-external-at-night",
        message: "夜間 (19:00〜9:00) の社外宛送信は禁止されています",
      },
    });
    const internal = await send("p2@corp.example", { to: ["a@corp.example"] });
    assert.ok(internal.ok, internal.reply);
    const notice = await waitFor(
      () => sink.to("p2@corp.example").find((m) => m.text.includes(external.messageId)),
      5000,
      "reject notice",
    );
    const text = await bodyText(notice.raw);
    assert.match(text, /該当したルール: no-external-at-night/);
    assert.match(text, /理由: 夜間 \(19:00〜9:00\) の社外宛送信は禁止されています/);
    const audit = await gw.api<{ entries: { action: string; detail: { rule?: string } }[] }>(
      admin,
      "GET",
      "/admin/audit?limit=100",
    );
    assert.ok(
      audit.body.entries.some((e) => e.action === "rejected" && e.detail.rule === "no-external-at-night"),
    );
    assert.equal(delivered(external.messageId).length, 0);
  });

  test("3. reject when body and attachments together hold ≥ 10 phone numbers or ≥ 10 postal addresses", async () => {
    await user("p3@corp.example", {
      rules: [
        {
          name: "pii",
          when: { piiAtLeast: { phone: 10, postal_address: 10 } },
          then: { reject: { reason: "個人情報が多すぎます / Too much personal data" } },
        },
      ],
    });
    const phones = (n: number) =>
      Array.from({ length: n }, (_, i) => `山田${i},03-1234-${String(5000 + i).padStart(4, "0")}`).join(
        "\r\n",
      );
    const body5 = Array.from({ length: 5 }, (_, i) => `090-1111-${String(2000 + i)}`).join("\n");
    const ten = await send("p3@corp.example", {
      to: ["x@partner.example"],
      text: body5,
      attachments: [{ filename: "名簿.csv", content: phones(5) }],
    });
    assert.equal(ten.ok, false, "5 in the body + 5 in the attachment = 10");
    assert.match(ten.reply, /^550 5\.7\.1 .*\(rule pii\)/);
    const nine = await send("p3@corp.example", {
      to: ["x@partner.example"],
      text: body5,
      attachments: [{ filename: "名簿.csv", content: phones(4) }],
    });
    assert.ok(nine.ok, nine.reply);
    // the content was analysed for the rule, so the audit names what left the company
    const audit = await gw.api<{
      entries: { action: string; detail: { attachments?: { filename: string; size: number }[] } }[];
    }>(admin, "GET", "/admin/audit?limit=100");
    assert.ok(
      audit.body.entries.some(
        (e) =>
          e.action === "accepted" &&
          e.detail.attachments?.some(
            (a) => a.filename === "名簿.csv" && a.size === Buffer.byteLength(phones(4)),
          ),
      ),
      JSON.stringify(audit.body.entries.map((e) => e.detail.attachments)),
    );
    const addresses = Array.from(
      { length: 10 },
      (_, i) => `〒100-000${i % 10} 東京都千代田区千代田${i}-1`,
    ).join("\n");
    const tenAddresses = await send("p3@corp.example", { to: ["x@partner.example"], text: addresses });
    assert.equal(tenAddresses.ok, false);
  });

  test("4. reject messages of 10 MB or more", async () => {
    await user("p4@corp.example", {
      rules: [
        {
          name: "size",
          when: { messageSizeAtLeast: 10 * 1024 * 1024 },
          then: { reject: { reason: "10MB 以上は送信できません" } },
        },
      ],
    });
    const big = await send("p4@corp.example", {
      to: ["x@partner.example"],
      attachments: [{ filename: "big.bin", content: Buffer.alloc(8 * 1024 * 1024, 7) }],
    });
    assert.equal(big.ok, false, "8 MiB base64-encoded is over 10 MiB on the wire");
    assert.match(big.reply, /^550 5\.7\.1 .*\(rule size\)/);
    const small = await send("p4@corp.example", {
      to: ["x@partner.example"],
      attachments: [{ filename: "small.bin", content: Buffer.alloc(1024 * 1024, 7) }],
    });
    assert.ok(small.ok, small.reply);
  });

  test("5. reject three or more attachments", async () => {
    await user("p5@corp.example", {
      rules: [
        {
          name: "three",
          when: { attachmentCountAtLeast: 3 },
          then: { reject: { reason: "添付は2つまで / At most 2 attachments" } },
        },
      ],
    });
    const files = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ filename: `資料${i}.txt`, content: `file ${i}` }));
    assert.equal(
      (await send("p5@corp.example", { to: ["x@partner.example"], attachments: files(3) })).ok,
      false,
    );
    const two = await send("p5@corp.example", { to: ["x@partner.example"], attachments: files(2) });
    assert.ok(two.ok, two.reply);
  });

  test("6. force Bcc at 10 or more external To/Cc addresses", async () => {
    await user("p6@corp.example", { forcedBcc: { threshold: 10, to: "sender" } });
    const to = Array.from({ length: 8 }, (_, i) => `c${i}@client${i}.example`);
    const cc = ["d0@client8.example", "d1@client9.example", "colleague@corp.example"];
    const r = await send("p6@corp.example", { to, cc, subject: "セミナーのご案内" });
    assert.ok(r.ok, r.reply);
    await waitFor(
      () => delivered(r.messageId).flatMap((m) => m.to).length === 11,
      5000,
      "every recipient by envelope",
    );
    for (const copy of delivered(r.messageId)) {
      assert.match(copy.text, /^To: p6@corp\.example\r$/m);
      assert.match(copy.text, /^Cc: colleague@corp\.example\r$/m, "internal Cc stays visible");
      assert.doesNotMatch(copy.text, /client\d\.example/, "no external address in any header");
    }
    const nine = await send("p6@corp.example", {
      to: to.slice(0, 7),
      cc: ["d0@client8.example", "d1@client9.example"],
    });
    await waitFor(() => delivered(nine.messageId).length > 0, 5000, "below the threshold");
    assert.match(delivered(nine.messageId)[0]?.text ?? "", /^To: c0@client0\.example/m);
  });

  test("7. only the sender in To, everyone else only in Bcc", async () => {
    await user("p7@corp.example", {
      rules: [
        {
          name: "bcc-only",
          when: { toCcOtherThanSender: true },
          then: { reject: { reason: "宛先は Bcc に入れてください / Put recipients in Bcc" } },
        },
      ],
    });
    const wrong = await send("p7@corp.example", { to: ["client@partner.example"] });
    assert.equal(wrong.ok, false);
    assert.match(wrong.reply, /Put recipients in Bcc/);
    const right = await send("p7@corp.example", {
      to: ["p7@corp.example"],
      bcc: ["a@partner.example", "b@other.example"],
    });
    assert.ok(right.ok, right.reply);
    await waitFor(
      () => delivered(right.messageId).flatMap((m) => m.to).length === 3,
      5000,
      "delivered to all",
    );
  });

  test("8. delay a key customer's domain 60 minutes while internal copies go at once", async () => {
    await user("p8@corp.example", {
      rules: [
        {
          name: "key-customer",
          when: { recipientDomain: ["key-customer.example"] },
          then: { delayExternal: { minutes: 60 } },
        },
      ],
    });
    const r = await send("p8@corp.example", {
      to: ["buyer@key-customer.example"],
      cc: ["boss@corp.example"],
    });
    assert.ok(r.ok && r.id, r.reply);
    await waitFor(() => delivered(r.messageId).length === 1, 5000, "the internal copy");
    assert.deepEqual(delivered(r.messageId)[0]?.to, ["boss@corp.example"]);
    // The sink has the copy a moment before the gateway records the result.
    await waitFor(
      async () => (await view(r.id as string)).groups[0]?.status === "sent",
      5000,
      "internal group sent",
    );
    const v = await view(r.id);
    assert.deepEqual(
      v.groups.map((g) => [g.name, g.status]),
      [
        ["internal", "sent"],
        ["external", "held"],
      ],
    );
    const delay = Date.parse(v.groups[1]?.releaseAt ?? "") - Date.now();
    assert.ok(delay > 59 * 60_000, `external delayed ${delay} ms`);
    // Each group acts on its own: sending the held group now relays only the external copy.
    await gw.api(admin, "POST", `/messages/${r.id}/release`);
    await waitFor(() => delivered(r.messageId).length === 2, 5000, "the external copy after release");
  });

  test("9. new employees' external mail needs their manager's approval", async () => {
    await gw.api(admin, "POST", "/admin/users", {
      email: "manager@corp.example",
      password: PW,
      role: "approver",
    });
    await gw.api(admin, "PUT", "/admin/policies/group:new", {
      rules: [
        {
          name: "new-employee-external",
          when: { senderGroup: ["new"], recipientClass: ["external"] },
          then: { approve: {} },
        },
      ],
    });
    await user("p9@corp.example", null, { groups: ["new"], manager: "manager@corp.example" });
    const internal = await send("p9@corp.example", { to: ["a@corp.example"] });
    await waitFor(() => delivered(internal.messageId).length === 1, 5000, "internal mail needs no approval");

    const r = await send("p9@corp.example", { to: ["client@partner.example"], subject: "初めてのご連絡" });
    assert.ok(r.ok && r.id, r.reply);
    assert.equal((await view(r.id)).status, "pending_approval");
    const request = await waitFor(
      () => sink.to("manager@corp.example").find((m) => m.text.includes(r.messageId)),
      5000,
      "approval request",
    );
    const link = await noticeLink(request.raw, "approve");
    const page = await fetch(link);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /初めてのご連絡/);
    assert.match(html, /new-employee-external/);
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
    const approved = await fetch(`${link}/decide`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `csrf=${csrf}&verdict=approve&comment=OK`,
    });
    assert.equal(approved.status, 303);
    assert.match(approved.headers.get("location") ?? "", /done=approved/);
    await waitFor(() => delivered(r.messageId).length === 1, 5000, "delivered after approval");

    const denied = await send("p9@corp.example", { to: ["client@partner.example"], subject: "二通目" });
    const manager = await gw.token("manager@corp.example", PW);
    const pending = await gw.api<{ messages: { id: string }[] }>(
      manager,
      "GET",
      "/messages?approver=me&status=pending_approval",
    );
    assert.ok(pending.body.messages.some((m) => m.id === denied.id));
    const bySender = await gw.token("p9@corp.example", PW);
    const self = await gw.api(bySender, "POST", `/messages/${denied.id}/approve`);
    assert.equal(self.status, 403, "no self-approval");
    const d = await gw.api<{ status: string }>(manager, "POST", `/messages/${denied.id}/deny`, {
      comment: "宛先を確認してください",
    });
    assert.deepEqual(d.body, { id: denied.id, status: "approval_denied" });
    const notice = await waitFor(
      () => sink.to("p9@corp.example").find((m) => m.text.includes(denied.messageId)),
      5000,
      "denied notice",
    );
    assert.match(await bodyText(notice.raw), /コメント: 宛先を確認してください/);
    await new Promise((res) => setTimeout(res, 500));
    assert.equal(delivered(denied.messageId).length, 0);
  });

  test("a broken policy is refused with its errors, and the old one stays in force", async () => {
    const before = await gw.api<{ policies: { scope: string; document: unknown }[] }>(
      admin,
      "GET",
      "/admin/policies",
    );
    const yaml =
      "rules:\n  - name: bad\n    when: { timeWindow: { from: '7pm', to: '09:00' } }\n    then: { rejectt: {} }\n";
    const res = await fetch(`${gw.httpUrl}/api/v1/admin/policies/user:p1@corp.example`, {
      method: "PUT",
      headers: {
        authorization: `Bearer ${admin}`,
        "content-type": "application/yaml",
        "accept-language": "en",
      },
      body: yaml,
    });
    assert.equal(res.status, 400);
    const err = (await res.json()) as { error: { code: string; errors: string[]; message: string } };
    assert.equal(err.error.code, "invalid_policy");
    assert.ok(
      err.error.errors.some((e) => /^rules\.0\.when\.timeWindow\.from: expected HH:MM/.test(e)),
      JSON.stringify(err.error.errors),
    );
    assert.ok(
      err.error.errors.some((e) => /^rules\.0\.then: unknown key rejectt/.test(e)),
      JSON.stringify(err.error.errors),
    );
    assert.match(err.error.message, /was not saved \(the current one stays\)/);
    const notYaml = await fetch(`${gw.httpUrl}/api/v1/admin/policies/org`, {
      method: "PUT",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/yaml" },
      body: "a: [1, 2",
    });
    assert.equal(notYaml.status, 400);
    const badScope = await gw.api(admin, "PUT", "/admin/policies/team:x", {});
    assert.equal(badScope.status, 400);
    const after = await gw.api<{ policies: unknown[] }>(admin, "GET", "/admin/policies");
    assert.deepEqual(after.body, before.body);
    // The old policy of p1 still holds external mail.
    const r = await send("p1@corp.example", { to: ["c@partner.example"] });
    assert.equal((await view(r.id as string)).groups[0]?.status, "held");
  });

  test("the CLI sets a policy that the running gateway applies without a restart", async () => {
    await user("p10@corp.example", null);
    const { writeFileSync } = await import("node:fs");
    const file = `${gw.dataDir}/p10.yaml`;
    writeFileSync(
      file,
      "rules:\n  - name: cli-rule\n    when: { subjectContains: [極秘] }\n    then: { reject: { reason: 極秘は送信できません } }\n",
    );
    const set = gw.cli(["policy", "set", "user:p10@corp.example", file]);
    assert.equal(set.status, 0, set.stderr);
    // The gateway reloads policies when their version moves on: wait until it applies this one.
    await waitFor(
      async () =>
        JSON.stringify(
          (await gw.api(admin, "GET", "/admin/policies/effective?user=p10%40corp.example")).body,
        ).includes("cli-rule"),
      10_000,
      "the gateway to apply the CLI's policy",
    );
    const r = await send("p10@corp.example", { to: ["a@corp.example"], subject: "【極秘】人事案" });
    assert.equal(r.ok, false);
    writeFileSync(file, "rules: [{ name: x }]\n");
    const bad = gw.cli(["policy", "set", "user:p10@corp.example", file]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /the policy was not saved:\n {2}- rules\.0\.then: /);
  });
});
