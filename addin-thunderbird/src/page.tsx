// Every extension page (confirm window, held-messages list, options) mounts the same way.
import { FluentProvider, webLightTheme } from "@fluentui/react-components";
import type { Language } from "@sendguard/shared";
import { StrictMode, type ReactNode } from "react";
import { createRoot } from "react-dom/client";

export function mountPage(lang: Language, page: ReactNode): void {
  document.documentElement.lang = lang;
  createRoot(document.getElementById("root") as HTMLElement).render(
    <StrictMode>
      <FluentProvider theme={webLightTheme}>{page}</FluentProvider>
    </StrictMode>,
  );
}
