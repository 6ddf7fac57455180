// What happens when the user clicks Send: build the confirm model from the draft and the policy,
// show the confirm window unless the policy says nothing needs confirming, and turn the answer
// into Thunderbird's onBeforeSend result (cancel, or go ahead with a confirmation header and,
// when asked, external recipients moved to Bcc). In api mode a confirmed message is handed to
// the gateway over HTTP instead (handoff.ts). After either, the user is told until when the
// message is held and can be undone.
import {
  buildConfirmModel,
  convertExternalToBcc,
  type ClientPolicy,
  type ConfirmModel,
  type Draft,
  t,
  type Language,
} from "@sendguard/shared";
import type { BeforeSendResult, BrowserApi, ComposeDetailsLike, SendInfo } from "./browser-api.js";
import { draftFromCompose } from "./draft.js";
import { GatewayClient } from "./gateway-client.js";
import { handOff, type HandoffOptions } from "./handoff.js";
import { HeldNotice } from "./held-notice.js";
import { uiLanguage } from "./language.js";
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

/** Options of SendGuard; defaults in brackets. */
export interface SendGuardOptions {
  fetchImpl?: typeof fetch;
  handoff?: HandoffOptions;
  /** After a relayed send, how often and how far apart to look the message up at the gateway [5 × 1000 ms]. */
  lookupAttempts?: number;
  lookupIntervalMs?: number;
}

export class SendGuard {
  private readonly pending = new Map<string, Pending>();
  private counter = 0;
  private readonly notice: HeldNotice;
  /** Hand-offs still running (api mode); tests await them. */
  readonly handoffs = new Set<Promise<void>>();

  constructor(
    private readonly api: BrowserApi,
    private readonly options: SendGuardOptions = {},
  ) {
    this.notice = new HeldNotice(api);
  }

  private async gateway() {
    const settings = await loadSettings(this.api);
    const client = new GatewayClient(
      settings,
      this.options.fetchImpl ? { fetchImpl: this.options.fetchImpl } : {},
    );
    return { settings, client };
  }

  async onBeforeSend(tab: { id?: number }, details: ComposeDetailsLike): Promise<BeforeSendResult> {
    const { settings, client } = await this.gateway();
    const [{ policy }, draft] = await Promise.all([
      loadPolicy(this.api, client),
      draftFromCompose(this.api, tab.id ?? -1, details),
    ]);
    const lang = uiLanguage(this.api, policy.language);
    const model = buildConfirmModel(draft, policy, lang);
    let changes: ComposeDetailsLike;
    if (model.skip) {
      changes = this.changes(details, draft, false, "no confirmation needed");
    } else {
      const answered = await this.confirm({ draft, policy, lang, model });
      if (!answered) return { cancel: true };
      changes = this.changes(details, answered.draft, answered.view.converted, "confirmed");
    }
    if (settings.handoff === "relay") return { details: changes };

    // api mode: Thunderbird must not send it; the hand-off starts once the cancel has gone through.
    if (!client.configured) {
      await this.notice.failed(new Error(t(lang, "held.ui.notSignedIn")), lang);
      return { cancel: true };
    }
    const running = this.handOff(tab.id ?? -1, details.identityId, changes, client, lang, draft.subject);
    this.handoffs.add(running);
    void running.finally(() => this.handoffs.delete(running));
    return { cancel: true };
  }

  private async handOff(
    tabId: number,
    identityId: string | undefined,
    changes: ComposeDetailsLike,
    client: GatewayClient,
    lang: Language,
    subject: string,
  ): Promise<void> {
    const outcome = await handOff(this.api, client, { tabId, identityId, changes }, this.options.handoff);
    if (!outcome.ok) return this.notice.failed(outcome.error, lang);
    await this.notice.held({ ...outcome.accepted, subject }, lang);
  }

  /** Opens the confirm window and waits for the answer: the (maybe converted) draft, or null for cancel. */
  private async confirm(start: { draft: Draft; policy: ClientPolicy; lang: Language; model: ConfirmModel }) {
    const request = `r${++this.counter}`;
    const answer = await new Promise<Answer>((resolve) => {
      this.pending.set(request, {
        draft: start.draft,
        policy: start.policy,
        lang: start.lang,
        view: { model: start.model, lang: start.lang, converted: false },
        windowId: null,
        resolve,
      });
      void this.openWindow(request);
    });
    const pending = this.pending.get(request);
    this.pending.delete(request);
    return answer.action === "send" && pending ? pending : null;
  }

  /** compose.onAfterSend: a message Thunderbird sent through the gateway's SMTP (relay mode). */
  async onAfterSend(info: SendInfo): Promise<void> {
    if (info.error || info.mode !== "sendNow" || !info.headerMessageId) return;
    const { settings, client } = await this.gateway();
    if (settings.handoff !== "relay" || !client.configured) return;
    const attempts = this.options.lookupAttempts ?? 5;
    for (let i = 0; i < attempts; i++) {
      const found = await client.byMessageId(info.headerMessageId).catch(() => null);
      if (found) {
        const cached = (await this.api.storage.local.get("policyCache").catch(() => ({}))) as {
          policyCache?: ClientPolicy;
        };
        return this.notice.held(found, uiLanguage(this.api, cached.policyCache?.language ?? "en"));
      }
      await new Promise((r) => setTimeout(r, this.options.lookupIntervalMs ?? 1000));
    }
  }

  /** notifications.onClicked */
  onNotificationClicked(id: string): Promise<void> {
    return this.notice.clicked(id);
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

  /** The confirmed details: the confirmation header and, when asked, external recipients in Bcc. */
  private changes(
    details: ComposeDetailsLike,
    draft: Draft,
    converted: boolean,
    how: string,
  ): ComposeDetailsLike {
    const headers = (details.customHeaders ?? []).filter(
      (h) => h.name.toLowerCase() !== CONFIRMED_HEADER.toLowerCase(),
    );
    headers.push({ name: CONFIRMED_HEADER, value: `${how}; ${new Date().toISOString()}` });
    return {
      customHeaders: headers,
      ...(converted ? { to: joined(draft, "to"), cc: joined(draft, "cc"), bcc: joined(draft, "bcc") } : {}),
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
