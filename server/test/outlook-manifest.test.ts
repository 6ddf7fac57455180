// The manifests as a gateway serves them: its publicUrl in every URL, the admin's send mode.
import assert from "node:assert/strict";
import { test } from "node:test";
import { OUTLOOK_PLACEHOLDER_ORIGIN } from "@sendguard/shared";
import { servedJsonManifest, servedXmlManifest } from "../src/web/outlook-manifest.js";

const P = OUTLOOK_PLACEHOLDER_ORIGIN;
const xml = `<OfficeApp><IconUrl DefaultValue="${P}/addin/outlook/icon-64.png"/><LaunchEvent Type="OnMessageSend" SendMode="SoftBlock"/><LaunchEvent Type="OnMessageRecipientsChanged"/></OfficeApp>`;
const json = JSON.stringify({
  developer: { websiteUrl: `${P}/` },
  validDomains: [new URL(P).host],
  extensions: [
    { autoRunEvents: [{ events: [{ type: "messageSending", options: { sendMode: "softBlock" } }] }] },
  ],
});

test("XML: the public URL (path and all, escaped) replaces the placeholder; soft block stays by default", () => {
  const out = servedXmlManifest(xml, {
    publicUrl: "https://mail.corp.example/sg?a=1&b=2/",
    sendMode: "softBlock",
  });
  assert.ok(!out.includes(P));
  assert.match(
    out,
    /DefaultValue="https:\/\/mail\.corp\.example\/sg\?a=1&amp;b=2\/addin\/outlook\/icon-64\.png"/,
  );
  assert.match(out, /SendMode="SoftBlock"/);
});

test("XML: block mode turns every send event's SoftBlock into Block and adds none elsewhere", () => {
  const out = servedXmlManifest(xml, { publicUrl: "https://gw.corp.example", sendMode: "block" });
  assert.equal(out.match(/SendMode="Block"/g)?.length, 1);
  assert.ok(!out.includes("SoftBlock"));
});

test("JSON: URLs, the valid domain and, in block mode, the send mode", () => {
  const soft = JSON.parse(
    servedJsonManifest(json, { publicUrl: "https://gw.corp.example:8443/", sendMode: "softBlock" }),
  );
  assert.equal(soft.developer.websiteUrl, "https://gw.corp.example:8443/");
  assert.deepEqual(soft.validDomains, ["gw.corp.example:8443"]);
  assert.equal(soft.extensions[0].autoRunEvents[0].events[0].options.sendMode, "softBlock");
  const block = JSON.parse(
    servedJsonManifest(json, { publicUrl: "https://gw.corp.example", sendMode: "block" }),
  );
  assert.equal(block.extensions[0].autoRunEvents[0].events[0].options.sendMode, "block");
});
