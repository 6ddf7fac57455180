// Thin background script: wires Thunderbird's events to the SendGuard module.
import type { BrowserApi, ComposeDetailsLike, SendInfo } from "./browser-api.js";
import { SendGuard, type ConfirmMessage } from "./send-guard.js";

const guard = new SendGuard(browser as unknown as BrowserApi);

browser.compose.onBeforeSend.addListener(
  (tab, details) => guard.onBeforeSend(tab, details as unknown as ComposeDetailsLike) as never,
);
browser.compose.onAfterSend.addListener((_tab, info) => void guard.onAfterSend(info as SendInfo));
browser.runtime.onMessage.addListener((message: unknown) => guard.onMessage(message as ConfirmMessage));
browser.windows.onRemoved.addListener((windowId) => guard.onWindowRemoved(windowId));
browser.storage.onChanged.addListener((changes) => guard.onStorageChanged(Object.keys(changes)));
browser.notifications.onClicked.addListener((id) => void guard.onNotificationClicked(id));
