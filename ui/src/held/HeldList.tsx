// The held-messages popup (React + Fluent UI v9). Pure: the list, the clock and the outcome of the
// last action come in through props, so it renders the same in a test as behind the toolbar button.
import {
  Body1,
  Button,
  Caption1,
  MessageBar,
  MessageBarBody,
  ProgressBar,
  Subtitle2,
  makeStyles,
  tokens,
} from "@fluentui/react-components";
import { formatDuration, t, type Language, type MessageSummary } from "@sendguard/shared";

const useStyles = makeStyles({
  root: {
    display: "flex",
    flexDirection: "column",
    gap: "10px",
    width: "360px",
    padding: "12px 14px",
    boxSizing: "border-box",
  },
  list: { display: "flex", flexDirection: "column", margin: 0, padding: 0, listStyle: "none" },
  row: {
    display: "flex",
    flexDirection: "column",
    gap: "4px",
    padding: "8px 0",
    borderTop: `1px solid ${tokens.colorNeutralStroke2}`,
  },
  subject: { overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" },
  status: { color: tokens.colorNeutralForeground3, fontVariantNumeric: "tabular-nums" },
  line: { display: "flex", alignItems: "center", gap: "8px" },
  actions: { display: "flex", gap: "8px", marginLeft: "auto" },
  muted: { color: tokens.colorNeutralForeground3 },
});

export interface Notice {
  intent: "success" | "warning" | "error";
  text: string;
}

export interface HeldListProps {
  lang: Language;
  /** null until the gateway has answered once. */
  messages: readonly MessageSummary[] | null;
  /** Date.now() of the last clock tick. */
  now: number;
  /** Ids with an undo / send-now request in flight. */
  busy: ReadonlySet<string>;
  notSignedIn: boolean;
  /** Why the list could not be loaded; "" when it could. */
  error: string;
  /** The outcome of the last undo / send now. */
  notice: Notice | null;
  onUndo: (message: MessageSummary) => void;
  onSendNow: (message: MessageSummary) => void;
  onOpenSettings: () => void;
}

export function HeldList(props: HeldListProps) {
  const { lang, messages, now, busy, notice, error } = props;
  const styles = useStyles();

  if (props.notSignedIn) {
    return (
      <div className={styles.root}>
        <Subtitle2>{t(lang, "held.ui.title")}</Subtitle2>
        <Body1 data-testid="not-signed-in">{t(lang, "held.ui.notSignedIn")}</Body1>
        <Button appearance="primary" onClick={props.onOpenSettings} data-testid="open-settings">
          {t(lang, "held.ui.openSettings")}
        </Button>
      </div>
    );
  }

  return (
    <div className={styles.root}>
      <Subtitle2>{t(lang, "held.ui.title")}</Subtitle2>
      {notice && (
        <MessageBar intent={notice.intent} data-testid="notice">
          <MessageBarBody>{notice.text}</MessageBarBody>
        </MessageBar>
      )}
      {error && (
        <MessageBar intent="error" data-testid="error">
          <MessageBarBody>{error}</MessageBarBody>
        </MessageBar>
      )}
      {messages?.length === 0 && (
        <Caption1 className={styles.muted} data-testid="empty">
          {t(lang, "held.ui.empty")}
        </Caption1>
      )}
      {messages && messages.length > 0 && (
        <ul className={styles.list}>
          {messages.map((m) => (
            <li key={m.id} className={styles.row} data-testid="held-row" data-id={m.id}>
              <Body1 className={styles.subject} title={m.subject}>
                {m.subject || "—"}
              </Body1>
              <div className={styles.line}>
                <Caption1 className={styles.status} data-testid="status-text">
                  {statusText(lang, m, now)}
                </Caption1>
                <div className={styles.actions}>
                  <Button
                    size="small"
                    disabled={busy.has(m.id)}
                    onClick={() => props.onUndo(m)}
                    data-testid="undo"
                  >
                    {t(lang, "held.ui.undo")}
                  </Button>
                  {/* The approver decides when it goes; the sender can only withdraw it. */}
                  {m.status === "held" && (
                    <Button
                      size="small"
                      appearance="primary"
                      disabled={busy.has(m.id)}
                      onClick={() => props.onSendNow(m)}
                      data-testid="send-now"
                    >
                      {t(lang, "held.ui.sendNow")}
                    </Button>
                  )}
                </div>
              </div>
              {m.status === "held" && (
                <ProgressBar
                  value={holdElapsed(m, now)}
                  thickness="medium"
                  aria-hidden
                  data-testid="hold-progress"
                />
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** How much of its hold has passed (0–1): the bar shows at a glance which message goes first. */
function holdElapsed(m: MessageSummary, now: number): number {
  const start = Date.parse(m.createdAt);
  const end = Date.parse(m.releaseAt);
  return end > start ? Math.min(1, Math.max(0, (now - start) / (end - start))) : 1;
}

function statusText(lang: Language, m: MessageSummary, now: number) {
  if (m.status === "pending_approval") return t(lang, "held.ui.pendingApproval");
  const left = Date.parse(m.releaseAt) - now;
  // Past its time it stays listed until the gateway has picked it up: it is being sent, not late.
  if (!(left > 0)) return t(lang, "held.ui.releasing");
  // Said as people say it ("あと 4 分 32 秒で送信"), whole seconds rounded up so it never reads 0 early.
  const time = formatDuration(Math.ceil(left / 1000) / 60, lang);
  return <span data-testid="countdown">{t(lang, "held.ui.sendsIn", { time })}</span>;
}
