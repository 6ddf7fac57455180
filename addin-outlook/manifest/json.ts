// Renders the unified manifest for Microsoft 365 (dist/manifest.json) and its Japanese strings
// (dist/ja-jp.json) from source.ts. Tenants that deploy the unified manifest get the same add-in as
// manifest.xml describes; it does not run on Mac or perpetual Office, which is why both are shipped.
import { OUTLOOK_PLACEHOLDER_ORIGIN, t } from "@sendguard/shared";
import {
  ADDIN,
  COLOR_ICON,
  FILES,
  LAUNCH_EVENTS,
  MAILBOX_MIN,
  OUTLINE_ICON,
  PANES,
  iconFile,
  text,
  url,
  type LaunchEventSpec,
} from "./source.js";

export const MANIFEST_VERSION = "1.17";
const SCHEMA = `https://developer.microsoft.com/json-schemas/teams/v${MANIFEST_VERSION}/MicrosoftTeams.schema.json`;
const LOCALIZATION_SCHEMA = `https://developer.microsoft.com/json-schemas/teams/v${MANIFEST_VERSION}/MicrosoftTeams.Localization.schema.json`;
export const JA_FILE = "ja-jp.json";

const mailbox = (minVersion: string) => ({ capabilities: [{ name: "Mailbox", minVersion }] });
const BUTTON_ICON_SIZES = [16, 32, 80] as const;
const LAUNCH_RUNTIME = "SendguardLaunchEvents";
const PANE_RUNTIME = (file: string) => `Sendguard_${file.replace(/\W/g, "_")}`;

/** One autoRunEvents entry per requirement set, so an older client still runs the send check. */
function autoRunEvents() {
  const bySet = new Map<string, LaunchEventSpec[]>();
  for (const event of LAUNCH_EVENTS) bySet.set(event.mailbox, [...(bySet.get(event.mailbox) ?? []), event]);
  return [...bySet].map(([minVersion, events]) => ({
    requirements: { ...mailbox(minVersion), scopes: ["mail"] },
    events: events.map((event) => ({
      type: event.json,
      actionId: event.functionName,
      ...(event.sends ? { options: { sendMode: "softBlock" } } : {}),
    })),
  }));
}

function runtimes() {
  const launch = {
    requirements: mailbox(MAILBOX_MIN),
    id: LAUNCH_RUNTIME,
    type: "general",
    code: { page: url(FILES.launchPage), script: url(FILES.launchScript) },
    lifetime: "short",
    actions: [...new Set(LAUNCH_EVENTS.map((event) => event.functionName))].map((id) => ({
      id,
      type: "executeFunction",
    })),
  };
  const pages = [...new Set(PANES.map((pane) => pane.file))].map((file) => ({
    requirements: mailbox(MAILBOX_MIN),
    id: PANE_RUNTIME(file),
    type: "general",
    code: { page: url(file) },
    lifetime: "short",
    actions: PANES.filter((pane) => pane.file === file).map((pane) => ({
      id: pane.id,
      type: "openPage",
      view: pane.id,
    })),
  }));
  return [launch, ...pages];
}

/** The ribbons, with the Japanese text of each label under the key the localization file uses. */
function ribbons(ja: Record<string, string>) {
  return PANES.map((pane, i) => {
    const at = `extensions[0].ribbons[${i}].tabs[0].groups[0]`;
    ja[`${at}.label`] = t("ja", "outlook.group");
    ja[`${at}.controls[0].label`] = text(pane.label).ja;
    ja[`${at}.controls[0].supertip.title`] = text(pane.label).ja;
    ja[`${at}.controls[0].supertip.description`] = text(pane.tip).ja;
    return {
      requirements: { ...mailbox(MAILBOX_MIN), scopes: ["mail"] },
      contexts: [pane.context],
      tabs: [
        {
          builtInTabId: "TabDefault",
          groups: [
            {
              id: `${pane.id}.Group`,
              label: t("en", "outlook.group"),
              controls: [
                {
                  // The id the send handler gives as commandId, as with the XML manifest's Control.
                  id: pane.id,
                  type: "button",
                  label: text(pane.label).en,
                  icons: BUTTON_ICON_SIZES.map((size) => ({ size, url: url(iconFile(size)) })),
                  supertip: { title: text(pane.label).en, description: text(pane.tip).en },
                  actionId: pane.id,
                },
              ],
            },
          ],
        },
      ],
    };
  });
}

export interface UnifiedManifest {
  manifest: Record<string, unknown>;
  /** dist/ja-jp.json: the Japanese strings, by the manifest path they replace. */
  japanese: Record<string, string>;
}

export function renderUnifiedManifest(): UnifiedManifest {
  const ja: Record<string, string> = {
    $schema: LOCALIZATION_SCHEMA,
    "name.short": text("outlook.name.short").ja,
    "name.full": text("outlook.name.full").ja,
    "description.short": text("outlook.description.short").ja,
    "description.full": text("outlook.description.full").ja,
  };
  const site = `${OUTLOOK_PLACEHOLDER_ORIGIN}/`;
  const manifest = {
    $schema: SCHEMA,
    manifestVersion: MANIFEST_VERSION,
    version: ADDIN.version,
    id: ADDIN.id,
    localizationInfo: {
      defaultLanguageTag: "en-us",
      additionalLanguages: [{ languageTag: "ja-jp", file: JA_FILE }],
    },
    developer: { name: ADDIN.provider, websiteUrl: site, privacyUrl: site, termsOfUseUrl: site },
    name: { short: text("outlook.name.short").en, full: text("outlook.name.full").en },
    description: { short: text("outlook.description.short").en, full: text("outlook.description.full").en },
    icons: { color: COLOR_ICON.file, outline: OUTLINE_ICON.file },
    accentColor: ADDIN.accentColor,
    validDomains: [new URL(site).host],
    authorization: {
      permissions: { resourceSpecific: [{ name: "MailboxItem.ReadWrite.User", type: "Delegated" }] },
    },
    extensions: [
      {
        requirements: { ...mailbox(MAILBOX_MIN), scopes: ["mail"] },
        runtimes: runtimes(),
        ribbons: ribbons(ja),
        autoRunEvents: autoRunEvents(),
        alternates: [
          {
            alternateIcons: {
              icon: { size: 64, url: url(iconFile(64)) },
              // The size is the icon's size on screen (at most 80); the file is drawn at twice that.
              highResolutionIcon: { size: 64, url: url(iconFile(128)) },
            },
          },
        ],
      },
    ],
  };
  return { manifest, japanese: ja };
}
