// The event handlers: Send (OnMessageSend, OnAppointmentSend) decides whether the item may go;
// a recipients or attachments change fetches the policy ahead of Send. Every path calls
// event.completed: an add-in that never does leaves Send hanging, SoftBlock or not.
import { t } from "@sendguard/shared";
import { PANE_COMMAND } from "./commands.js";
import { withDeadline } from "./deadline.js";
import { itemConfirmModel } from "./model.js";
import { ALLOW, confirmDecision, failedDecision, type Completion } from "./decision.js";
import { draftOf } from "./draft.js";
import { readItem, readMarker, type ComposeItem } from "./host.js";
import { language } from "./language.js";
import { confirmationDigest } from "./marker.js";
import { PolicyLoader } from "./policy.js";

/** Options of createHandlers; defaults in brackets. */
export interface HandlerOptions {
  /** Milliseconds from Send to a decision, whatever the host or the gateway do [3000]. */
  budgetMs?: number;
  /** Milliseconds the gateway has to give the policy before the cached one is used [1500]. */
  policyTimeoutMs?: number;
  /** How long a policy fetched on a recipients change is used without asking again [60000]. */
  policyFreshMs?: number;
}

interface MailboxEvent {
  completed(options?: Completion): void;
}

/** The item being sent, if the host can say (the failure path must not throw in turn). */
function currentItem(): ComposeItem | undefined {
  try {
    return Office.context.mailbox.item as ComposeItem | undefined;
  } catch {
    return undefined;
  }
}

/** The task pane the dialog's button opens, where the client has commandId (1.14). */
function paneCommand(item: ComposeItem | undefined): string | null {
  try {
    if (!Office.context.requirements.isSetSupported("Mailbox", "1.14")) return null;
    return item?.itemType === "appointment" ? PANE_COMMAND.appointment : PANE_COMMAND.message;
  } catch {
    return null;
  }
}

async function decide(policies: PolicyLoader): Promise<Completion> {
  const mailbox = Office.context.mailbox;
  const item = mailbox.item as ComposeItem;
  const [content, marker, { policy, source }] = await Promise.all([
    readItem(item),
    readMarker(item),
    policies.load(),
  ]);
  const draft = draftOf(content, mailbox.userProfile?.emailAddress ?? "");
  const lang = language(policy.language);
  const model = itemConfirmModel(content.kind, draft, policy, lang);
  // The pane confirmed exactly this item (recipients, attachments, subject): it may go, unless the
  // policy now blocks it outright.
  const confirmed = marker !== null && marker === confirmationDigest(draft);
  if (model.skip || (confirmed && !model.blocked)) return ALLOW;
  return confirmDecision(model, { lang, paneCommand: paneCommand(item), failClosed: source === "fallback" });
}

export function createHandlers(options: HandlerOptions = {}) {
  const budgetMs = options.budgetMs ?? 3000;
  const policies = new PolicyLoader({
    timeoutMs: options.policyTimeoutMs ?? 1500,
    freshMs: options.policyFreshMs ?? 60_000,
  });

  const failed = (detail: string): Completion =>
    failedDecision(detail, { lang: language("ja"), paneCommand: paneCommand(currentItem()) });

  /** OnMessageSend / OnAppointmentSend. */
  async function onSendGuard(event: MailboxEvent): Promise<void> {
    let decision: Completion;
    try {
      decision = await withDeadline(decide(policies), budgetMs, () =>
        failed(t(language("ja"), "outlook.alert.slowHost", { seconds: budgetMs / 1000 })),
      );
    } catch (err) {
      decision = failed(err instanceof Error ? err.message : String(err));
    }
    event.completed(decision);
  }

  /** OnMessageRecipientsChanged / OnMessageAttachmentsChanged: have the policy ready for Send. */
  async function prepare(event: MailboxEvent): Promise<void> {
    await policies.load().catch(() => undefined);
    event.completed();
  }

  return { onSendGuard, onRecipientsChanged: prepare, onAttachmentsChanged: prepare };
}
