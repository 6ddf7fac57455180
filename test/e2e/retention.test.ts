// Retention end to end: mail submitted with swaks and nodemailer, relayed to a real SMTP sink, then
// its body deleted by `sendguard retention run` beside the running gateway and by the gateway's own
// job (it runs at every start). Days are not waited for: retention.bodyDays 0 deletes a final
// message's body at the next run (the unit tests move an injected clock instead). Afterwards the
// API and the hold page say the body is gone, and nothing else changed: a held message keeps its
// body and is delivered byte for byte, new mail is taken in and delivered.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { TestGateway, waitFor } from "../helpers/gateway.js";
import { noticeLink, rawMessage, submitSmtp, uniqueId } from "../helpers/fixtures.js";
import { SmtpSink } from "../helpers/sink.js";
import { swaks } from "../helpers/swaks.js";

const PW = "correct-horse-1";
const HANAKO = "hanako@corp.example"; // held for 1.2 s: delivered almost at once, with a hold link
const SLOW = "slow@corp.example"; // held for an hour: still held when retention runs

interface View {
  id: string;
  status: string;
  bodyKept: boolean;
  bodyDeletedAt?: string;
}

describe("retention end to end", () => {
  const sink = new SmtpSink();
  let gw: TestGateway;
  let hanako: string;
  let slow: string;

  before(async () => {
    await sink.start();
    gw = new TestGateway({
      relayPort: sink.port,
      config: { organization: { holdMinutes: 0.02 }, retention: { bodyDays: 7 } },
    });
    gw.addUser(HANAKO, PW);
    gw.addUser(SLOW, PW, "--hold-minutes", "60");
    await gw.start();
    gw.pinPorts();
    [hanako, slow] = await Promise.all([gw.token(HANAKO, PW), gw.token(SLOW, PW)]);
  });
  after(async () => {
    await gw.stop();
    await sink.stop();
  });

  const view = async (token: string, id: string) =>
    (await gw.api<View>(token, "GET", `/messages/${id}`)).body;
  const spoolFile = (id: string) => join(gw.dataDir, "spool", `${id}.eml`);
  const bodyRow = async (id: string) =>
    (await gw.query<{ n: number }>("SELECT count(*) AS n FROM bodies WHERE message_id = ?", [id]))[0]?.n;
  const relayed = (messageId: string) =>
    waitFor(() => sink.messages.find((m) => m.messageId === messageId && m.acknowledged), 15_000, messageId);

  /** Submits with swaks (a small body, stored in the database); returns the gateway's id. */
  function viaSwaks(user: string, messageId: string): string {
    const r = swaks([
      ...["--server", `127.0.0.1:${gw.ports.smtp}`, "--tls"],
      ...["--auth", "PLAIN", "--auth-user", user, "--auth-password", PW],
      ...["--from", user, "--to", "client@partner.example", "--header", `Message-Id: <${messageId}>`],
    ]);
    const id = /Queued as (\S+);/.exec(r.lastReply)?.[1];
    assert.ok(id, r.output);
    return id;
  }

  /** Submits with nodemailer a message over spool.inlineMaxBytes (a spool file); returns the id. */
  const viaNodemailer = (user: string, messageId: string, body: string) =>
    submitSmtp(
      gw,
      { user, password: PW },
      ["client@partner.example"],
      rawMessage({ from: user, to: ["client@partner.example"], subject: "大きい添付", messageId, body }),
    );

  const large = (tag: string) => `${tag}\r\n${"0123456789abcdef".repeat(6000)}\r\n`; // ~96 KB

  test("the CLI beside the running gateway deletes delivered bodies; held ones, and everything else, stay", async () => {
    const smallMid = uniqueId("small");
    const largeMid = uniqueId("large");
    const heldMid = uniqueId("held");
    const small = viaSwaks(HANAKO, smallMid);
    const big = await viaNodemailer(HANAKO, largeMid, large("big"));
    const heldBody = large("kept");
    const held = await viaNodemailer(SLOW, heldMid, heldBody);
    await relayed(smallMid);
    await relayed(largeMid);
    await waitFor(async () => (await view(hanako, big)).status === "sent", 5000, "sent recorded");
    assert.equal(await bodyRow(small), 1, "a small body is in the database");
    assert.ok(existsSync(spoolFile(big)) && existsSync(spoolFile(held)), "large bodies are spool files");
    assert.equal((await view(hanako, small)).bodyKept, true);

    // The running gateway keeps bodies 7 days; this run, with the same data directory, 0 days.
    gw.patchConfig({ retention: { bodyDays: 0 } });
    const run = gw.cli(["retention", "run"]);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /Retention run done\. Deleted:\n {2}message bodies: +2\n/);
    assert.match(run.stdout, /messages \(rows\): +0\n/);

    for (const id of [small, big]) {
      const v = await view(hanako, id);
      assert.equal(v.status, "sent");
      assert.equal(v.bodyKept, false);
      assert.ok(
        v.bodyDeletedAt && Math.abs(Date.parse(v.bodyDeletedAt) - Date.now()) < 60_000,
        v.bodyDeletedAt,
      );
    }
    assert.equal(await bodyRow(small), 0, "the bodies row is gone");
    assert.equal(existsSync(spoolFile(big)), false, "the spool file is gone");
    const kept = await view(slow, held);
    assert.deepEqual([kept.status, kept.bodyKept, kept.bodyDeletedAt], ["held", true, undefined]);
    assert.ok(existsSync(spoolFile(held)));

    // The gateway goes on: the held message is released and delivered whole, new mail goes through.
    assert.equal((await gw.api(slow, "POST", `/messages/${held}/release`)).status, 200);
    const out = await relayed(heldMid);
    assert.ok(out.text.includes(heldBody), "the held body, relayed byte for byte");
    const afterMid = uniqueId("after");
    const next = viaSwaks(HANAKO, afterMid);
    await relayed(afterMid);
    assert.equal((await view(hanako, next)).bodyKept, true);
  });

  test("the hold page says the body was deleted, in Japanese and English", async () => {
    const mid = uniqueId("page");
    // Held for an hour (no race with the notice, which is only sent while the message is held),
    // then sent now from the API.
    const id = viaSwaks(SLOW, mid);
    const notice = await waitFor(
      () => sink.to(SLOW).find((m) => m.text.includes(mid)),
      10_000,
      "hold notice",
    );
    const link = await noticeLink(notice.raw, "hold");
    assert.equal((await gw.api(slow, "POST", `/messages/${id}/release`)).status, 200);
    await relayed(mid);
    await waitFor(async () => (await view(slow, id)).status === "sent", 5000, "sent recorded");
    const page = async (lang: string) => (await fetch(`${link}?lang=${lang}`)).text();
    assert.doesNotMatch(await page("ja"), /data-testid="body-deleted"/);

    gw.patchConfig({ retention: { bodyDays: 0 } });
    const run = gw.cli(["retention", "run"]);
    assert.equal(run.status, 0, run.stderr);
    const deletedAt = (await view(slow, id)).bodyDeletedAt;
    assert.ok(deletedAt);
    const ja = await page("ja");
    assert.match(
      ja,
      /<dt>本文<\/dt><dd data-testid="body-deleted">保存期間を過ぎたため .+ に削除しました。件名・宛先・配送結果の記録は残っています。<\/dd>/,
    );
    assert.match(ja, /data-testid="status">送信済み</);
    const en = await page("en");
    assert.match(
      en,
      /<dt>Message body<\/dt><dd data-testid="body-deleted">Deleted on .+: its retention period had passed\. The subject, recipients and delivery results are still on record\.<\/dd>/,
    );
  });

  test("the gateway's own job deletes them too (it runs at the start, then every intervalMinutes)", async () => {
    const mid = uniqueId("own-job");
    const id = await viaNodemailer(HANAKO, mid, large("own job"));
    await relayed(mid);
    await waitFor(async () => (await view(hanako, id)).status === "sent", 5000, "sent recorded");
    assert.ok(existsSync(spoolFile(id)));
    // The running gateway read its config at its start; the next one reads bodyDays 0.
    gw.patchConfig({ retention: { bodyDays: 0 } });
    await gw.stop();
    await gw.start();
    const hanakoAgain = await gw.token(HANAKO, PW);
    await waitFor(async () => !(await view(hanakoAgain, id)).bodyKept, 10_000, "body deleted by the job");
    assert.equal(existsSync(spoolFile(id)), false);
    const logged = await waitFor(() =>
      gw.logLines.find((l) => l.event === "retention" && Number(l.bodies) >= 1),
    );
    assert.equal(logged.msg, "retention deleted old data");
  });
});
