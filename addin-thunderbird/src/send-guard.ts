// What happens when the user clicks Send: build the confirm model from the draft and the policy,
// show the confirm window unless the policy says nothing needs confirming, and turn the answer
// into Thunderbird's onBeforeSend result (cancel, or go ahead with a confirmation header and,
// when asked, external recipients moved to Bcc). In api mode a confirmed message is handed to
// the gateway over HTTP instead (handoff.ts). After either, the user is told until when the
// message is held and can be undone.
import {
  buildConfirmModel,
  CONFIRMED_HEADER,
  confirmedHeaderValue,
  type ConfirmedHow,
  convertExternalToBcc,
  FALLBACK_CLIENT_POLICY,
  type ClientPolicy,
  type ConfirmModel,
  type Draft,
  t,
  type Language,
} from "@sendguard/shared";
import type { BeforeSendResult, BrowserApi, ComposeDetailsLike, SendInfo } from "./browser-api.js";
import { draftFromCompose, draftFromDetails } from "./draft.js";
import { GatewayClient } from "@sendguard/ui";
import { handOff, type HandoffOptions } from "./handoff.js";
import { HeldNotice } from "./held-notice.js";
import { uiLanguage } from "./language.js";
import { cachedPolicy, loadPolicy } from "./policy-client.js";
import { loadSettings, type Settings } from "./settings.js";

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

/** One open (or opening) confirm window. */
interface Pending {
  request: string;
  draft: Draft;
  /** Set by `ready`, together with the view (the draft too: until then it lacks the attachments). */
  policy: ClientPolicy | null;
  lang: Language;
  /** Resolves once the fresh policy is in; the window may ask for it before. */
  view: Promise<ConfirmView>;
  ready: (draft: Draft, policy: ClientPolicy, lang: Language, model: ConfirmModel) => void;
  windowId: number | null;
  /** Closed by the background: the fresh policy needs no confirmation after all. */
  dismissed: boolean;
  answer: Promise<Answer>;
  resolve: (answer: Answer) => void;
}

