// S/MIME and PGP/MIME: a signed or encrypted message cannot be rewritten (a signature would break,
// encrypted content cannot be reached), so its attachments go as they are or the policy refuses it.
import type { Decision, EffectivePolicy } from "@sendguard/shared";

const SIGNATURE_PROTOCOL = /^application\/(x-)?pkcs7-(signature|mime)$|^application\/pgp-/i;
const PKCS7_BODY = /^application\/(x-)?pkcs7-mime$/i;
/** The signature part of a multipart/signed message: not an attachment anyone sent. */
const SIGNATURE_PART = /^application\/((x-)?pkcs7-signature|pgp-signature)$/i;

/**
 * Why a part with this Content-Type (lower-case type/subtype, and its protocol parameter) is S/MIME
 * or PGP/MIME, or null. `opaque`: its content cannot be read at all (encrypted).
 */
export function protectionOf(type: string, protocol = ""): { reason: string; opaque: boolean } | null {
  const lower = type.toLowerCase();
  if (PKCS7_BODY.test(lower)) return { reason: `${lower} (S/MIME)`, opaque: true };
  if (lower === "multipart/encrypted") return { reason: "multipart/encrypted (PGP/MIME)", opaque: true };
  if (lower === "multipart/signed" && SIGNATURE_PROTOCOL.test(protocol)) {
    return { reason: `multipart/signed with protocol ${protocol}`, opaque: false };
  }
  return null;
}

export function isSignaturePart(contentType: string): boolean {
  return SIGNATURE_PART.test(contentType);
}

/** The name the audit, the API and the sender's notice give the policy setting that decided. */
export const SIGNED_MESSAGES_SETTING = "attachments.signedMessages";

const SIGNED_REJECT_REASON = {
  ja:
    "署名または暗号化されたメール (S/MIME・PGP) の添付ファイルは Web ダウンロードや暗号化 ZIP に変換できないため、送信できません。" +
    "添付ファイルを外すか、署名・暗号化をせずに送り直してください。",
  en:
    "Signed or encrypted mail (S/MIME, PGP) cannot have its attachments converted to a web download or an encrypted ZIP, " +
    "so it was not sent. Remove the attachments, or send it again without signing or encrypting it.",
};

/**
 * The decision for a signed or encrypted message some of whose copies were to be rewritten. With
 * nothing to convert (no attachment but the signature) every copy goes as it is; otherwise the
 * policy passes it as it is, sends it for approval as it is, or refuses it now rather than bounce
 * it at release. Encrypted content cannot be looked into, so it counts as holding attachments.
 */
export function protectedDecision(
  decision: Decision,
  policy: EffectivePolicy,
  protection: { opaque: boolean },
  attachments: readonly { contentType: string }[],
): Decision {
  const converted = decision.recipients.some((r) => r.attachmentAction !== "pass");
  if (!converted || decision.reject) return decision;
  const asTheyAre = decision.recipients.map((r) => ({ ...r, attachmentAction: "pass" as const }));
  const hasAttachments = protection.opaque || attachments.some((a) => !isSignaturePart(a.contentType));
  if (!hasAttachments) return { ...decision, recipients: asTheyAre };
  const matched = [...decision.matched, SIGNED_MESSAGES_SETTING];
  switch (policy.attachments.signedMessages) {
    case "pass":
      return { ...decision, recipients: asTheyAre };
    case "approval": {
      const approval = decision.approval ?? { rules: [], approvers: [] };
      return {
        ...decision,
        matched,
        recipients: asTheyAre,
        approval: { ...approval, rules: [...approval.rules, SIGNED_MESSAGES_SETTING] },
      };
    }
    case "reject":
      return {
        ...decision,
        matched,
        reject: { rule: SIGNED_MESSAGES_SETTING, reason: SIGNED_REJECT_REASON },
      };
  }
}
