// Which parts of a message are attachments, and which make it untouchable. Read from a part's
// headers alone (mailsplit's MimeNode), plus the cid: references of the HTML seen before it.
import type { MimeNode } from "@zone-eu/mailsplit";
import libmime from "libmime";
import { protectionOf } from "../../protection.js";
import type { CidReferences } from "./html.js";

/** A Content-Type (or Content-Disposition) header's parameters, lower-case keys. */
function params(node: MimeNode, header: string): Record<string, string> {
  const value = node.headers ? node.headers.getFirst(header) : "";
  return value ? libmime.parseHeaderValue(value).params : {};
}

const TNEF = /^application\/(vnd\.)?ms-tnef$/;

/** A TNEF part (Outlook's winmail.dat): by its type, or by its name when sent as octet-stream. */
export function isTnefPart(contentType: string, filename: string): boolean {
  return TNEF.test(contentType.toLowerCase()) || filename.toLowerCase() === "winmail.dat";
}

/** Why this part is S/MIME or PGP/MIME (whose rewriting would break or cannot reach), else null. */
export function signedOrEncrypted(node: MimeNode): string | null {
  const type = node.contentType || "";
  const protocol = type === "multipart/signed" ? (params(node, "content-type").protocol ?? "") : "";
  return protectionOf(type, protocol)?.reason ?? null;
}

/** The part's Content-ID without angle brackets, if it has one. */
export function contentIdOf(node: MimeNode): string | undefined {
  const value = node.headers ? node.headers.getFirst("content-id") : "";
  const id = value.trim().replace(/^<|>$/g, "");
  return id || undefined;
}

/**
 * An attachment: Content-Disposition attachment; a file name on a part that is not text; a
 * forwarded message (message/rfc822); a TNEF winmail.dat — except an image whose Content-ID an
 * HTML part before it references (it is part of how the HTML looks, so it stays).
 */
export function isAttachment(node: MimeNode, references: CidReferences): boolean {
  if (node.multipart) return false;
  const type = node.contentType || "text/plain";
  const id = contentIdOf(node);
  if (type.startsWith("image/") && id && references.has(id)) return false;
  if (node.disposition === "attachment") return true;
  if (type === "message/rfc822" || TNEF.test(type)) return true;
  return Boolean(node.filename) && !type.startsWith("text/");
}

/** The name to show for an attachment: its own, else one made from its type. */
export function attachmentName(node: MimeNode, index: number): string {
  if (node.filename) return node.filename;
  const type = node.contentType || "application/octet-stream";
  if (type === "message/rfc822") return `message-${index + 1}.eml`;
  if (TNEF.test(type)) return "winmail.dat";
  return `attachment-${index + 1}.${libmime.detectExtension(type) || "bin"}`;
}

/** The size the sender declared (Content-Disposition size=, RFC 2183), if it is a number. */
export function declaredSizeOf(node: MimeNode): number | undefined {
  const size = params(node, "content-disposition").size;
  return size && /^\d{1,15}$/.test(size) ? Number(size) : undefined;
}
