// Names the manifest (manifest.xml, built by addin-outlook/manifest) and the handler must agree on.

/** LaunchEvent FunctionName of OnMessageSend and OnAppointmentSend. */
export const SEND_FUNCTION = "onSendGuard";
/** LaunchEvent FunctionNames of OnMessageRecipientsChanged and OnMessageAttachmentsChanged (1.13). */
export const RECIPIENTS_FUNCTION = "onRecipientsChanged";
export const ATTACHMENTS_FUNCTION = "onAttachmentsChanged";

/** Control ids of the compose task panes: the Smart Alerts dialog's button opens them (commandId, 1.14). */
export const PANE_COMMAND = {
  message: "SendguardComposePane",
  appointment: "SendguardAppointmentPane",
} as const;

/** item.sessionData key where the task pane leaves its confirmation (marker.ts). */
export const CONFIRMED_KEY = "sendguard.confirmed";

/** roamingSettings keys: the sign-in (written by the task pane) and the last policy (policy.ts). */
export const ROAMING = { gatewayUrl: "gatewayUrl", token: "token", policyCache: "policyCache" } as const;
