// Thin background script: wires Thunderbird's events to the SendGuard module, and lends the
// confirm windows its copy of the dialog's UI (confirm/main.ts).
import type { BrowserApi, ComposeDetailsLike, SendInfo } from "./browser-api.js";
import type { ConfirmHost } from "./confirm/main.js";
import { SendGuard, type ConfirmMessage } from "./send-guard.js";

const guard = new SendGuard(browser as unknown as BrowserApi);
// Loaded now, while nobody waits: the first Send then finds it ready.
const confirmUi = import(browser.runtime.getURL("confirm-ui.js")) as Promise<
  typeof import("./confirm/ui.js")
>;
const host: ConfirmHost["sendguardConfirm"] = {
  mount: async (win, request) =>
    (await confirmUi).mountConfirm(win, request, (message) => guard.onMessage(message)),
};
Object.assign(globalThis, { sendguardConfirm: host });

browser.compose.onBeforeSend.addListener(
  (tab, details) => guard.onBeforeSend(tab, details as unknown as ComposeDetailsLike) as never,
);
browser.compose.onAfterSend.addListener((_tab, info) => void guard.onAfterSend(info as SendInfo));
browser.runtime.onMessage.addListener((message: unknown) => guard.onMessage(message as ConfirmMessage));
browser.windows.onRemoved.addListener((windowId) => guard.onWindowRemoved(windowId));
browser.storage.onChanged.addListener((changes) => guard.onStorageChanged(Object.keys(changes)));
browser.notifications.onClicked.addListener((id) => void guard.onNotificationClicked(id));
