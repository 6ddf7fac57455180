// The confirm model of an Outlook item, for the send handler and the compose pane alike, so that
// the alert and the dialog say the same. A meeting has no Bcc: neither the button nor the warning
// that recommends it (the warning would also ask to confirm the invitation a second time).
import {
  buildConfirmModel,
  type ClientPolicy,
  type ConfirmModel,
  type Draft,
  type Language,
} from "@sendguard/shared";
import type { ItemContent } from "./draft.js";

export function itemConfirmModel(
  kind: ItemContent["kind"],
  draft: Draft,
  policy: ClientPolicy,
  lang: Language,
): ConfirmModel {
  const model = buildConfirmModel(draft, policy, lang);
  if (kind !== "appointment") return model;
  return { ...model, suggestBcc: false, warnings: model.warnings.filter((w) => w.code !== "many_external") };
}
