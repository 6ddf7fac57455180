// The confirm window's own script. The background renders the dialog into this window
// (confirm/ui.tsx): it has React and Fluent UI loaded already, so nothing big loads here.
import type { ConfirmMessage } from "../send-guard.js";

/** What the background page offers its confirm windows (background.ts). */
export interface ConfirmHost {
  sendguardConfirm: { mount(win: Window, request: string): Promise<void> };
}

const request = new URLSearchParams(location.search).get("request") ?? "";
const ping: ConfirmMessage = { type: "sendguard:ping", request };

// extension.getBackgroundPage answers at once when the background is running; runtime's wakes it.
Promise.resolve(browser.extension.getBackgroundPage() ?? browser.runtime.getBackgroundPage())
  .then((host) => (host as unknown as ConfirmHost).sendguardConfirm.mount(window, request))
  // Without the dialog there is no confirmation: closing the window cancels the Send.
  .catch(() => window.close());
// Messages keep the MV3 background awake while the user reads (it is suspended when idle).
setInterval(() => void browser.runtime.sendMessage(ping), 10_000);
