// The compose task pane's page script (dist/taskpane.js): once Office is ready, the pane for the
// item being composed.
import { FALLBACK_CLIENT_POLICY } from "@sendguard/shared";
import { mountPage } from "@sendguard/ui";
import type { ComposeItem } from "../../handler/host.js";
import { language } from "../../handler/language.js";
import { PolicyLoader } from "../../handler/policy.js";
import { ComposePane } from "./ComposePane.js";

void Office.onReady(() => {
  const lang = language(FALLBACK_CLIENT_POLICY.language);
  // The pane asks the gateway each time it opens: a user who opens it wants the policy of now.
  const policies = new PolicyLoader({ timeoutMs: 3000, freshMs: 0 });
  mountPage(
    lang,
    <ComposePane
      item={Office.context.mailbox.item as ComposeItem}
      policies={policies}
      roaming={Office.context.roamingSettings}
      pageUrl={location.href}
      lang={lang}
    />,
  );
});
