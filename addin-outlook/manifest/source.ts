// What the Outlook add-in is, said once: manifest.xml (root of the repository) and the unified
// manifest (dist/manifest.json) are both rendered from this, so the two cannot drift apart.
import { OUTLOOK_ADDIN_PATH, OUTLOOK_PLACEHOLDER_ORIGIN, t, type MessageKey } from "@sendguard/shared";

export const ADDIN = {
  /** Outlook knows the add-in by this id: changing it makes it a different add-in for every user. */
  id: "7a760798-7a2e-4247-9e0a-6eec418b18c1",
  version: "1.0.0",
  provider: "Sendguard",
  accentColor: "#0F6CBD",
} as const;

/** The manifest-wide minimum: the send events (Smart Alerts) came with Mailbox 1.12. */
export const MAILBOX_MIN = "1.12";

/** The files the manifest points at, all served flat under /addin/outlook/. */
export const FILES = {
  /** The HTML runtime page (Outlook on the web, new Outlook, Mac): loads office.js and launchevent.js. */
  launchPage: "launchevent.html",
  /** The handler bundle; classic Outlook on Windows runs it alone, in a JavaScript-only runtime. */
  launchScript: "launchevent.js",
  composePane: "taskpane.html",
  readPane: "read.html",
} as const;

export const url = (file: string): string => `${OUTLOOK_PLACEHOLDER_ORIGIN}${OUTLOOK_ADDIN_PATH}${file}`;

/** Button and add-in icons (XML manifest) and the unified manifest's color and outline icons. */
export const ICON_SIZES = [16, 32, 64, 80, 128] as const;
export type IconSize = (typeof ICON_SIZES)[number];
export const iconFile = (size: IconSize): string => `icon-${size}.png`;
export const COLOR_ICON = { file: "icon-color.png", size: 192 } as const;
export const OUTLINE_ICON = { file: "icon-outline.png", size: 32 } as const;

export interface LaunchEventSpec {
  /** The event's name in the XML manifest and in the unified manifest. */
  xml: string;
  json: string;
  /** The name the handler bundle registers with Office.actions.associate. */
  functionName: string;
  /** Only the send events block; they take the add-in's SendMode. */
  sends: boolean;
  /** The Mailbox requirement set that brought the event. */
  mailbox: string;
}

export const LAUNCH_EVENTS: readonly LaunchEventSpec[] = [
  { xml: "OnMessageSend", json: "messageSending", functionName: "onSendGuard", sends: true, mailbox: "1.12" },
  {
    xml: "OnAppointmentSend",
    json: "appointmentSending",
    functionName: "onSendGuard",
    sends: true,
    mailbox: "1.12",
  },
  {
    xml: "OnMessageRecipientsChanged",
    json: "messageRecipientsChanged",
    functionName: "onRecipientsChanged",
    sends: false,
    mailbox: "1.13",
  },
  {
    xml: "OnMessageAttachmentsChanged",
    json: "messageAttachmentsChanged",
    functionName: "onAttachmentsChanged",
    sends: false,
    mailbox: "1.13",
  },
];

export interface PaneSpec {
  /** The button's id: the send handler names it as commandId to open this pane from Smart Alerts. */
  id: string;
  /** Where the button shows, in the XML manifest's and the unified manifest's words. */
  surface:
    "MessageComposeCommandSurface" | "AppointmentOrganizerCommandSurface" | "MessageReadCommandSurface";
  context: "mailCompose" | "meetingDetailsOrganizer" | "mailRead";
  file: string;
  label: MessageKey;
  tip: MessageKey;
}

export const PANES: readonly PaneSpec[] = [
  {
    id: "SendguardComposePane",
    surface: "MessageComposeCommandSurface",
    context: "mailCompose",
    file: FILES.composePane,
    label: "outlook.compose.label",
    tip: "outlook.compose.tip",
  },
  {
    // Meeting invitations are checked too (OnAppointmentSend): their Smart Alert opens this one.
    id: "SendguardAppointmentPane",
    surface: "AppointmentOrganizerCommandSurface",
    context: "meetingDetailsOrganizer",
    file: FILES.composePane,
    label: "outlook.compose.label",
    tip: "outlook.compose.tip",
  },
  {
    id: "SendguardReadPane",
    surface: "MessageReadCommandSurface",
    context: "mailRead",
    file: FILES.readPane,
    label: "outlook.read.label",
    tip: "outlook.read.tip",
  },
];

/** A text in the manifest's default language (en-US) and its Japanese override. */
export interface Localized {
  en: string;
  ja: string;
}
export const text = (key: MessageKey): Localized => ({ en: t("en", key), ja: t("ja", key) });
