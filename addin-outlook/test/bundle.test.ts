// The built bundle as Outlook loads it: one script, no import(), no DOM, Office.actions.associate
// for every function name the manifest uses, and a decision from it in a bare JavaScript context.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { FALLBACK_CLIENT_POLICY } from "@sendguard/shared";
import { ATTACHMENTS_FUNCTION, RECIPIENTS_FUNCTION, SEND_FUNCTION } from "../src/handler/commands.js";
import { BUNDLE, DIST, loadBundle } from "./bundle.js";
import { fakeOffice, type FakeItem } from "./fake-office.js";

const POLICY = {
  ...FALLBACK_CLIENT_POLICY,
  domains: { internal: ["corp.example"], semiInternal: [] },
  client: { ...FALLBACK_CLIENT_POLICY.client, skipWhenInternalOnly: true },
};
const item = (to: string): FakeItem => ({ to: [{ emailAddress: to }], subject: "件名", body: "本文" });

describe("dist/launchevent.js", () => {
  const code = readFileSync(BUNDLE, "utf8");

  test("is one script: no import(), no import/export statement, no require", () => {
    assert.doesNotMatch(code, /\bimport\s*\(/);
    assert.doesNotMatch(code, /^\s*(import|export)\s/m);
    assert.doesNotMatch(code, /\brequire\s*\(/);
  });

  test("with nothing but Office defined, it loads and associates every function of the manifest", () => {
    const host = fakeOffice({ item: item("hanako@corp.example") });
    loadBundle(host, {});
    assert.deepEqual(
      [...host.associated.keys()].sort(),
      [ATTACHMENTS_FUNCTION, SEND_FUNCTION, RECIPIENTS_FUNCTION].sort(),
    );
    assert.deepEqual([...host.associated.keys()].sort(), [
      "onAttachmentsChanged",
      "onRecipientsChanged",
      "onSendGuard",
    ]);
  });

  test("decides in a context without window, document or storage: allow, and block with the pane", async () => {
    const internal = fakeOffice({ item: item("hanako@corp.example"), roaming: { policyCache: POLICY } });
    assert.deepEqual(await loadBundle(internal).fire(SEND_FUNCTION), { allowEvent: true });
    const external = fakeOffice({ item: item("sato@client.example"), roaming: { policyCache: POLICY } });
    const decision = await loadBundle(external).fire(SEND_FUNCTION);
    assert.equal(decision.allowEvent, false);
    assert.equal(decision.commandId, "SendguardComposePane");
    assert.match(decision.errorMessage ?? "", /client\.example/);
  });

  test("the prepare functions complete their events", async () => {
    const host = fakeOffice({ item: item("hanako@corp.example") });
    const bundle = loadBundle(host);
    assert.deepEqual(await bundle.fire(RECIPIENTS_FUNCTION), {});
    assert.deepEqual(await bundle.fire(ATTACHMENTS_FUNCTION), {});
  });

  test("launchevent.html loads office.js, then the bundle", () => {
    const html = readFileSync(join(DIST, "launchevent.html"), "utf8");
    const scripts = [...html.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(scripts, [
      "https://appsforoffice.microsoft.com/lib/1/hosted/office.js",
      "launchevent.js",
    ]);
  });
});
