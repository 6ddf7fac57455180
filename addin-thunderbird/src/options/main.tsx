// The options page: where a user (or nobody, when the administrator manages it) connects the
// extension to the gateway.
import { Caption1 } from "@fluentui/react-components";
import type { Language } from "@sendguard/shared";
import { SignInForm, mountPage } from "@sendguard/ui";
import { useEffect, useState } from "react";
import type { BrowserApi } from "../browser-api.js";
import { uiLanguage } from "../language.js";
import { loadSettings, type Settings } from "../settings.js";
import { managedKeys, signIn } from "./signin.js";

const api = browser as unknown as BrowserApi;
const lang: Language = uiLanguage(api, "en");
const MANAGED = {
  ja: "この設定は管理者が管理しています。",
  en: "Your administrator manages these settings.",
}[lang];

function Options() {
  const [loaded, setLoaded] = useState<{ settings: Settings; managed: string[] } | null>(null);
  useEffect(() => {
    void Promise.all([loadSettings(api), managedKeys(api)]).then(([settings, managed]) =>
      setLoaded({ settings, managed }),
    );
  }, []);
  if (!loaded) return null;
  const { settings, managed } = loaded;
  return (
    <SignInForm
      lang={lang}
      gatewayUrl={settings.gatewayUrl}
      connected={settings.token ? settings.gatewayUrl : ""}
      lockedGateway={managed.includes("gatewayUrl")}
      locked={managed.includes("token")}
      note={managed.length > 0 && <Caption1 data-testid="managed">{MANAGED}</Caption1>}
      onSignIn={(input) => signIn(api, input, lang)}
    />
  );
}

mountPage(lang, <Options />);
