// The confirmation the task pane leaves in item.sessionData before it sends (item.sendAsync fires
// OnMessageSend again): a digest of what was confirmed. The handler lets the send pass only when
// the digest of the item as it is now is the same, so an edit after confirming asks again.
import type { Draft } from "@sendguard/shared";

/** cyrb53: a fast 53-bit string hash. A marker is no secret (the gateway still decides), only a fingerprint. */
function hash53(text: string, seed: number): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/**
 * The digest of the recipients (field and address; order does not matter), the attachments (name
 * and size) and the subject. For the task pane: write it under CONFIRMED_KEY, then send.
 */
export function confirmationDigest(draft: Pick<Draft, "recipients" | "attachments" | "subject">): string {
  const recipients = draft.recipients.map((r) => `${r.field}:${r.address.trim().toLowerCase()}`).sort();
  const attachments = draft.attachments.map((a) => `${a.name}/${a.size}`).sort();
  const canonical = JSON.stringify([draft.subject, recipients, attachments]);
  return `v1-${hash53(canonical, 1).toString(36)}-${hash53(canonical, 2).toString(36)}`;
}
