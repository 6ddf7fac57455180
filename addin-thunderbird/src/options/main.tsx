// The options page: where a user (or nobody, when the administrator manages it) connects the
// extension to the gateway.
import {
  Body1,
  Button,
  Caption1,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  Title3,
  makeStyles,
} from "@fluentui/react-components";
import type { Language } from "@sendguard/shared";
import { useEffect, useState } from "react";
import type { BrowserApi } from "../browser-api.js";
import { uiLanguage } from "../language.js";
import { loadSettings } from "../settings.js";
import { managedKeys, signIn } from "./signin.js";
import { mountPage } from "@sendguard/ui";

const api = browser as unknown as BrowserApi;
const lang: Language = uiLanguage(api, "en");
const text = {
  ja: {
    title: "Sendguard の設定",
    gateway: "ゲートウェイの URL",
    email: "メールアドレス",
    password: "パスワード",
    signIn: "サインイン",
    signedIn: "接続済み: {url}",
    managed: "この設定は管理者が管理しています。",
  },
  en: {
    title: "Sendguard settings",
    gateway: "Gateway URL",
    email: "E-mail address",
    password: "Password",
    signIn: "Sign in",
    signedIn: "Connected: {url}",
    managed: "Your administrator manages these settings.",
  },
}[lang];

const useStyles = makeStyles({
  root: { display: "flex", flexDirection: "column", gap: "12px", maxWidth: "480px", padding: "20px" },
});

function Options() {
  const styles = useStyles();
  const [gatewayUrl, setGatewayUrl] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [connected, setConnected] = useState("");
  const [managed, setManaged] = useState<string[]>([]);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    void loadSettings(api).then((s) => {
      setGatewayUrl(s.gatewayUrl);
      if (s.token) setConnected(s.gatewayUrl);
    });
    void managedKeys(api).then(setManaged);
  }, []);

  const locked = managed.includes("token");
  const submit = async () => {
    setBusy(true);
    setError("");
    const result = await signIn(api, { gatewayUrl, email, password }, lang);
    setBusy(false);
    setPassword("");
    if (result.ok) setConnected(result.settings.gatewayUrl);
    else setError(result.message);
  };

  return (
    <form className={styles.root} onSubmit={(e) => (e.preventDefault(), void submit())}>
      <Title3>{text.title}</Title3>
      {managed.length > 0 && <Caption1 data-testid="managed">{text.managed}</Caption1>}
      {connected && (
        <MessageBar intent="success" data-testid="connected">
          <MessageBarBody>{text.signedIn.replace("{url}", connected)}</MessageBarBody>
        </MessageBar>
      )}
      {error && (
        <MessageBar intent="error" data-testid="error">
          <MessageBarBody>{error}</MessageBarBody>
        </MessageBar>
      )}
      <Field label={text.gateway}>
        <Input
          value={gatewayUrl}
          disabled={managed.includes("gatewayUrl")}
          onChange={(_, d) => setGatewayUrl(d.value)}
          name="gatewayUrl"
        />
      </Field>
      <Field label={text.email}>
        <Input
          type="email"
          value={email}
          disabled={locked}
          onChange={(_, d) => setEmail(d.value)}
          name="email"
        />
      </Field>
      <Field label={text.password}>
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
          {text.signIn}
        </Button>
      </Body1>
    </form>
  );
}

mountPage(lang, <Options />);
