// manifest.xml checked offline, by our own reading of the schema's rules: Microsoft's validator for
// XML manifests is a web service, and no package ships the XSDs. Each rule here is one that Outlook
// or the admin centre enforces when the manifest is uploaded or the add-in loads.
import { DOMParser } from "@xmldom/xmldom";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { OUTLOOK_ADDIN_PATH, OUTLOOK_PLACEHOLDER_ORIGIN } from "@sendguard/shared";
import { ROOT_MANIFEST } from "../manifest/paths.js";
import { ICONS } from "../manifest/icons.js";
import { FILES } from "../manifest/source.js";
import { renderXmlManifest } from "../manifest/xml.js";
import { EVENT_SETS, PREPARING, atLeast } from "./requirement-sets.js";

const xml = readFileSync(ROOT_MANIFEST, "utf8");
const doc = new DOMParser().parseFromString(xml, "text/xml");
const root = doc.documentElement as unknown as Element;

const children = (parent: Element): Element[] =>
  Array.from(parent.childNodes).filter((n: ChildNode): n is Element => n.nodeType === 1);
const all = (tag: string, within: Element = root): Element[] =>
  Array.from(within.getElementsByTagName(tag)) as Element[];
const one = (tag: string, within: Element = root): Element => {
  const found = all(tag, within);
  assert.equal(found.length, 1, `exactly one <${tag}>`);
  return found[0] as Element;
};
const v1_1 = all("VersionOverrides").find(
  (e) => e.getAttribute("xsi:type") === "VersionOverridesV1_1",
) as Element;

/** Children in the schema's order: each after the one before; all there but those marked "?". */
function assertOrder(parent: Element, schema: string[]): void {
  const order = schema.map((name) => name.replace(/\?$/, ""));
  const names = children(parent).map((c) => c.tagName);
  let last = -1;
  for (const name of names) {
    const at = order.indexOf(name);
    assert.ok(at >= 0, `<${name}> may not stand in <${parent.tagName}> (allowed: ${order.join(", ")})`);
    assert.ok(
      at >= last,
      `<${name}> comes before ${order[last]} in <${parent.tagName}>: ${names.join(", ")}`,
    );
    last = at;
  }
  for (const name of schema.filter((n) => !n.endsWith("?"))) {
    assert.ok(names.includes(name), `<${parent.tagName}> has <${name}>`);
  }
}

