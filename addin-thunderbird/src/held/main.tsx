// The toolbar popup: the signed-in user's held messages, with undo and send now.
import type { Language } from "@sendguard/shared";
import { HeldMessages, mountPage } from "@sendguard/ui";
import type { BrowserApi } from "../browser-api.js";
import { uiLanguage } from "../language.js";
import { loadSettings } from "../settings.js";

const api = browser as unknown as BrowserApi;
const lang: Language = uiLanguage(api, "en");

mountPage(
  lang,
  <HeldMessages
    lang={lang}
    loadSettings={() => loadSettings(api)}
    onOpenSettings={() => void browser.runtime.openOptionsPage().then(() => window.close())}
  />,
);
