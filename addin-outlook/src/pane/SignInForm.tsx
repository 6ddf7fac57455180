// Sign-in in a task pane (compose and read): the gateway URL (the serving gateway's at first), the
// e-mail address and the password, exchanged for a token kept in roamingSettings (settings.ts).
import {
  Body1,
  Button,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  Subtitle2,
  makeStyles,
} from "@fluentui/react-components";
import { t, type Language } from "@sendguard/shared";
import { useState, type FormEvent } from "react";
import { signIn, type PaneSettings } from "./settings.js";

const useStyles = makeStyles({
  form: { display: "flex", flexDirection: "column", gap: "8px", padding: "12px 20px" },
});

export interface SignInFormProps {
  lang: Language;
  roaming: Office.RoamingSettings;
  /** The gateway to offer: the one the pages came from, or the last one signed in to. */
  gatewayUrl: string;
  onSignedIn: (settings: PaneSettings) => void;
}

export function SignInForm({ lang, roaming, gatewayUrl, onSignedIn }: SignInFormProps) {
  const styles = useStyles();
  const [url, setUrl] = useState(gatewayUrl);
  const [email, setEmail] = useState(Office.context.mailbox.userProfile?.emailAddress ?? "");
  const [password, setPassword] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    const result = await signIn(roaming, { gatewayUrl: url, email, password }, lang);
    setBusy(false);
    if (result.ok) onSignedIn(result.settings);
    else setProblem(result.message);
  };
  return (
    <form className={styles.form} onSubmit={(e) => void submit(e)} data-testid="signin">
      <Subtitle2>{t(lang, "outlook.signin.title")}</Subtitle2>
      <Body1>{t(lang, "outlook.signin.intro")}</Body1>
      {problem && (
        <MessageBar intent="error" data-testid="signin-problem">
          <MessageBarBody>{problem}</MessageBarBody>
        </MessageBar>
      )}
      <Field label={t(lang, "outlook.signin.url")}>
        <Input value={url} onChange={(_, d) => setUrl(d.value)} type="url" name="gatewayUrl" />
      </Field>
      <Field label={t(lang, "outlook.signin.email")}>
        <Input value={email} onChange={(_, d) => setEmail(d.value)} type="email" name="email" />
      </Field>
      <Field label={t(lang, "outlook.signin.password")}>
        <Input value={password} onChange={(_, d) => setPassword(d.value)} type="password" name="password" />
      </Field>
      <Button appearance="primary" type="submit" disabled={busy} data-testid="signin-submit">
        {t(lang, "outlook.signin.submit")}
      </Button>
    </form>
  );
}