describe("manifest.xml", () => {
  test("is what addin-outlook/manifest renders (run `npm run manifest -w addin-outlook` after editing source.ts)", () => {
    assert.equal(xml, renderXmlManifest());
  });

  test("parses as XML and is a MailApp", () => {
    assert.equal(root.tagName, "OfficeApp");
    assert.equal(root.getAttribute("xsi:type"), "MailApp");
    assert.equal(all("parsererror").length, 0);
  });

  test("elements stand in the order the schema requires", () => {
    assertOrder(root, [
      "Id",
      "AlternateId?",
      "Version",
      "ProviderName",
      "DefaultLocale",
      "DisplayName",
      "Description",
      "IconUrl",
      "HighResolutionIconUrl?",
      "SupportUrl?",
      "AppDomains?",
      "Hosts",
      "Requirements?",
      "FormSettings",
      "Permissions",
      "Rule",
      "DisableEntityHighlighting?",
      "VersionOverrides",
    ]);
    const v1_0 = children(root).find((e) => e.tagName === "VersionOverrides") as Element;
    const swapped = new DOMParser().parseFromString(
      xml.replace(/(<Id>.*<\/Id>\n)(.*<Version>.*\n)/, "$2$1"),
      "text/xml",
    );
    assert.throws(
      () => assertOrder(swapped.documentElement as unknown as Element, ["Id", "Version"]),
      /<Id> comes before Version/,
      "the order check does see a misplaced element",
    );
    assert.equal(v1_0.getAttribute("xsi:type"), "VersionOverridesV1_0");
    assert.ok(children(v1_0).includes(v1_1), "VersionOverridesV1_1 sits inside VersionOverridesV1_0");
    assertOrder(v1_1, ["Description?", "Requirements", "Hosts", "Resources", "WebApplicationInfo?"]);
    const host = one("Host", one("Hosts", v1_1));
    assert.equal(host.getAttribute("xsi:type"), "MailHost");
    assertOrder(host, ["Runtimes", "DesktopFormFactor", "MobileFormFactor?"]);
    assertOrder(one("DesktopFormFactor", v1_1), ["FunctionFile", "ExtensionPoint"]);
    assertOrder(one("Resources", v1_1), ["bt:Images?", "bt:Urls", "bt:ShortStrings?", "bt:LongStrings?"]);
    for (const control of all("Control", v1_1)) assertOrder(control, ["Label", "Supertip", "Icon", "Action"]);
    const launch = all("ExtensionPoint", v1_1).filter((e) => e.getAttribute("xsi:type") === "LaunchEvent");
    assert.equal(launch.length, 1);
    for (const point of launch) assertOrder(point, ["LaunchEvents", "SourceLocation"]);
  });

  test("every resid is defined once, of the kind its user needs, and every definition is used", () => {
    const defined = new Map<string, string>();
    for (const [kind, tag] of [
      ["image", "bt:Image"],
      ["url", "bt:Url"],
      ["short", "bt:String"],
    ] as const) {
      const section = one(
        kind === "image" ? "bt:Images" : kind === "url" ? "bt:Urls" : "bt:ShortStrings",
        v1_1,
      );
      for (const e of all(tag, section)) {
        const id = e.getAttribute("id") as string;
        assert.ok(!defined.has(id), `${id} is defined once`);
        assert.ok(id.length <= 32, `resid ${id} has at most 32 characters`);
        defined.set(id, kind);
      }
    }
    for (const e of all("bt:String", one("bt:LongStrings", v1_1))) {
      const id = e.getAttribute("id") as string;
      assert.ok(!defined.has(id), `${id} is defined once`);
      assert.ok(id.length <= 32, `resid ${id} has at most 32 characters`);
      defined.set(id, "long");
    }
    const used = new Set<string>();
    const need = (e: Element, kind: string) => {
      const resid = e.getAttribute("resid") as string;
      assert.equal(defined.get(resid), kind, `<${e.tagName} resid="${resid}"> names a ${kind} resource`);
      used.add(resid);
    };
    for (const e of all("*", v1_1).filter((n) => n.hasAttribute("resid"))) {
      const parent = e.parentNode as Element;
      if (e.tagName === "bt:Image") need(e, "image");
      else if (["SourceLocation", "FunctionFile", "Runtime", "Override"].includes(e.tagName)) need(e, "url");
      else if (e.tagName === "Description" && parent.tagName === "Supertip") need(e, "long");
      else if (["Label", "Title"].includes(e.tagName)) need(e, "short");
      else assert.fail(`a resid on <${e.tagName}> this test does not know`);
    }
    assert.deepEqual(
      [...defined.keys()].filter((id) => !used.has(id)),
      [],
      "no resource is defined but unused",
    );
  });

  test("control and group ids are unique", () => {
    const ids = [...all("Control"), ...all("Group")].map((e) => e.getAttribute("id"));
    assert.equal(new Set(ids).size, ids.length, ids.join(", "));
  });

  test("every text a person reads is in English and Japanese, within Outlook's lengths", () => {
    for (const tag of ["DisplayName", "Description"]) {
      const e = children(root).find((c) => c.tagName === tag) as Element;
      const ja = one("Override", e);
      assert.equal(ja.getAttribute("Locale"), "ja-JP");
      assert.ok(e.getAttribute("DefaultValue") && ja.getAttribute("Value"), `${tag} in both languages`);
      assert.notEqual(e.getAttribute("DefaultValue"), ja.getAttribute("Value"), `${tag} is translated`);
    }
    for (const [section, max] of [
      ["bt:ShortStrings", 125],
      ["bt:LongStrings", 250],
    ] as const) {
      for (const e of all("bt:String", one(section, v1_1))) {
        const overrides = all("bt:Override", e);
        assert.deepEqual(
          overrides.map((o) => o.getAttribute("Locale")),
          ["ja-JP"],
          `${e.getAttribute("id")} has ja-JP`,
        );
        for (const value of [e.getAttribute("DefaultValue"), overrides[0]?.getAttribute("Value")]) {
          assert.ok(
            value && value.length <= max,
            `${e.getAttribute("id")}: "${value}" has 1 to ${max} characters`,
          );
        }
      }
    }
  });

  test("every URL is HTTPS, on the placeholder origin, and names a file the build serves", () => {
    const served = new Set([...Object.values(FILES), ...ICONS.map((icon) => icon.file)]);
    const urls = [...all("*")].flatMap((e) =>
      ["DefaultValue"].map((a) => e.getAttribute(a) ?? "").filter((v) => /^[a-z]+:/i.test(v)),
    );
    assert.ok(urls.length > 10);
    for (const value of urls) {
      const u = new URL(value);
      assert.equal(u.origin, OUTLOOK_PLACEHOLDER_ORIGIN, value);
      if (u.pathname === "/") continue; // SupportUrl: the gateway's start page
      assert.ok(u.pathname.startsWith(OUTLOOK_ADDIN_PATH), value);
      assert.ok(
        served.has(u.pathname.slice(OUTLOOK_ADDIN_PATH.length)),
        `${value} is a file the add-in ships`,
      );
    }
  });

  test("the runtime is the HTML page with the JavaScript-only override for classic Outlook on Windows", () => {
    const url = (resid: string | null) =>
      all("bt:Url", v1_1)
        .find((e) => e.getAttribute("id") === resid)
        ?.getAttribute("DefaultValue") ?? "";
    const runtime = one("Runtime", v1_1);
    assert.match(url(runtime.getAttribute("resid")), /\/launchevent\.html$/);
    const override = one("Override", runtime);
    assert.equal(override.getAttribute("type"), "javascript");
    assert.match(url(override.getAttribute("resid")), /\/launchevent\.js$/);
    const launch = all("ExtensionPoint", v1_1).find(
      (e) => e.getAttribute("xsi:type") === "LaunchEvent",
    ) as Element;
    assert.equal(
      one("SourceLocation", launch).getAttribute("resid"),
      runtime.getAttribute("resid"),
      "the events use that runtime",
    );
  });

  test("launch events: the send events soft-block, the others prepare, each within the requirement sets", () => {
    const min = one("bt:Sets", v1_1).getAttribute("DefaultMinVersion") as string;
    const base = one("Set", children(root).find((e) => e.tagName === "Requirements") as Element).getAttribute(
      "MinVersion",
    ) as string;
    assert.equal(min, "1.12", "Mailbox 1.12 (Smart Alerts) is the minimum");
    assert.ok(atLeast(min, base), "the overrides need no less than the base manifest");
    const events = all("LaunchEvent", v1_1).map((e) => ({
      type: e.getAttribute("Type") as string,
      fn: e.getAttribute("FunctionName"),
      sendMode: e.hasAttribute("SendMode") ? e.getAttribute("SendMode") : null,
    }));
    assert.deepEqual(
      events.map((e) => e.type),
      ["OnMessageSend", "OnAppointmentSend", "OnMessageRecipientsChanged", "OnMessageAttachmentsChanged"],
    );
    for (const e of events) {
      const set = EVENT_SETS[e.type] as string;
      assert.ok(
        atLeast(min, set) || PREPARING.has(e.type),
        `${e.type} needs Mailbox ${set}; the manifest asks ${min}`,
      );
      assert.equal(e.sendMode, e.type.endsWith("Send") ? "SoftBlock" : null, `${e.type}'s SendMode`);
      assert.match(e.fn ?? "", /^on\w+$/);
    }
    assert.equal(events[0]?.fn, events[1]?.fn, "messages and meeting invitations are checked by one handler");
  });
});