export { CONFIRMED_HEADER };

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
  /** Read once and kept until storage changes (onStorageChanged): every Send needs them. */
  private settings: Promise<Settings> | null = null;
  /** The policy of the last Send (at first the cached one): decides early whether a window is needed. */
  private knownPolicy: Promise<ClientPolicy> | null = null;
  private readonly notice: HeldNotice;
  /** Hand-offs still running (api mode); tests await them. */
  readonly handoffs = new Set<Promise<void>>();

  constructor(
    private readonly api: BrowserApi,
    private readonly options: SendGuardOptions = {},
  ) {
    this.notice = new HeldNotice(api);
  }

  /**
   * Starts reading what every Send needs (settings, the last known policy) so that a Send that
   * woke the background does not wait for it in turn.
   */
  prepare(): void {
    this.settings ??= loadSettings(this.api);
    void this.lastPolicy();
  }

  private lastPolicy(): Promise<ClientPolicy> {
    return (this.knownPolicy ??= cachedPolicy(this.api));
  }

  private async gateway() {
    this.settings ??= loadSettings(this.api);
    const settings = await this.settings;
    const client = new GatewayClient(
      settings,
      this.options.fetchImpl ? { fetchImpl: this.options.fetchImpl } : {},
    );
    return { settings, client };
  }

  /** storage.onChanged: the user signed in again, or an administrator changed the settings. */
  onStorageChanged(keys: string[]): void {
    // Not for the policy cache, which every Send writes.
    if (keys.includes("settings")) this.settings = null;
  }

  async onBeforeSend(tab: { id?: number }, details: ComposeDetailsLike): Promise<BeforeSendResult> {
    const [{ settings, client }, known] = await Promise.all([this.gateway(), this.lastPolicy()]);
    const fresh = loadPolicy(this.api, client, known === FALLBACK_CLIENT_POLICY ? undefined : known);
    const full = draftFromCompose(this.api, tab.id ?? -1, details);
    // Opening the window takes longest (a new window and its page): when the last known policy
    // asks for a confirmation of what the compose details already say, open it now and let it
    // wait for the attachments and the fresh policy.
    // Knowing nothing yet (the fail-closed fallback) is no guess: that would flash a window.
    const guess = known !== FALLBACK_CLIENT_POLICY || !client.configured;
    const early = draftFromDetails(details);
    let window =
      guess && !buildConfirmModel(early, known, uiLanguage(this.api, known.language)).skip
        ? this.openConfirm(early, known.language)
        : null;
    const draft = await full;
    const { policy } = await fresh;
    this.knownPolicy = Promise.resolve(policy);
    const lang = uiLanguage(this.api, policy.language);
    const model = buildConfirmModel(draft, policy, lang);
    if (model.skip && window) this.dismiss(window);
    let changes: ComposeDetailsLike;
    if (model.skip) {
      changes = this.changes(details, draft, false, "no confirmation needed");
    } else {
      window ??= this.openConfirm(draft, lang);
      window.ready(draft, policy, lang, model);
      const answer = await window.answer;
      this.pending.delete(window.request);
      if (answer.action !== "send") return { cancel: true };
      changes = this.changes(details, window.draft, (await window.view).converted, "confirmed");
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

  /** Opens a confirm window for `draft` (maybe not yet complete); its view follows with `ready`. */
  private openConfirm(draft: Draft, lang: Language): Pending {
    const request = `r${++this.counter}`;
    let ready!: Pending["ready"];
    let resolve!: Pending["resolve"];
    const pending: Pending = {
      request,
      draft,
      policy: null,
      lang,
      view: new Promise<ConfirmView>((r) => {
        ready = (draft, policy, lang, model) => {
          pending.draft = draft;
          pending.policy = policy;
          pending.lang = lang;
          r({ model, lang, converted: false });
        };
      }),
      ready: (...args) => ready(...args),
      windowId: null,
      dismissed: false,
      answer: new Promise<Answer>((r) => (resolve = r)),
      resolve: (answer) => resolve(answer),
    };
    this.pending.set(request, pending);
    void this.openWindow(pending);
    return pending;
  }

  private dismiss(pending: Pending): void {
    pending.dismissed = true;
    this.pending.delete(pending.request);
    if (pending.windowId !== null) void this.api.windows.remove(pending.windowId).catch(() => undefined);
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
        const known = await this.lastPolicy();
        return this.notice.held(found, uiLanguage(this.api, known.language));
      }
      await new Promise((r) => setTimeout(r, this.options.lookupIntervalMs ?? 1000));
    }
  }

  /** notifications.onClicked */
  onNotificationClicked(id: string): Promise<void> {
    return this.notice.clicked(id);
  }

  private async openWindow(pending: Pending): Promise<void> {
    try {
      const win = await this.api.windows.create({
        type: "popup",
        url: this.api.runtime.getURL(`confirm.html?request=${pending.request}`),
        width: 640,
        height: 720,
      });
      pending.windowId = win.id ?? null;
      if (pending.dismissed && pending.windowId !== null) await this.api.windows.remove(pending.windowId);
    } catch {
      // No window, no confirmation: fail closed.
      pending.resolve({ action: "cancel" });
    }
  }

  /** The confirmed details: the confirmation header and, when asked, external recipients in Bcc. */
  private changes(
    details: ComposeDetailsLike,
    draft: Draft,
    converted: boolean,
    how: ConfirmedHow,
  ): ComposeDetailsLike {
    const headers = (details.customHeaders ?? []).filter(
      (h) => h.name.toLowerCase() !== CONFIRMED_HEADER.toLowerCase(),
    );
    headers.push({ name: CONFIRMED_HEADER, value: confirmedHeaderValue(how) });
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
      case "sendguard:convertBcc": {
        await pending.view;
        const policy = pending.policy as ClientPolicy;
        pending.draft = convertExternalToBcc(pending.draft, policy);
        pending.view = Promise.resolve({
          model: buildConfirmModel(pending.draft, policy, pending.lang),
          lang: pending.lang,
          converted: true,
        });
        return pending.view;
      }
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
