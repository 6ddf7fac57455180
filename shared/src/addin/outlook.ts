// The contract between the Outlook add-in's build and the gateway that serves it: where the files
// live, and the origin the checked-in manifests name in place of a gateway (the gateway writes its
// own publicUrl into the copies it serves).
export const OUTLOOK_ADDIN_PATH = "/addin/outlook/";
export const OUTLOOK_PLACEHOLDER_ORIGIN = "https://sendguard.example.invalid";

/** What Outlook does with Send when the add-in cannot run: see docs/outlook.md. */
export const OUTLOOK_SEND_MODES = ["softBlock", "block"] as const;
export type OutlookSendMode = (typeof OUTLOOK_SEND_MODES)[number];

/**
 * How the compose task pane hands a confirmed message to the gateway: "relay" sends it from
 * Outlook (Exchange routes outbound mail through the gateway) with X-Sendguard-Confirmed stamped;
 * "api" posts it to /api/v1/messages and discards the Outlook item.
 */
export const OUTLOOK_HANDOFFS = ["relay", "api"] as const;
export type OutlookHandoff = (typeof OUTLOOK_HANDOFFS)[number];
