// api mode: the message goes to the gateway over HTTP instead of Thunderbird's SMTP. Thunderbird
// only exposes the MIME of a message being written through a draft, so after the send has been
// cancelled: apply the confirmed changes, save a draft, read it, post it to /api/v1/messages,
// file a copy in Sent, close the compose window and delete the draft. When the gateway does not
// take it, the compose window stays open and the draft is deleted: nothing is half-sent.
import type { SubmitResponse } from "@sendguard/shared";
import type { BrowserApi, ComposeDetailsLike } from "./browser-api.js";
import type { GatewayClient } from "@sendguard/ui";
import { submissionFromDraft } from "./mime-draft.js";

/** Options of handOff; defaults in brackets. */
export interface HandoffOptions {
  /** How long to keep trying to save the draft while Thunderbird winds down the cancelled send [10000 ms]. */
  readyTimeoutMs?: number;
  /** Pause between those attempts [200 ms]. */
  retryMs?: number;
}

export interface HandoffRequest {
  tabId: number;
  identityId: string | undefined;
  /** What the confirmation changed: the confirmation header, and recipients moved to Bcc. */
  changes: ComposeDetailsLike;
}

export type HandoffOutcome =
  { ok: true; accepted: SubmitResponse; sentCopy: boolean } | { ok: false; error: unknown };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function saveDraft(api: BrowserApi, request: HandoffRequest, options: HandoffOptions): Promise<number> {
  const until = Date.now() + (options.readyTimeoutMs ?? 10_000);
  for (;;) {
    try {
      // Until the cancel has gone through, the window is locked and the command disabled.
      await api.compose.setComposeDetails(request.tabId, request.changes);
      const saved = await api.compose.saveMessage(request.tabId, { mode: "draft" });
      const id = saved.messages[0]?.id;
      if (id === undefined) throw new Error("Thunderbird saved no draft");
      return id;
    } catch (err) {
      if (Date.now() > until) throw err;
      await sleep(options.retryMs ?? 200);
    }
  }
}

async function rawBytes(api: BrowserApi, id: number): Promise<Uint8Array> {
  const raw = await api.messages.getRaw(id);
  // MV3 gives a File; a binary string (MV2's default) has one char per byte.
  return typeof raw === "string"
    ? Uint8Array.from(raw, (c) => c.charCodeAt(0))
    : new Uint8Array(await raw.arrayBuffer());
}

/** The identity's Sent folder: the one marked as such, else one named "Sent", else a new one. */
async function sentFolder(api: BrowserApi, identityId: string | undefined): Promise<string> {
  const identity = identityId ? await api.identities.get(identityId) : null;
  if (!identity) throw new Error(`no identity ${identityId ?? "(none)"}`);
  const { accountId } = identity;
  const found =
    (await api.folders.query({ accountId, specialUse: ["sent"] }))[0] ??
    (await api.folders.query({ accountId, name: "Sent" }))[0];
  if (found) return found.id;
  const account = await api.accounts.get(accountId);
  if (!account) throw new Error(`no account ${accountId}`);
  return (await api.folders.create(account.rootFolder.id, "Sent")).id;
}

export async function handOff(
  api: BrowserApi,
  gateway: GatewayClient,
  request: HandoffRequest,
  options: HandoffOptions = {},
): Promise<HandoffOutcome> {
  let draftId: number | null = null;
  const dropDraft = () =>
    draftId === null
      ? undefined
      : api.messages.delete([draftId], { deletePermanently: true }).catch(() => undefined);
  let accepted: SubmitResponse;
  let message: Uint8Array;
  try {
    draftId = await saveDraft(api, request, options);
    message = submissionFromDraft(await rawBytes(api, draftId));
    accepted = await gateway.submit(new Blob([message as BlobPart], { type: "message/rfc822" }));
  } catch (error) {
    await dropDraft();
    return { ok: false, error };
  }
  // The gateway has it (and will send it): from here on, failures only cost the Sent copy.
  let sentCopy = true;
  try {
    const folderId = await sentFolder(api, request.identityId);
    await api.messages.import(
      new File([message as BlobPart], "sent.eml", { type: "message/rfc822" }),
      folderId,
      {
        read: true,
      },
    );
  } catch {
    sentCopy = false;
  }
  await api.tabs.remove(request.tabId).catch(() => undefined);
  await dropDraft();
  return { ok: true, accepted, sentCopy };
}
