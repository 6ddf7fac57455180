// The confirm dialog's UI as a module (built to confirm-ui.js). The background imports it once
// (background.ts) and renders every confirm window from there: the window itself then loads a
// few hundred bytes instead of React and Fluent UI, which was most of Send → dialog.
import { mountPage } from "@sendguard/ui";
import { ConfirmApp, type ConfirmChannel } from "./ConfirmApp.js";

export type { ConfirmChannel };

/** Renders the dialog for `request` into `win` (a confirm window) until that window goes away. */
export function mountConfirm(win: Window, request: string, channel: ConfirmChannel): void {
  const root = mountPage(
    win.navigator.language.startsWith("ja") ? "ja" : "en",
    <ConfirmApp win={win} request={request} channel={channel} />,
    win.document,
  );
  // The tree lives in the background's realm: without this it would outlive its window.
  win.addEventListener("pagehide", () => root.unmount(), { once: true });
}
