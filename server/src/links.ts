// Capability URLs for the hold page: /hold/ID/SIG where SIG = HMAC(server secret, ID), 256 bits.
// Nothing is stored per link, comparison is constant-time, and a link stops working once the
// message is no longer held (the page then only shows its status).
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { hmac, safeEqual } from "./secrets.js";

export async function loadServerSecret(dataDir: string): Promise<Buffer> {
  const file = join(dataDir, "secret.key");
  try {
    const secret = await readFile(file);
    if (secret.length >= 32) return secret;
  } catch {
    // first start: make one below
  }
  await mkdir(dataDir, { recursive: true });
  const secret = randomBytes(32);
  await writeFile(file, secret, { mode: 0o600 });
  return secret;
}

export class Links {
  constructor(
    readonly publicUrl: string,
    private readonly secret: Buffer,
  ) {}

  holdUrl(messageId: string): string {
    return `${this.publicUrl.replace(/\/$/, "")}/hold/${messageId}/${this.holdSignature(messageId)}`;
  }

  holdSignature(messageId: string): string {
    return hmac(this.secret, `hold:${messageId}`);
  }

  verifyHold(messageId: string, signature: string): boolean {
    return safeEqual(this.holdSignature(messageId), signature);
  }

  /** The approval page of one approver for one message: /approve/ID/APPROVER/SIG. */
  approveUrl(messageId: string, approver: string): string {
    const sig = this.approveSignature(messageId, approver);
    return `${this.publicUrl.replace(/\/$/, "")}/approve/${messageId}/${encodeURIComponent(approver.toLowerCase())}/${sig}`;
  }

  approveSignature(messageId: string, approver: string): string {
    return hmac(this.secret, `approve:${messageId}:${approver.toLowerCase()}`);
  }

  verifyApprove(messageId: string, approver: string, signature: string): boolean {
    return safeEqual(this.approveSignature(messageId, approver), signature);
  }

  /** The CSRF token of the hold page's forms; bound to the message so it is useless elsewhere. */
  holdCsrf(messageId: string): string {
    return hmac(this.secret, `csrf:hold:${messageId}`);
  }

  approveCsrf(messageId: string, approver: string): string {
    return hmac(this.secret, `csrf:approve:${messageId}:${approver.toLowerCase()}`);
  }

  /** The CSRF token of a download link's forms (downloads are per link, not per message). */
  downloadCsrf(linkId: string): string {
    return hmac(this.secret, `csrf:download:${linkId}`);
  }

  /**
   * A download session after the right password or code: "EXPIRES.SIG", SIG = HMAC over the link
   * and the expiry. Nothing is stored; a stopped or expired link ends its sessions, as every
   * request checks the link itself.
   */
  downloadSession(linkId: string, expiresAt: number): string {
    return `${expiresAt}.${hmac(this.secret, `download-session:${linkId}:${expiresAt}`)}`;
  }

  verifyDownloadSession(linkId: string, session: string, now: number): boolean {
    const expiresAt = Number(/^(\d{1,15})\./.exec(session)?.[1]);
    return expiresAt > now && safeEqual(this.downloadSession(linkId, expiresAt), session);
  }
}
