// The confirm window: asks the background for the model of its request, shows the dialog, answers.
import { useEffect, useState } from "react";
import type { ConfirmMessage, ConfirmView } from "../send-guard.js";
import { ConfirmDialog } from "./ConfirmDialog.js";
import { mountPage } from "../page.js";

/** performance.marks of the dialog's first frame and of its last rows (bench/tb-confirm.ts reads them). */
const SHOWN_MARK = "sendguard:confirm-shown";
const COMPLETE_MARK = "sendguard:confirm-complete";
const markComplete = () => requestAnimationFrame(() => performance.mark(COMPLETE_MARK));
const request = new URLSearchParams(location.search).get("request") ?? "";
const send = (message: ConfirmMessage) => browser.runtime.sendMessage(message) as Promise<ConfirmView | null>;

function App() {
  const [view, setView] = useState<ConfirmView | null>(null);
  useEffect(() => {
    void send({ type: "sendguard:get", request }).then(setView);
    // Keeps the MV3 background awake while the user reads (it is suspended when idle).
    const timer = setInterval(() => void send({ type: "sendguard:ping", request }), 10_000);
    return () => clearInterval(timer);
  }, []);
  const shown = view !== null;
  useEffect(() => {
    // Marks the first frame with the dialog: benchmarks and support measure Send → dialog from it.
    if (shown) requestAnimationFrame(() => performance.mark(SHOWN_MARK));
  }, [shown]);
  if (!view) return null;
  const answer = async (action: "send" | "cancel") => {
    await send({ type: "sendguard:answer", request, answer: { action } });
    window.close();
  };
  return (
    <ConfirmDialog
      model={view.model}
      lang={view.lang}
      onSend={() => void answer("send")}
      onCancel={() => void answer("cancel")}
      onComplete={markComplete}
      onConvertBcc={() => void send({ type: "sendguard:convertBcc", request }).then((v) => v && setView(v))}
    />
  );
}

mountPage(navigator.language.startsWith("ja") ? "ja" : "en", <App />);
