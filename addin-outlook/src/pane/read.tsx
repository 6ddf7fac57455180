// The read-mode task pane: the user's held messages with countdowns, Undo and Send now; on a hold
// notice, that notice's message first, so it can be undone from the notice itself. Not signed in,
// the pane shows the sign-in instead.
import type { Language } from "@sendguard/shared";
import { HeldMessages, SignInForm, mountPage } from "@sendguard/ui";
import { useCallback, useEffect, useState } from "react";
import { language } from "../handler/language.js";
import { openNoticeMessageId } from "./read-notice.js";
import { readSettings, signIn, type PaneSettings } from "./settings.js";

/** The open item as the pane last read it; `seen` tells one item from the next with the same id. */
interface OpenItem {
  noticeId: string | undefined;
  seen: number;
}

function ReadPane({ lang }: { lang: Language }) {
  const roaming = Office.context.roamingSettings;
  const [settings, setSettings] = useState<PaneSettings>(() => readSettings(roaming, location.href));
  const [signingIn, setSigningIn] = useState(false);
  const [item, setItem] = useState<OpenItem | null>(null);
  const loadSettings = useCallback(() => Promise.resolve(settings), [settings]);

  useEffect(() => {
    let seen = 0;
    const look = () =>
      void openNoticeMessageId(Office.context.mailbox.item as Office.MessageRead | undefined).then((id) =>
        setItem({ noticeId: id ?? undefined, seen: ++seen }),
      );
    look();
    // A pinned pane stays open while the user moves to another mail.
    Office.context.mailbox.addHandlerAsync(Office.EventType.ItemChanged, look);
  }, []);

  if (!item) return null;
  if (signingIn)
    return (
      <SignInForm
        lang={lang}
        gatewayUrl={settings.gatewayUrl}
        connected={settings.token ? settings.gatewayUrl : ""}
        onSignIn={async (input) => {
          const result = await signIn(roaming, input, lang);
          if (result.ok) {
            setSettings(result.settings);
            setSigningIn(false);
          }
          return result;
        }}
      />
    );
  return (
    <HeldMessages
      key={`${settings.gatewayUrl} ${settings.token} ${item.seen}`}
      lang={lang}
      loadSettings={loadSettings}
      focusId={item.noticeId}
      onOpenSettings={() => setSigningIn(true)}
    />
  );
}

void Office.onReady(() => {
  const lang = language("en");
  mountPage(lang, <ReadPane lang={lang} />);
});
