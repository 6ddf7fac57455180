// The confirm dialog (React + Fluent UI v9). Pure: everything comes in through props, so the same
// component can serve the Outlook task pane.
import {
  Body1,
  Button,
  Caption1,
  Checkbox,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  Divider,
  MessageBar,
  MessageBarBody,
  Subtitle2,
  Title3,
  makeStyles,
  tokens,
  useFluent,
} from "@fluentui/react-components";
import { readyToSend, t, type ConfirmModel, type Language, type Severity } from "@sendguard/shared";
import { useEffect, useMemo, useState } from "react";

const useStyles = makeStyles({
  root: {
    display: "flex",
    flexDirection: "column",
    gap: "12px",
    padding: "16px 20px",
    minHeight: "100vh",
    boxSizing: "border-box",
  },
  section: { display: "flex", flexDirection: "column", gap: "4px" },
  domain: { display: "block", color: tokens.colorNeutralForeground3, marginTop: "4px" },
  external: { color: tokens.colorPaletteRedForeground2 },
  footer: {
    display: "flex",
    gap: "8px",
    justifyContent: "flex-end",
    alignItems: "center",
    marginTop: "auto",
  },
  hint: { color: tokens.colorNeutralForeground3, marginRight: "auto" },
});

const INTENT: Record<Severity, "info" | "warning" | "error"> = {
  warn: "info",
  confirm: "warning",
  block: "error",
};

/**
 * A domain whose recipients need no tick (internal ones, usually) shows its addresses only on
 * request when it has more than this many: a long list of colleagues hides what needs checking.
 */
const COLLAPSE_OVER = 5;

/**
 * Lines (a domain's caption, a recipient, an attachment) in the first frame: a few more than the
 * window shows at once. The rest follow in the next frame, so a long list does not hold back the
 * dialog.
 */
const FIRST_FRAME_LINES = 16;

interface Visible {
  /** Recipient rows of each domain ("class/domain") to render; a domain not in it is not rendered yet. */
  rows: Map<string, number>;
  attachments: number;
}

/** What fits in `budget` lines, in display order; a folded domain takes its caption and its button. */
function visibleWithin(model: ConfirmModel, folded: ReadonlySet<string>, budget: number): Visible {
  const rows = new Map<string, number>();
  let left = budget;
  for (const group of model.groups)
    for (const d of group.domains) {
      if (left <= 0) break;
      const n = folded.has(d.domain) ? 0 : Math.min(left - 1, d.recipients.length);
      rows.set(`${group.class}/${d.domain}`, n);
      left -= 1 + Math.max(n, 1);
    }
  return { rows, attachments: Math.max(0, Math.min(left, model.attachments.length)) };
}

export interface ConfirmDialogProps {
  model: ConfirmModel;
  lang: Language;
  onSend: () => void;
  onCancel: () => void;
  onConvertBcc: () => void;
  /** Called once every row is rendered (after the first frame for a long list). */
  onComplete?: () => void;
}

