// @sendguard/ui: what both add-ins (and later the portal) show and how they reach the gateway, in
// the browser. shared/ stays free of the DOM; this is where the DOM, React and Fluent UI come in.
export {
  GatewayClient,
  GatewayError,
  type GatewayClientOptions,
  type GatewaySettings,
} from "./gateway-client.js";
export { clockTime } from "./clock.js";
export { mountPage } from "./page.js";
export { requestToken, type TokenResult } from "./signin.js";
export { ConfirmDialog, type ConfirmDialogProps } from "./confirm/ConfirmDialog.js";
export { HeldList, type FocusedMessage, type HeldListProps, type Notice } from "./held/HeldList.js";
export { HeldMessages, type HeldMessagesProps } from "./held/HeldMessages.js";
export { SignInForm, type SignInFormProps, type SignInOutcome } from "./settings/SignInForm.js";
