// An administrator's deployment, as docs/thunderbird.md describes it, in a real headless
// Thunderbird: policies.json installs the extension and gives it the gateway URL and the user's
// token (managed storage). Nothing is set up in the profile: the first Send already uses the
// policy the gateway has for this user.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { TestGateway, waitFor } from "../helpers/gateway.js";
import { uniqueId } from "../helpers/fixtures.js";
import { SmtpSink } from "../helpers/sink.js";
import {
  SENDGUARD_ID,
  SENDGUARD_XPI,
  Thunderbird,
  extensionUnavailable,
  thunderbirdOnGateway,
} from "../helpers/thunderbird.js";

const USER = "hanako@corp.example";
const PW = "correct-horse-2";
const EXTERNAL = "buyer@client.example";

const skip = extensionUnavailable();

describe("Sendguard deployed with policies.json in Thunderbird", { skip }, () => {
  const sink = new SmtpSink();
  let gw: TestGateway;
  let tb: Thunderbird;
  let token: string;

  before(async () => {
    await sink.start();
    gw = new TestGateway({ relayPort: sink.port, config: { organization: { holdMinutes: 10 } } });
    gw.addUser(USER, PW);
    gw.addUser("admin@corp.example", PW, "--role", "admin");
    await gw.start();
    token = await gw.token(USER, PW);
    // This user's policy suggests Bcc from one external address: only the gateway knows that.
    const admin = await gw.token("admin@corp.example", PW);
    const set = await gw.api(admin, "PUT", `/admin/policies/user:${USER}`, {
      client: { bccSuggestThreshold: 1 },
    });
    assert.equal(set.status, 200, JSON.stringify(set.body));

    tb = await thunderbirdOnGateway(gw, USER, PW, {
      prefs: { "xpinstall.signatures.required": false, "extensions.autoDisableScopes": 0 },
      policies: {
        Extensions: { Install: [SENDGUARD_XPI] },
        "3rdparty": {
          Extensions: { [SENDGUARD_ID]: { settings: { gatewayUrl: gw.httpUrl, token } } },
        },
      },
    });
  });

  after(async () => {
    await tb?.stop();
    await gw?.stop();
    await sink.stop();
  });

  test("installed by policy, it confirms with the gateway's policy for the managed token, and the gateway holds it", async () => {
    const subject = `Managed ${uniqueId("tbm")}`;
    const send = await tb.startSend({ to: [EXTERNAL], subject, body: "Hello." });
    const { url } = await tb.waitForWindow("/confirm.html?request=", 30_000);
    await waitFor(
      () =>
        tb
          .execInPage<boolean>(url, "return !!document.querySelector('[data-testid=send]')")
          .catch(() => false),
      10_000,
      "the confirm dialog",
    );
    assert.equal(
      await tb.execInPage<boolean>(url, "return !!document.querySelector('[data-testid=convert-bcc]')"),
      true,
      "Bcc suggested for one external address: the user's policy came from the gateway",
    );
    await tb.execInPage(
      url,
      "for (const i of document.querySelectorAll('input[type=checkbox]')) if (!i.checked) i.click(); return true;",
    );
    await tb.clickInPage(url, "[data-testid=send]");
    // "Many external To/Cc" is of severity confirm: Send asks once more.
    await waitFor(
      () => tb.execInPage<boolean>(url, "return !!document.querySelector('[data-testid=again-send]')"),
      5_000,
      "the second confirmation",
    );
    await tb.clickInPage(url, "[data-testid=again-send]");
    assert.deepEqual(await tb.waitForSend(send, 20_000), { sent: true, error: null }, tb.output.slice(-3000));

    const held = await waitFor(
      async () => {
        const res = await gw.api<{ messages: { subject: string; status: string }[] }>(
          token,
          "GET",
          "/messages",
        );
        return res.body.messages.find((m) => m.subject === subject);
      },
      10_000,
      "the message at the gateway",
    );
    assert.equal(held.status, "held");
  });
});
