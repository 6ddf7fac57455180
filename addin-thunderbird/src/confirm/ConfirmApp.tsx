// The confirm window's content: asks the background for the model of its request, shows the
// dialog, answers. Rendered by the background into the window (ui.tsx), so `win` is the confirm
// window and not the global one.
import { useEffect, useState } from "react";
import type { ConfirmMessage, ConfirmView } from "../send-guard.js";
import { ConfirmDialog } from "@sendguard/ui";

/** performance.marks of the dialog's first frame and of its last rows (bench/tb-confirm.ts reads them). */
export const SHOWN_MARK = "sendguard:confirm-shown";
export const COMPLETE_MARK = "sendguard:confirm-complete";

/** How the confirm window reaches the background: a direct call, or runtime messages. */
export type ConfirmChannel = (message: ConfirmMessage) => Promise<ConfirmView | null>;

export interface ConfirmAppProps {
  win: Window;
  request: string;
  channel: ConfirmChannel;
}

export function ConfirmApp({ win, request, channel }: ConfirmAppProps) {
  const [view, setView] = useState<ConfirmView | null>(null);
  useEffect(() => void channel({ type: "sendguard:get", request }).then(setView), [channel, request]);
  const shown = view !== null;
  useEffect(() => {
    // Marks the first frame with the dialog: benchmarks and support measure Send → dialog from it.
    if (shown) win.requestAnimationFrame(() => win.performance.mark(SHOWN_MARK));
  }, [shown, win]);
  if (!view) return null;
  const answer = async (action: "send" | "cancel") => {
    await channel({ type: "sendguard:answer", request, answer: { action } });
    win.close();
  };
  return (
    <ConfirmDialog
      model={view.model}
      lang={view.lang}
      onSend={() => void answer("send")}
      onCancel={() => void answer("cancel")}
      onComplete={() => win.requestAnimationFrame(() => win.performance.mark(COMPLETE_MARK))}
      onConvertBcc={() =>
        void channel({ type: "sendguard:convertBcc", request }).then((v) => v && setView(v))
      }
    />
  );
}
