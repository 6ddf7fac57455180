// Thin background script: wires Thunderbird's events to the SendGuard module, and lends the
// confirm windows its copy of the dialog's UI (confirm/main.ts).
import type { BrowserApi, ComposeDetailsLike, SendInfo } from "./browser-api.js";
import type { ConfirmHost } from "./confirm/main.js";
import { SendGuard, type ConfirmMessage } from "./send-guard.js";

/** From the compose windows (compose/awake.ts): a message is being written. */
export interface ComposingMessage {
  type: "sendguard:composing";
}

const guard = new SendGuard(browser as unknown as BrowserApi);
guard.prepare();

type ConfirmUi = typeof import("./confirm/ui.js");
let confirmUi: Promise<ConfirmUi> | null = null;
/** The dialog's UI (~490 KB), loaded once a message is being written or sent; not at start-up. */
function loadUi(): Promise<ConfirmUi> {
  confirmUi ??= (import(browser.runtime.getURL("confirm-ui.js")) as Promise<ConfirmUi>).catch((err) => {
    confirmUi = null; // the next Send tries again
    throw err;
  });
  return confirmUi;
}
const preloadUi = () => void loadUi().catch(() => undefined);
const host: ConfirmHost["sendguardConfirm"] = {
  mount: async (win, request) =>
    (await loadUi()).mountConfirm(win, request, (message) => guard.onMessage(message)),
};
Object.assign(globalThis, { sendguardConfirm: host });

browser.compose.onBeforeSend.addListener((tab, details) => {
  const result = guard.onBeforeSend(tab, details as unknown as ComposeDetailsLike);
  // Unless a compose window had it loaded (Thunderbird before 151 has no compose_scripts): once the
  // confirm window has been asked for, so that loading does not hold that up.
  setTimeout(preloadUi, 20);
  return result as never;
});
browser.compose.onAfterSend.addListener((_tab, info) => void guard.onAfterSend(info as SendInfo));
browser.runtime.onMessage.addListener((message: unknown) => {
  if ((message as ComposingMessage).type === "sendguard:composing") return preloadUi();
  return guard.onMessage(message as ConfirmMessage);
});
browser.windows.onRemoved.addListener((windowId) => guard.onWindowRemoved(windowId));
browser.storage.onChanged.addListener((changes) => guard.onStorageChanged(Object.keys(changes)));
browser.notifications.onClicked.addListener((id) => void guard.onNotificationClicked(id));
