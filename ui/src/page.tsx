// Every add-in page (Thunderbird's confirm window, held-messages list and options; Outlook's task panes) mounts
// the same way.
import {
  createDOMRenderer,
  FluentProvider,
  RendererProvider,
  webLightTheme,
} from "@fluentui/react-components";
import type { Language } from "@sendguard/shared";
import { StrictMode, type ReactNode } from "react";
import { createRoot, type Root } from "react-dom/client";

/**
 * Renders `page` into `doc`'s #root. `doc` may belong to another window than the script's own
 * (the background renders the confirm dialog into the confirm window): Fluent's styles, focus
 * handling and portals then go to that document, not to the script's.
 */
export function mountPage(lang: Language, page: ReactNode, doc: Document = document): Root {
  doc.documentElement.lang = lang;
  const root = createRoot(doc.getElementById("root") as HTMLElement);
  root.render(
    <StrictMode>
      <RendererProvider renderer={createDOMRenderer(doc)} targetDocument={doc}>
        <FluentProvider theme={webLightTheme} targetDocument={doc}>
          {page}
        </FluentProvider>
      </RendererProvider>
    </StrictMode>,
  );
  return root;
}
