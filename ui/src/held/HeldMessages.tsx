// The held-messages list with its behaviour: polls the gateway, ticks the countdowns, undoes and
// sends now. The host only says where the settings come from and how to open its settings page.
import { t, type Language, type MessageSummary } from "@sendguard/shared";
import { useCallback, useEffect, useRef, useState } from "react";
import { GatewayClient, GatewayError, type GatewaySettings } from "../gateway-client.js";
import { HeldList, type Notice } from "./HeldList.js";

const POLL_MS = 5000;

/** Whether the user has to (re)connect in the settings: no settings, or a token the gateway refuses. */
const needsSignIn = (err: unknown) =>
  err instanceof GatewayError && (err.code === "not_signed_in" || err.status === 401);

function errorText(lang: Language, err: unknown): string {
  if (err instanceof GatewayError && err.code === "unreachable")
    return t(lang, "held.ui.unreachable", { detail: err.message });
  return err instanceof Error ? err.message : String(err);
}

export interface HeldMessagesProps {
  lang: Language;
  /** The host's gateway settings, asked when the list opens (pass a stable function). */
  loadSettings: () => Promise<GatewaySettings>;
  onOpenSettings: () => void;
}

export function HeldMessages({ lang, loadSettings, onOpenSettings }: HeldMessagesProps) {
  const [client, setClient] = useState<GatewayClient | null>(null);
  const [messages, setMessages] = useState<MessageSummary[] | null>(null);
  const [now, setNow] = useState(Date.now());
  const [busy, setBusy] = useState<ReadonlySet<string>>(new Set());
  const [notSignedIn, setNotSignedIn] = useState(false);
  const [error, setError] = useState("");
  const [notice, setNotice] = useState<Notice | null>(null);
  // Polls, the zero-countdown refresh and post-action refreshes can overlap: only the newest may land.
  const generation = useRef(0);
  const refreshedWhenDue = useRef(new Set<string>());

  const refresh = useCallback(
    async (c: GatewayClient) => {
      const mine = ++generation.current;
      try {
        const list = await c.held();
        if (mine !== generation.current) return;
        setMessages(list);
        setError("");
      } catch (err) {
        if (mine !== generation.current) return;
        if (needsSignIn(err)) setNotSignedIn(true);
        else setError(errorText(lang, err));
      }
    },
    [lang],
  );

  useEffect(() => {
    void loadSettings().then((settings) => {
      const c = new GatewayClient(settings);
      if (!c.configured) return setNotSignedIn(true);
      setClient(c);
      void refresh(c);
    });
  }, [loadSettings, refresh]);

  useEffect(() => {
    if (!client) return;
    const tick = setInterval(() => setNow(Date.now()), 1000);
    const poll = setInterval(() => void refresh(client), POLL_MS);
    return () => (clearInterval(tick), clearInterval(poll));
  }, [client, refresh]);

  // Once a countdown runs out the gateway sends the message: look again at once rather than at the
  // next poll. Once per message, or a gateway that is a little late would be asked every second.
  useEffect(() => {
    if (!client || !messages) return;
    const due = messages.filter(
      (m) => m.status === "held" && Date.parse(m.releaseAt) <= now && !refreshedWhenDue.current.has(m.id),
    );
    if (due.length === 0) return;
    for (const m of due) refreshedWhenDue.current.add(m.id);
    void refresh(client);
  }, [client, messages, now, refresh]);

  const act = async (m: MessageSummary, action: "discard" | "release") => {
    if (!client) return;
    setBusy((b) => new Set(b).add(m.id));
    try {
      await (action === "discard" ? client.discard(m.id) : client.release(m.id));
      const key = action === "discard" ? "held.ui.undone" : "held.ui.released";
      setNotice({ intent: "success", text: t(lang, key, { subject: m.subject || "—" }) });
    } catch (err) {
      if (needsSignIn(err)) setNotSignedIn(true);
      else if (err instanceof GatewayError && err.status === 409)
        setNotice({ intent: "warning", text: t(lang, "held.ui.tooLate") });
      else setNotice({ intent: "error", text: errorText(lang, err) });
    } finally {
      setBusy((b) => {
        const next = new Set(b);
        next.delete(m.id);
        return next;
      });
    }
    await refresh(client);
  };

  return (
    <HeldList
      lang={lang}
      messages={messages}
      now={now}
      busy={busy}
      notSignedIn={notSignedIn}
      error={error}
      notice={notice}
      onUndo={(m) => void act(m, "discard")}
      onSendNow={(m) => void act(m, "release")}
      onOpenSettings={onOpenSettings}
    />
  );
}
