// "Held until 10:05 — Undo": the notification after a message reached the gateway, and the
// notifications for a hand-off that failed. A click opens the held-messages list, where Undo is.
import { t, type Language, type MessageStatus } from "@sendguard/shared";
import type { BrowserApi } from "./browser-api.js";
import { GatewayError, clockTime } from "@sendguard/ui";

const PREFIX = "sendguard-";
/**
 * A PNG (build.ts draws it from icon.svg): Thunderbird's alert window re-encodes the icon as PNG,
 * which fails for an SVG ("NS_ERROR_FAILURE [imgITools.encodeImage]") and leaves it without one.
 */
const ICON = "icon-96.png";
/** storage.session key of the held-messages window: the background that opened it may be suspended since. */
const WINDOW_KEY = "heldWindowId";

export interface HeldMessage {
  id: string;
  subject: string;
  status: MessageStatus;
  releaseAt: string;
}

export class HeldNotice {
  constructor(private readonly api: BrowserApi) {}

  /** Only messages the user can still undo are worth a notification. */
  async held(message: HeldMessage, lang: Language): Promise<void> {
    if (message.status !== "held" && message.status !== "pending_approval") return;
    const vars = { subject: message.subject, time: clockTime(message.releaseAt, lang) };
    await this.show(
      `${PREFIX}held-${message.id}`,
      t(lang, "held.notify.title"),
      t(lang, message.status === "held" ? "held.notify.body" : "held.notify.approval", vars),
    );
  }

  /** The gateway refused the message (a rule) or could not be reached. */
  async failed(error: unknown, lang: Language): Promise<void> {
    const refused = error instanceof GatewayError && error.status === 422;
    const detail = error instanceof Error ? error.message : String(error);
    await this.show(
      `${PREFIX}failed-${Date.now()}`,
      t(lang, refused ? "held.notify.rejectedTitle" : "held.notify.failedTitle"),
      refused ? detail : t(lang, "held.notify.failed", { detail }),
    );
  }

  private async show(id: string, title: string, message: string): Promise<void> {
    await this.api.notifications
      .create(id, { type: "basic", title, message, iconUrl: this.api.runtime.getURL(ICON) })
      .catch(() => undefined); // a notification is a courtesy: never let it break a send
  }

  /** notifications.onClicked: ours open the held-messages list in a window of its own. */
  async clicked(notificationId: string): Promise<void> {
    if (!notificationId.startsWith(PREFIX)) return;
    // Not action.openPopup(): the toolbar panel closes as soon as the notification takes the focus
    // away, and the button may be hidden. One window, brought forward when clicked again.
    const session = this.api.storage.session;
    const { [WINDOW_KEY]: open } = await session.get(WINDOW_KEY).catch(() => ({}) as Record<string, unknown>);
    if (typeof open === "number") {
      const shown = await this.api.windows.update(open, { focused: true }).then(
        () => true,
        () => false,
      );
      if (shown) return;
    }
    const win = await this.api.windows.create({
      type: "popup",
      url: this.api.runtime.getURL("held.html"),
      width: 400,
      height: 560,
    });
    await session.set({ [WINDOW_KEY]: win.id ?? null }).catch(() => undefined);
  }
}
