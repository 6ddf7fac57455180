// What happens when the user clicks Send: build the confirm model from the draft and the policy,
// show the confirm window unless the policy says nothing needs confirming, and turn the answer
// into Thunderbird's onBeforeSend result (cancel, or go ahead with a confirmation header and,
// when asked, external recipients moved to Bcc).
import {
  buildConfirmModel,
  convertExternalToBcc,
  type ClientPolicy,
  type ConfirmModel,
  type Draft,
  type Language,
} from "@sendguard/shared";
import type { BeforeSendResult, BrowserApi, ComposeDetailsLike } from "./browser-api.js";
import { draftFromCompose } from "./draft.js";
import { loadPolicy } from "./policy-client.js";
import { loadSettings } from "./settings.js";

export type Answer = { action: "send" } | { action: "cancel" };

/** Messages between the confirm window and the background. */
export type ConfirmMessage =
  | { type: "sendguard:get"; request: string }
  | { type: "sendguard:convertBcc"; request: string }
  | { type: "sendguard:answer"; request: string; answer: Answer }
  | { type: "sendguard:ping"; request: string };

export interface ConfirmView {
  model: ConfirmModel;
  lang: Language;
  converted: boolean;
}

interface Pending {
  draft: Draft;
  policy: ClientPolicy;
  lang: Language;
  view: ConfirmView;
  windowId: number | null;
  resolve: (answer: Answer) => void;
}

export const CONFIRMED_HEADER = "X-Sendguard-Confirmed";

function joined(draft: Draft, field: "to" | "cc" | "bcc"): string[] {
  return draft.recipients
    .filter((r) => r.field === field)
    .map((r) => (r.name ? `"${r.name.replace(/"/g, "")}" <${r.address}>` : r.address));
}

export class SendGuard {
  private readonly pending = new Map<string, Pending>();
  private counter = 0;

  constructor(
    private readonly api: BrowserApi,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  private language(policy: ClientPolicy): Language {
    const ui = this.api.i18n.getUILanguage().toLowerCase();
    return ui.startsWith("ja") ? "ja" : ui.startsWith("en") ? "en" : policy.language;
  }

  async onBeforeSend(tab: { id?: number }, details: ComposeDetailsLike): Promise<BeforeSendResult> {
    const settings = await loadSettings(this.api);
    const [{ policy }, draft] = await Promise.all([
      loadPolicy(this.api, settings, this.fetchImpl),
      draftFromCompose(this.api, tab.id ?? -1, details),
    ]);
    const lang = this.language(policy);
    const model = buildConfirmModel(draft, policy, lang);
    if (model.skip) return this.proceed(details, draft, false, "no confirmation needed");

    const request = `r${++this.counter}`;
    const answer = await new Promise<Answer>((resolve) => {
      this.pending.set(request, {
        draft,
        policy,
        lang,
        view: { model, lang, converted: false },
        windowId: null,
        resolve,
      });
      void this.openWindow(request);
    });
    const pending = this.pending.get(request);
    this.pending.delete(request);
    if (answer.action !== "send" || !pending) return { cancel: true };
    return this.proceed(details, pending.draft, pending.view.converted, "confirmed");
  }

  private async openWindow(request: string): Promise<void> {
    try {
      const win = await this.api.windows.create({
        type: "popup",
        url: this.api.runtime.getURL(`confirm.html?request=${request}`),
        width: 640,
        height: 720,
      });
      const pending = this.pending.get(request);
      if (pending) pending.windowId = win.id ?? null;
    } catch {
      // No window, no confirmation: fail closed.
      this.pending.get(request)?.resolve({ action: "cancel" });
    }
  }

  private proceed(
    details: ComposeDetailsLike,
    draft: Draft,
    converted: boolean,
    how: string,
  ): BeforeSendResult {
    const headers = (details.customHeaders ?? []).filter(
      (h) => h.name.toLowerCase() !== CONFIRMED_HEADER.toLowerCase(),
    );
    headers.push({ name: CONFIRMED_HEADER, value: `${how}; ${new Date().toISOString()}` });
    return {
      details: {
        customHeaders: headers,
        ...(converted ? { to: joined(draft, "to"), cc: joined(draft, "cc"), bcc: joined(draft, "bcc") } : {}),
      },
    };
  }

  /** runtime.onMessage from the confirm window. */
  async onMessage(message: ConfirmMessage): Promise<ConfirmView | null> {
    const pending = this.pending.get(message.request);
    if (!pending) return null;
    switch (message.type) {
      case "sendguard:get":
      case "sendguard:ping":
        return pending.view;
      case "sendguard:convertBcc":
        pending.draft = convertExternalToBcc(pending.draft, pending.policy);
        pending.view = {
          model: buildConfirmModel(pending.draft, pending.policy, pending.lang),
          lang: pending.lang,
          converted: true,
        };
        return pending.view;
      case "sendguard:answer":
        pending.resolve(message.answer);
        return null;
    }
  }

  /** windows.onRemoved: closing the confirm window is a cancel. */
  onWindowRemoved(windowId: number): void {
    for (const pending of this.pending.values())
      if (pending.windowId === windowId) pending.resolve({ action: "cancel" });
  }
}
