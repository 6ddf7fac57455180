// The handler's answer to Outlook (event.completed's options), from the confirm model: allow, or
// block with a short message and a button that opens the task pane. Pure: no Office calls.
import { t, type ConfirmModel, type Language } from "@sendguard/shared";

/** Outlook cuts a Smart Alerts message after 500 characters. */
export const MAX_MESSAGE = 500;

/** The subset of Office.SmartAlertsEventCompletedOptions the handler sets. */
export interface Completion {
  allowEvent: boolean;
  errorMessage?: string;
  /** The task pane the dialog's button opens (Mailbox 1.14); without it the text says where to go. */
  commandId?: string;
  cancelLabel?: string;
}

export const ALLOW: Completion = { allowEvent: true };

export interface BlockContext {
  lang: Language;
  /** Control id of the compose task pane, or null where the client cannot open it (before 1.14). */
  paneCommand: string | null;
  /** No policy from the gateway nor a cached one: the frozen fail-closed policy decided. */
  failClosed: boolean;
}

/** head, as many of the middle lines as fit, tail: the way to the pane is never cut off. */
function fit(head: string, middle: readonly string[], tail: string): string {
  const lines = [head];
  let length = head.length + 1 + tail.length;
  for (const line of middle) {
    if (length + 1 + line.length > MAX_MESSAGE) continue;
    lines.push(line);
    length += 1 + line.length;
  }
  lines.push(tail);
  const text = lines.join("\n");
  return text.length <= MAX_MESSAGE ? text : `${text.slice(0, MAX_MESSAGE - 1)}…`;
}

/**
 * "社外の宛先 3 件: a.example, b.example, c.example ほか 2 件": the external domains (or a list's
 * name), at most three; all recipients when a policy confirms even internal-only mail.
 */
function recipientSummary(model: ConfirmModel, lang: Language): string | null {
  const external = model.groups.find((g) => g.class === "external");
  const domains = external ? external.domains : model.groups.flatMap((g) => g.domains);
  if (domains.length === 0) return null;
  const count = domains.reduce((n, d) => n + d.recipients.length, 0);
  const labels = domains.map((d) => d.domain || d.recipients[0]?.name || d.recipients[0]?.address);
  const shown = labels.slice(0, 3).join(", ");
  const more = labels.length > 3 ? ` ${t(lang, "outlook.alert.more", { count: labels.length - 3 })}` : "";
  return t(lang, external ? "outlook.alert.external" : "outlook.alert.recipients", {
    count,
    domains: shown + more,
  });
}

function block(text: string, ctx: Pick<BlockContext, "lang" | "paneCommand">): Completion {
  return ctx.paneCommand
    ? {
        allowEvent: false,
        errorMessage: text,
        commandId: ctx.paneCommand,
        cancelLabel: t(ctx.lang, "outlook.alert.button"),
      }
    : { allowEvent: false, errorMessage: text };
}

function wayToPane(ctx: Pick<BlockContext, "lang" | "paneCommand">): string {
  return t(ctx.lang, ctx.paneCommand ? "outlook.alert.openPane" : "outlook.alert.openPaneManually");
}

/**
 * The model asks for a confirmation (or blocks): Send is stopped and the pane shows the dialog.
 * No "Send Anyway" (sendModeOverride promptUser): a model that gets here is one the policy says
 * must be answered, which Send Anyway would skip.
 */
export function confirmDecision(model: ConfirmModel, ctx: BlockContext): Completion {
  const { lang } = ctx;
  const middle: string[] = [];
  if (ctx.failClosed) middle.push(t(lang, "outlook.alert.failClosed"));
  // Most severe first (the model's order): a block-level warning says why Send cannot go.
  const urgent = model.warnings.filter((w) => w.severity !== "warn").map((w) => w.text);
  middle.push(...urgent);
  const recipients = recipientSummary(model, lang);
  if (recipients) middle.push(recipients);
  if (model.attachments.length > 0)
    middle.push(t(lang, "outlook.alert.attachments", { count: model.attachments.length }));
  middle.push(...model.warnings.filter((w) => w.severity === "warn").map((w) => w.text));
  return block(fit(t(lang, "outlook.alert.confirm"), middle, wayToPane(ctx)), ctx);
}

/** The handler could not decide (an exception, a host that did not answer): Send is stopped, with why. */
export function failedDecision(detail: string, ctx: Pick<BlockContext, "lang" | "paneCommand">): Completion {
  const reason = detail.length > 200 ? `${detail.slice(0, 199)}…` : detail;
  return block(fit(t(ctx.lang, "outlook.alert.failed", { detail: reason }), [], ""), ctx);
}
