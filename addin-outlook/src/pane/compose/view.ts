// What the compose pane shows: the item read the way the send handler reads it (host.ts readItem,
// draft.ts draftOf), so that the confirmation digest the pane leaves is the one the handler
// computes on Send, checked by the shared checks against the policy (cached, or the fail-closed
// one when the gateway has never answered).
import {
  type ClientPolicy,
  type ConfirmModel,
  type Draft,
  type Language,
  type OutlookHandoff,
  type PolicySource,
} from "@sendguard/shared";
import { draftOf } from "../../handler/draft.js";
import { itemConfirmModel } from "../../handler/model.js";
import { readItem, type ComposeItem } from "../../handler/host.js";
import { language } from "../../handler/language.js";
import type { PolicyLoader } from "../../handler/policy.js";
import { handoffOf } from "../settings.js";

export interface ComposeView {
  kind: "message" | "appointment";
  draft: Draft;
  policy: ClientPolicy;
  source: PolicySource;
  model: ConfirmModel;
  lang: Language;
  /** Meeting invitations always go from Outlook: the API takes messages, not invitations. */
  handoff: OutlookHandoff;
}

export async function loadView(
  item: ComposeItem,
  policies: PolicyLoader,
  from: string,
): Promise<ComposeView> {
  const [content, { policy, source }] = await Promise.all([readItem(item), policies.load()]);
  const draft = draftOf(content, from);
  const lang = language(policy.language);
  const model = itemConfirmModel(content.kind, draft, policy, lang);
  const meeting = content.kind === "appointment";
  return {
    kind: content.kind,
    draft,
    policy,
    source,
    model,
    lang,
    handoff: meeting ? "relay" : handoffOf(policy),
  };
}
