// The compose task pane: the shared confirm dialog for the item being written, and what the
// answer does. Send: relay (confirmation marker, header, sendAsync) or api (the parts to the
// gateway, then the item discarded). Cancel: nothing is written to Outlook. Convert to Bcc:
// setAsync on To, Cc and Bcc, then the dialog again from what Outlook now holds.
import { Button, MessageBar, MessageBarBody, Spinner, makeStyles } from "@fluentui/react-components";
import { t, type Language } from "@sendguard/shared";
import { ConfirmDialog, GatewayClient, SignInForm, clockTime } from "@sendguard/ui";
import { useCallback, useEffect, useState } from "react";
import { hostCall, type ComposeItem } from "../../handler/host.js";
import type { PolicyLoader } from "../../handler/policy.js";
import { readSettings, signIn as signInTo } from "../settings.js";
import { moveExternalToBcc } from "./bcc.js";
import { confirmAndSend } from "./send.js";
import { buildSubmission } from "./submission.js";
import { loadView, type ComposeView } from "./view.js";

/**
 * performance.marks (bench/outlook-pane.ts reads them): the page script starts, the dialog's first
 * frame, its last rows.
 */
export const SCRIPT_MARK = "sendguard:pane-script";
export const INTERACTIVE_MARK = "sendguard:pane-interactive";
export const COMPLETE_MARK = "sendguard:pane-complete";

const useStyles = makeStyles({
  notice: { display: "flex", flexDirection: "column", gap: "12px", padding: "16px 20px" },
});

type Phase =
  | { name: "loading" }
  | { name: "confirm"; view: ComposeView; problem?: string }
  | { name: "busy"; view: ComposeView }
  | { name: "done"; text: string; intent: "success" | "info" | "warning"; again: boolean };

export interface ComposePaneProps {
  item: ComposeItem;
  policies: PolicyLoader;
  roaming: Office.RoamingSettings;
  /** This page's URL: before a sign-in, the gateway is the one that served it. */
  pageUrl: string;
  /** The language until the policy says the organisation's (Outlook's display language). */
  lang: Language;
}

const reason = (err: unknown) => (err instanceof Error ? err.message : String(err));

export function ComposePane({ item, policies, roaming, pageUrl, lang: initialLang }: ComposePaneProps) {
  const styles = useStyles();
  const [phase, setPhase] = useState<Phase>({ name: "loading" });
  const [settings, setSettings] = useState(() => readSettings(roaming, pageUrl));
  const from = Office.context.mailbox.userProfile?.emailAddress ?? "";
  const lang = phase.name === "confirm" || phase.name === "busy" ? phase.view.lang : initialLang;

  const load = useCallback(
    (problem?: string) =>
      loadView(item, policies, from).then(
        (view) => setPhase({ name: "confirm", view, ...(problem ? { problem } : {}) }),
        (err: unknown) =>
          setPhase({
            name: "done",
            intent: "warning",
            again: true,
            text: t(initialLang, "outlook.pane.hostFailed", { detail: reason(err) }),
          }),
      ),
    [item, policies, from, initialLang],
  );
  useEffect(() => void load(), [load]);

  const shown = phase.name === "confirm";
  useEffect(() => {
    // The first frame with the dialog: benchmarks and support measure open → interactive from it.
    if (shown) requestAnimationFrame(() => performance.mark(INTERACTIVE_MARK));
  }, [shown]);

  const send = async (view: ComposeView) => {
    setPhase({ name: "busy", view });
    const v = view.lang;
    try {
      if (view.handoff === "relay") {
        const outcome = await confirmAndSend(item, view.draft);
        // After "sent" Outlook closes the compose form, and this pane with it.
        setPhase({
          name: "done",
          intent: outcome === "sent" ? "success" : "info",
          again: false,
          text: t(v, outcome === "sent" ? "outlook.pane.sending" : "outlook.pane.pressSend"),
        });
        return;
      }
      const client = new GatewayClient(settings);
      if (!client.configured) {
        setPhase({ name: "confirm", view, problem: t(v, "outlook.pane.notSignedIn") });
        return;
      }
      const message = await buildSubmission(item as Office.MessageCompose, view.draft, v);
      const accepted = await client.submitParts(message);
      const time = clockTime(accepted.releaseAt, v);
      try {
        await hostCall<void>((done) =>
          (item as Office.MessageCompose).closeAsync({ discardItem: true }, done),
        );
        setPhase({
          name: "done",
          intent: "success",
          again: false,
          text: t(v, "outlook.pane.handedOver", { time }),
        });
      } catch {
        setPhase({ name: "done", intent: "warning", again: false, text: t(v, "outlook.pane.notDiscarded") });
      }
    } catch (err) {
      // Nothing went out: the compose form stays as it is, and the dialog with why.
      setPhase({ name: "confirm", view, problem: t(v, "outlook.pane.refused", { detail: reason(err) }) });
    }
  };

  const convertBcc = async (view: ComposeView) => {
    setPhase({ name: "busy", view });
    try {
      await moveExternalToBcc(item as Office.MessageCompose, view.draft, view.policy);
      await load();
    } catch (err) {
      await load(t(view.lang, "outlook.pane.hostFailed", { detail: reason(err) }));
    }
  };

  const signIn = settings.token ? null : (
    <SignInForm
      lang={lang}
      gatewayUrl={settings.gatewayUrl}
      email={Office.context.mailbox.userProfile?.emailAddress ?? ""}
      connected=""
      onSignIn={async (input) => {
        const result = await signInTo(roaming, input, lang);
        if (result.ok) {
          setSettings(result.settings);
          setPhase({ name: "loading" });
          void load();
        }
        return result;
      }}
    />
  );

  if (phase.name === "loading" || phase.name === "busy")
    return (
      <div className={styles.notice}>
        <Spinner
          label={t(lang, phase.name === "loading" ? "outlook.pane.loading" : "outlook.pane.sending")}
          data-testid="busy"
        />
      </div>
    );
  if (phase.name === "done")
    return (
      <div className={styles.notice}>
        <MessageBar intent={phase.intent} data-testid="outcome">
          <MessageBarBody>{phase.text}</MessageBarBody>
        </MessageBar>
        {phase.again && (
          <Button
            onClick={() => {
              setPhase({ name: "loading" });
              void load();
            }}
            data-testid="again"
          >
            {t(lang, "outlook.pane.again")}
          </Button>
        )}
      </div>
    );
  const { view, problem } = phase;
  return (
    <>
      {view.source === "fallback" && (
        <MessageBar intent="warning" data-testid="fail-closed">
          <MessageBarBody>{t(lang, "outlook.alert.failClosed")}</MessageBarBody>
        </MessageBar>
      )}
      {problem && (
        <MessageBar intent="error" data-testid="problem">
          <MessageBarBody>{problem}</MessageBarBody>
        </MessageBar>
      )}
      <ConfirmDialog
        model={view.model}
        lang={lang}
        onSend={() => void send(view)}
        onCancel={() =>
          setPhase({ name: "done", intent: "info", again: true, text: t(lang, "outlook.pane.cancelled") })
        }
        onConvertBcc={() => void convertBcc(view)}
        onComplete={() => requestAnimationFrame(() => performance.mark(COMPLETE_MARK))}
      />
      {signIn}
    </>
  );
}
