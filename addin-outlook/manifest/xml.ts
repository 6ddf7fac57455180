// Renders the XML add-in-only manifest (manifest.xml at the repository root) from source.ts, in the
// element order the schema (OfficeApp, MailApp, VersionOverrides V1_0 > V1_1) requires.
import {
  ADDIN,
  FILES,
  LAUNCH_EVENTS,
  MAILBOX_MIN,
  PANES,
  iconFile,
  text,
  url,
  type Localized,
  type PaneSpec,
} from "./source.js";
import { OUTLOOK_ADDIN_PATH, OUTLOOK_PLACEHOLDER_ORIGIN, type MessageKey } from "@sendguard/shared";
import { comment, el, printDocument, text as xmlText, type XmlElement } from "./xml-tree.js";

const JA = "ja-JP";
const ns = {
  office: "http://schemas.microsoft.com/office/appforoffice/1.1",
  xsi: "http://www.w3.org/2001/XMLSchema-instance",
  bt: "http://schemas.microsoft.com/office/officeappbasictypes/1.0",
  mailappor: "http://schemas.microsoft.com/office/mailappversionoverrides/1.0",
  v1_0: "http://schemas.microsoft.com/office/mailappversionoverrides",
  v1_1: "http://schemas.microsoft.com/office/mailappversionoverrides/1.1",
};

/** resids (at most 32 characters): one per URL, image and text, each defined once under Resources. */
export const RES = {
  launchPage: "SG.LaunchEvent.Url",
  launchScript: "SG.LaunchEventScript.Url",
  icon: (size: number) => `SG.Icon.${size}`,
  page: (file: string) => `SG.${file}`,
  text: (key: MessageKey) => `SG.${key.replace(/^outlook\./, "")}`,
};
/** The sizes a ribbon button's icon comes in. */
const BUTTON_ICON_SIZES = [16, 32, 80] as const;

const localizedTop = (name: string, value: Localized) =>
  el(name, { DefaultValue: value.en }, el("Override", { Locale: JA, Value: value.ja }));
const localizedString = (id: string, value: Localized) =>
  el("bt:String", { id, DefaultValue: value.en }, el("bt:Override", { Locale: JA, Value: value.ja }));

function button(pane: PaneSpec): XmlElement {
  return el(
    "Control",
    { "xsi:type": "Button", id: pane.id },
    el("Label", { resid: RES.text(pane.label) }),
    el(
      "Supertip",
      {},
      el("Title", { resid: RES.text(pane.label) }),
      el("Description", { resid: RES.text(pane.tip) }),
    ),
    el(
      "Icon",
      {},
      ...BUTTON_ICON_SIZES.map((size) => el("bt:Image", { size: String(size), resid: RES.icon(size) })),
    ),
    el("Action", { "xsi:type": "ShowTaskpane" }, el("SourceLocation", { resid: RES.page(pane.file) })),
  );
}

function commandSurface(pane: PaneSpec): XmlElement {
  return el(
    "ExtensionPoint",
    { "xsi:type": pane.surface },
    el(
      "OfficeTab",
      { id: "TabDefault" },
      el(
        "Group",
        { id: `${pane.id}.Group` },
        el("Label", { resid: RES.text("outlook.group") }),
        button(pane),
      ),
    ),
  );
}

function launchEvents(): XmlElement {
  return el(
    "ExtensionPoint",
    { "xsi:type": "LaunchEvent" },
    el(
      "LaunchEvents",
      {},
      comment(
        "SendMode SoftBlock: when the add-in cannot load, mail still goes. Block stops all mail then (docs/outlook.md).",
      ),
      ...LAUNCH_EVENTS.map((event) =>
        el("LaunchEvent", {
          Type: event.xml,
          FunctionName: event.functionName,
          ...(event.sends ? { SendMode: "SoftBlock" } : {}),
        }),
      ),
    ),
    el("SourceLocation", { resid: RES.launchPage }),
  );
}

/** Each page and text once, though two buttons share them. */
const unique = <T>(values: T[]): T[] => [...new Set(values)];
const paneFiles = () => unique(PANES.map((pane) => pane.file));
const paneTexts = (which: "label" | "tip") => unique(PANES.map((pane) => pane[which]));

