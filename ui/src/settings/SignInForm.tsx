// The sign-in form of the add-ins' settings: gateway URL, e-mail and password for an API token.
// Where the token goes is the host's (onSignIn); the form shows the outcome and forgets the password.
import {
  Body1,
  Button,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  Title3,
  makeStyles,
} from "@fluentui/react-components";
import { t, type Language } from "@sendguard/shared";
import { useState, type ReactNode } from "react";

export type SignInOutcome = { ok: true; settings: { gatewayUrl: string } } | { ok: false; message: string };

export interface SignInFormProps {
  lang: Language;
  /** The gateway URL to start from (the stored one, or the one that served the page). */
  gatewayUrl: string;
  /** The address to start from, e.g. the mailbox's own [""]. */
  email?: string;
  /** The gateway a token is already kept for; "" when none. */
  connected: string;
  onSignIn: (input: { gatewayUrl: string; email: string; password: string }) => Promise<SignInOutcome>;
  /** The administrator fixed the gateway URL / the whole sign-in. */
  lockedGateway?: boolean;
  locked?: boolean;
  /** Shown under the title, e.g. that an administrator manages these settings. */
  note?: ReactNode;
}

const useStyles = makeStyles({
  root: { display: "flex", flexDirection: "column", gap: "12px", maxWidth: "480px", padding: "20px" },
});

export function SignInForm(props: SignInFormProps) {
  const { lang, locked = false } = props;
  const styles = useStyles();
  const [gatewayUrl, setGatewayUrl] = useState(props.gatewayUrl);
  const [email, setEmail] = useState(props.email ?? "");
  const [password, setPassword] = useState("");
  const [connected, setConnected] = useState(props.connected);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    setBusy(true);
    setError("");
    const result = await props.onSignIn({ gatewayUrl, email, password });
    setBusy(false);
    setPassword("");
    if (result.ok) setConnected(result.settings.gatewayUrl);
    else setError(result.message);
  };

  return (
    <form className={styles.root} onSubmit={(e) => (e.preventDefault(), void submit())}>
      <Title3>{t(lang, "settings.ui.title")}</Title3>
      {props.note}
      {connected && (
        <MessageBar intent="success" data-testid="connected">
          <MessageBarBody>{t(lang, "settings.ui.signedIn", { url: connected })}</MessageBarBody>
        </MessageBar>
      )}
      {error && (
        <MessageBar intent="error" data-testid="error">
          <MessageBarBody>{error}</MessageBarBody>
        </MessageBar>
      )}
      <Field label={t(lang, "settings.ui.gateway")}>
        <Input
          value={gatewayUrl}
          disabled={props.lockedGateway === true}
          onChange={(_, d) => setGatewayUrl(d.value)}
          name="gatewayUrl"
        />
      </Field>
      <Field label={t(lang, "settings.ui.email")}>
        <Input
          type="email"
          value={email}
          disabled={locked}
          onChange={(_, d) => setEmail(d.value)}
          name="email"
        />
      </Field>
      <Field label={t(lang, "settings.ui.password")}>
        <Input
          type="password"
          value={password}
          disabled={locked}
          onChange={(_, d) => setPassword(d.value)}
          name="password"
        />
      </Field>
      <Body1>
        <Button appearance="primary" type="submit" disabled={busy || locked} data-testid="sign-in">
          {t(lang, "settings.ui.signIn")}
        </Button>
      </Body1>
    </form>
  );
}
