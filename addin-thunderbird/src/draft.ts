// Thunderbird's compose details → the add-in-neutral Draft that shared/checks understands.
import type { Draft, DraftRecipient, RecipientField } from "@sendguard/shared";
import { htmlToText } from "@sendguard/shared";
import type { BrowserApi, ComposeDetailsLike } from "./browser-api.js";

type RecipientList = ComposeDetailsLike["to"];

/** "Name <addr>" / "addr"; address-book references we cannot resolve count as external unknowns. */
function parseRecipients(list: RecipientList, field: RecipientField): DraftRecipient[] {
  const items = list === undefined ? [] : Array.isArray(list) ? list : [list];
  return items.flatMap((item) => {
    if (typeof item !== "string") return [{ address: `${item.type}:${item.id}`, field }];
    return item
      .split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/)
      .map((part) => part.trim())
      .filter(Boolean)
      .map((part) => {
        const m = /^(.*?)<([^<>]+)>\s*$/.exec(part);
        const name = m?.[1]?.trim().replace(/^"|"$/g, "");
        return { address: (m?.[2] ?? part).trim(), ...(name ? { name } : {}), field };
      });
  });
}

/** What the compose details alone say: everything but the attachments and the replied-to message. */
export function draftFromDetails(details: ComposeDetailsLike): Draft {
  return {
    from: details.from ?? "",
    recipients: [
      ...parseRecipients(details.to, "to"),
      ...parseRecipients(details.cc, "cc"),
      ...parseRecipients(details.bcc, "bcc"),
    ],
    subject: details.subject ?? "",
    body:
      details.isPlainText || details.plainTextBody
        ? (details.plainTextBody ?? "")
        : htmlToText(details.body ?? ""),
    attachments: [],
  };
}

export async function draftFromCompose(
  api: BrowserApi,
  tabId: number,
  details: ComposeDetailsLike,
): Promise<Draft> {
  const replied = async (): Promise<Draft["replyTo"]> => {
    if (details.relatedMessageId === undefined || !/reply|forward/.test(details.type ?? "")) return undefined;
    const original = await api.messages.get(details.relatedMessageId).catch(() => null);
    if (!original) return undefined;
    const all = [original.author, ...original.recipients, ...original.ccList].join(",");
    return { addresses: parseRecipients(all, "to").map((r) => r.address) };
  };
  const [attachments, replyTo] = await Promise.all([
    api.compose.listAttachments(tabId).catch(() => []),
    replied(),
  ]);
  return {
    ...draftFromDetails(details),
    attachments: attachments.map((a) => ({ name: a.name, size: a.size })),
    ...(replyTo ? { replyTo } : {}),
  };
}