function resources(): XmlElement {
  return el(
    "Resources",
    {},
    el(
      "bt:Images",
      {},
      ...BUTTON_ICON_SIZES.map((size) =>
        el("bt:Image", { id: RES.icon(size), DefaultValue: url(iconFile(size)) }),
      ),
    ),
    el(
      "bt:Urls",
      {},
      el("bt:Url", { id: RES.launchPage, DefaultValue: url(FILES.launchPage) }),
      el("bt:Url", { id: RES.launchScript, DefaultValue: url(FILES.launchScript) }),
      ...paneFiles().map((file) => el("bt:Url", { id: RES.page(file), DefaultValue: url(file) })),
    ),
    el(
      "bt:ShortStrings",
      {},
      ...["outlook.group" as const, ...paneTexts("label")].map((key) =>
        localizedString(RES.text(key), text(key)),
      ),
    ),
    el("bt:LongStrings", {}, ...paneTexts("tip").map((key) => localizedString(RES.text(key), text(key)))),
  );
}

function versionOverrides(): XmlElement {
  const v1_1 = el(
    "VersionOverrides",
    { xmlns: ns.v1_1, "xsi:type": "VersionOverridesV1_1" },
    el(
      "Requirements",
      {},
      el("bt:Sets", { DefaultMinVersion: MAILBOX_MIN }, el("bt:Set", { Name: "Mailbox" })),
    ),
    el(
      "Hosts",
      {},
      el(
        "Host",
        { "xsi:type": "MailHost" },
        el(
          "Runtimes",
          {},
          el(
            "Runtime",
            { resid: RES.launchPage },
            comment("Classic Outlook on Windows runs the handler bundle alone, without the HTML page."),
            el("Override", { type: "javascript", resid: RES.launchScript }),
          ),
        ),
        el(
          "DesktopFormFactor",
          {},
          el("FunctionFile", { resid: RES.launchPage }),
          ...PANES.map(commandSurface),
          launchEvents(),
        ),
      ),
    ),
    resources(),
  );
  return el("VersionOverrides", { xmlns: ns.v1_0, "xsi:type": "VersionOverridesV1_0" }, v1_1);
}

export function renderXmlManifest(): string {
  const composePane = url(FILES.composePane);
  const root = el(
    "OfficeApp",
    {
      xmlns: ns.office,
      "xmlns:xsi": ns.xsi,
      "xmlns:bt": ns.bt,
      "xmlns:mailappor": ns.mailappor,
      "xsi:type": "MailApp",
    },
    comment(
      "Generated by addin-outlook/manifest (npm run manifest -w addin-outlook): edit source.ts, not this file.",
    ),
    comment(
      `The gateway serves this file at ${OUTLOOK_ADDIN_PATH}manifest.xml with ${OUTLOOK_PLACEHOLDER_ORIGIN} replaced by its publicUrl.`,
    ),
    el("Id", {}, xmlText(ADDIN.id)),
    el("Version", {}, xmlText(`${ADDIN.version}.0`)),
    el("ProviderName", {}, xmlText(ADDIN.provider)),
    el("DefaultLocale", {}, xmlText("en-US")),
    localizedTop("DisplayName", text("outlook.name.short")),
    localizedTop("Description", text("outlook.description.short")),
    el("IconUrl", { DefaultValue: url(iconFile(64)) }),
    el("HighResolutionIconUrl", { DefaultValue: url(iconFile(128)) }),
    el("SupportUrl", { DefaultValue: `${OUTLOOK_PLACEHOLDER_ORIGIN}/` }),
    el("Hosts", {}, el("Host", { Name: "Mailbox" })),
    el("Requirements", {}, el("Sets", {}, el("Set", { Name: "Mailbox", MinVersion: MAILBOX_MIN }))),
    el(
      "FormSettings",
      {},
      el(
        "Form",
        { "xsi:type": "ItemRead" },
        el(
          "DesktopSettings",
          {},
          el("SourceLocation", { DefaultValue: url(FILES.readPane) }),
          el("RequestedHeight", {}, xmlText("250")),
        ),
      ),
      el(
        "Form",
        { "xsi:type": "ItemEdit" },
        el("DesktopSettings", {}, el("SourceLocation", { DefaultValue: composePane })),
      ),
    ),
    comment("ReadWriteItem: the handler and the compose pane set headers, recipients and session data."),
    el("Permissions", {}, xmlText("ReadWriteItem")),
    el(
      "Rule",
      { "xsi:type": "RuleCollection", Mode: "Or" },
      el("Rule", { "xsi:type": "ItemIs", ItemType: "Message", FormType: "ReadOrEdit" }),
      el("Rule", { "xsi:type": "ItemIs", ItemType: "Appointment", FormType: "Edit" }),
    ),
    el("DisableEntityHighlighting", {}, xmlText("false")),
    versionOverrides(),
  );
  return printDocument(root);
}