export function ConfirmDialog({
  model,
  lang,
  onSend,
  onCancel,
  onConvertBcc,
  onComplete,
}: ConfirmDialogProps) {
  const styles = useStyles();
  const [recipients, setRecipients] = useState<ReadonlySet<string>>(new Set());
  const [attachments, setAttachments] = useState<ReadonlySet<string>>(new Set());
  const mustTick = useMemo(() => new Set(model.mustTick.map((a) => a.toLowerCase())), [model]);
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  const [complete, setComplete] = useState(false);
  // The window the dialog is in, which need not be the script's (confirm/ui.tsx).
  const win = useFluent().targetDocument?.defaultView ?? window;
  useEffect(() => {
    const frame = win.requestAnimationFrame(() => setComplete(true));
    return () => win.cancelAnimationFrame(frame);
  }, [win]);
  useEffect(() => {
    if (complete) onComplete?.();
  }, [complete, onComplete]);
  const folded = useMemo(
    () =>
      new Set(
        model.groups
          .flatMap((g) => g.domains)
          .filter(
            (d) =>
              d.recipients.length > COLLAPSE_OVER &&
              !expanded.has(d.domain) &&
              d.recipients.every((r) => !mustTick.has(r.address.toLowerCase())),
          )
          .map((d) => d.domain),
      ),
    [model, expanded, mustTick],
  );
  const visible = useMemo(
    () => visibleWithin(model, folded, complete ? Number.POSITIVE_INFINITY : FIRST_FRAME_LINES),
    [model, folded, complete],
  );
  // Warnings of severity "confirm" ask twice: once shown, once more after Send.
  const [askingAgain, setAskingAgain] = useState(false);
  const confirmAgain = model.warnings.filter((w) => w.severity === "confirm");
  const ready = useMemo(
    () => readyToSend(model, { recipients, attachments }),
    [model, recipients, attachments],
  );
  const toggle = (set: ReadonlySet<string>, key: string, on: boolean) => {
    const next = new Set(set);
    if (on) next.add(key.toLowerCase());
    else next.delete(key.toLowerCase());
    return next;
  };

  return (
    <div className={styles.root}>
      <Title3>{t(lang, "confirm.ui.title")}</Title3>
      {model.warnings.map((w, i) => (
        <MessageBar key={`${w.code}-${i}`} intent={INTENT[w.severity]} data-testid={`warning-${w.code}`}>
          <MessageBarBody>{w.text}</MessageBarBody>
        </MessageBar>
      ))}
      {model.suggestBcc && (
        <Button appearance="secondary" onClick={onConvertBcc} data-testid="convert-bcc">
          {t(lang, "confirm.ui.convertBcc")}
        </Button>
      )}
      {model.groups.map((group) => (
        <section key={group.class} className={styles.section} data-testid={`group-${group.class}`}>
          <Subtitle2 className={group.class === "external" ? styles.external : undefined}>
            {t(lang, `confirm.ui.class.${group.class}`)} (
            {group.domains.reduce((n, d) => n + d.recipients.length, 0)})
          </Subtitle2>
          {group.domains.map((d) => {
            const rows = visible.rows.get(`${group.class}/${d.domain}`);
            if (rows === undefined) return null;
            return (
              <div key={d.domain}>
                <Caption1 className={styles.domain}>{d.domain}</Caption1>
                {folded.has(d.domain) ? (
                  <Button
                    appearance="transparent"
                    size="small"
                    onClick={() => setExpanded(new Set(expanded).add(d.domain))}
                    data-testid="show-all"
                  >
                    {t(lang, "confirm.ui.showAll", { count: d.recipients.length })}
                  </Button>
                ) : (
                  d.recipients.slice(0, rows).map((r) => {
                    const label = `${r.field.toUpperCase()}: ${r.name ? `${r.name} <${r.address}>` : r.address}`;
                    const key = r.address.toLowerCase();
                    return mustTick.has(key) ? (
                      <Checkbox
                        key={r.address}
                        label={label}
                        checked={recipients.has(key)}
                        onChange={(_, data) =>
                          setRecipients(toggle(recipients, r.address, data.checked === true))
                        }
                      />
                    ) : (
                      <Body1 key={r.address} as="p">
                        {label}
                      </Body1>
                    );
                  })
                )}
              </div>
            );
          })}
        </section>
      ))}
      {model.allowTickAll && model.mustTick.length > 0 && (
        <Button
          appearance="subtle"
          onClick={() => setRecipients(new Set(model.mustTick.map((a) => a.toLowerCase())))}
        >
          {t(lang, "confirm.ui.tickAll")}
        </Button>
      )}
      {model.attachments.length > 0 && (
        <section className={styles.section} data-testid="attachments">
          <Divider />
          <Subtitle2>{t(lang, "confirm.ui.attachments")}</Subtitle2>
          {model.attachments
            .slice(0, visible.attachments)
            .map((a) =>
              a.mustTick ? (
                <Checkbox
                  key={a.name}
                  label={`${a.name} (${a.sizeText})`}
                  checked={attachments.has(a.name.toLowerCase())}
                  onChange={(_, data) => setAttachments(toggle(attachments, a.name, data.checked === true))}
                />
              ) : (
                <Body1 key={a.name} as="p">{`${a.name} (${a.sizeText})`}</Body1>
              ),
            )}
          {model.attachmentPlan.map((line) => (
            <Caption1 key={line.text} as="p" data-testid="attachment-plan">
              {line.text}
            </Caption1>
          ))}
        </section>
      )}
      <div className={styles.footer}>
        <Caption1 className={styles.hint} data-testid="hint">
          {ready.ok
            ? model.holdNotice
            : model.blocked
              ? t(lang, "confirm.blocked")
              : t(lang, "confirm.ui.mustTick", { count: ready.missing.length })}
        </Caption1>
        <Button onClick={onCancel} data-testid="cancel">
          {t(lang, "confirm.ui.cancel")}
        </Button>
        <Button
          appearance="primary"
          disabled={!ready.ok}
          onClick={() => (confirmAgain.length > 0 ? setAskingAgain(true) : onSend())}
          data-testid="send"
        >
          {t(lang, "confirm.ui.send")}
        </Button>
      </div>
      <Dialog open={askingAgain} modalType="alert" onOpenChange={(_, data) => setAskingAgain(data.open)}>
        <DialogSurface data-testid="again">
          <DialogBody>
            <DialogTitle>{t(lang, "confirm.ui.again.title")}</DialogTitle>
            <DialogContent className={styles.section}>
              <Body1>{t(lang, "confirm.ui.again.intro")}</Body1>
              {confirmAgain.map((w, i) => (
                <MessageBar key={`${w.code}-${i}`} intent="warning">
                  <MessageBarBody>{w.text}</MessageBarBody>
                </MessageBar>
              ))}
            </DialogContent>
            <DialogActions>
              <Button onClick={() => setAskingAgain(false)} data-testid="again-back">
                {t(lang, "confirm.ui.again.back")}
              </Button>
              <Button appearance="primary" onClick={onSend} data-testid="again-send">
                {t(lang, "confirm.ui.again.send")}
              </Button>
            </DialogActions>
          </DialogBody>
        </DialogSurface>
      </Dialog>
    </div>
  );
}
