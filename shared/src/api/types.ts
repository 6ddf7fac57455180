// Request and response shapes of the HTTP API (/api/v1): one source for the server and the add-ins.

export type Language = "ja" | "en";
export type Role = "user" | "approver" | "admin";

/** Life of one recipient group. `releasing` includes waiting for a retry: it can no longer be discarded. */
export type BatchStatus =
  "pending_approval" | "held" | "releasing" | "sent" | "failed" | "discarded" | "approval_denied";

/** A message's status is the aggregate of its groups, plus the final outcomes decided at intake. */
export type MessageStatus = BatchStatus | "partially_sent" | "rejected";

export interface ApiError {
  error: { code: string; message: string; rule?: string };
}

export interface TokenRequest {
  email: string;
  password: string;
}
export interface TokenResponse {
  token: string;
  /** The token's public id, for GET /tokens and DELETE /tokens/:id. */
  id: string;
  expiresAt: string;
}

/** GET /api/v1/tokens: one of the caller's own tokens or sessions, never its secret. */
export interface TokenView {
  id: string;
  kind: "api" | "session";
  createdAt: string;
  /** To the hour; null when it has not been used. */
  lastUsedAt: string | null;
  expiresAt: string | null;
  /** The token or session of this very request. */
  current: boolean;
}

export interface RecipientView {
  address: string;
  status: "pending" | "sent" | "failed" | "discarded";
  response?: string;
}

export interface BatchView {
  id: string;
  name: string;
  status: BatchStatus;
  releaseAt: string;
  recipients: RecipientView[];
  /** What happens to the attachments of this batch's copies. */
  attachments: {
    /** As planned at intake. */
    action: "pass" | "encrypt_zip" | "web_download";
    /** As made at the first release (empty before): who got which copy, and why. */
    copies: CopyView[];
  };
}

export interface CopyView {
  recipients: string[];
  action: "pass" | "encrypt_zip" | "web_download";
  /** Why a copy is as it came although its batch's action is not pass. */
  unchangedBecause?: "no_attachments" | "tls" | "signed";
  files?: { name: string; size: number }[];
  zip?: { name: string; encryption: "aes256" | "zipcrypto" };
  /** The download centre's package: POST /downloads/:id/stop, GET /downloads/:id/log. */
  downloadId?: string;
  /**
   * The recipient domains' mail servers, when the policy asked (attachments.unlessTls): on a copy
   * that went as it came, why it could; on any other copy, why it could not.
   */
  tls?: (TlsCheck & {
    /** The check in words, in the caller's language (Accept-Language, else the organisation's). */
    summary: string;
  })[];
}

/** What the recipient TLS probe found for one domain, as kept with the copy it decided. */
export interface TlsCheck {
  domain: string;
  tls: "none" | "offered" | "verified";
  /** The mail host that answered. */
  host?: string;
  /** Its certificate's subject, e.g. "CN=mx.example.jp". */
  subject?: string;
  /** Why an offered certificate did not verify (an OpenSSL / Node error code). */
  verifyError?: string;
  /** Present when the domain publishes an MTA-STS policy (or one failed to load). */
  mtaSts?: { mode: "enforce" | "testing" | "none"; mxMatches: boolean; error?: string };
  /** Why the probe learned nothing (DNS, connect, handshake…). */
  error?: string;
  /** When the probe ran (ISO 8601). */
  checkedAt?: string;
}

export interface MessageSummary {
  id: string;
  messageId: string;
  subject: string;
  /** The header From address (checked against the sender at intake). */
  from: string;
  /** The envelope sender (SMTP MAIL FROM; the user's address for HTTP submissions). */
  envelopeSender: string;
  status: MessageStatus;
  releaseAt: string;
  createdAt: string;
  size: number;
}

export interface MessageView extends MessageSummary {
  groups: BatchView[];
  /**
   * False once retention has deleted the body (config retention.bodyDays; the rows stay longer),
   * or when it is missing (bodyMissing).
   */
  bodyKept: boolean;
  /** When the body was deleted (ISO 8601); only when retention deleted it. */
  bodyDeletedAt?: string;
  /**
   * True when the gateway found the stored message (its spool file) gone after it had been
   * accepted, e.g. after a restore from an older backup: the recipients it had not reached yet
   * failed, and the sender got a bounce notice.
   */
  bodyMissing: boolean;
  /** When the gateway found the body missing (ISO 8601); only when bodyMissing is true. */
  bodyMissingAt?: string;
}

export interface SubmitResponse {
  id: string;
  status: MessageStatus;
  releaseAt: string;
  groups: BatchView[];
}

/** JSON form of POST /messages; attachments carry base64 content. */
export interface JsonMessage {
  from?: string;
  to?: string | string[];
  cc?: string | string[];
  bcc?: string | string[];
  subject?: string;
  text?: string;
  html?: string;
  inReplyTo?: string;
  references?: string | string[];
  /** `cid`: an inline image the HTML body shows as <img src="cid:…">. */
  attachments?: { filename: string; contentType?: string; content: string; cid?: string }[];
}

/** A rule's attachment action and the recipients it is about (GET /policy). */
export interface ClientAttachmentRule {
  name: string;
  recipientClass?: ("internal" | "semi_internal" | "external")[];
  recipientDomain?: string[];
  recipientAddress?: string[];
  action: "pass" | "encrypt_zip" | "web_download";
  /** It has other conditions (content, size, time …), decided by the gateway on the message. */
  conditional: boolean;
}

/** GET /api/v1/policy: what the add-ins need of the sender's effective policy. */
export interface ClientPolicy {
  organization: { name: string; timezone: string; language: Language };
  language: Language;
  domains: { internal: string[]; semiInternal: string[] };
  hold: { internal: number; semiInternal: number; external: number };
  delay: { semiInternal: number; external: number };
  /** The longest hold of any recipient class, for "held for N minutes". */
  holdMinutes: number;
  forcedBcc: { threshold: number; to: "sender" | "undisclosed" };
  /** What the gateway does with attachments for recipients outside the organisation (rules may change it). */
  attachmentAction: "pass" | "encrypt_zip" | "web_download";
  /**
   * The rules that choose an attachment action, in the order the gateway applies them (a later one
   * wins), those about other senders left out. Absent from gateways before it: then only
   * attachmentAction is known.
   */
  attachmentRules?: ClientAttachmentRule[];
  /** A copy to a domain whose mail server offers (or verifiably offers) TLS keeps its files. */
  attachmentUnlessTls?: "offered" | "verified" | null;
  /** The Outlook add-in's hand-off (config outlook.handoff); absent from gateways before it: relay. */
  outlook?: { handoff: "relay" | "api" };
  client: {
    confirmExternal: boolean;
    skipWhenInternalOnly: boolean;
    requireTickEachExternal: boolean;
    allowTickAll: boolean;
    bccSuggestThreshold: number;
    attachmentReminderWords: string[];
    warnNewDomainInReply: boolean;
    largeAttachmentBytes: number;
    unsafeDomains: { domain: string; action: "warn" | "confirm" | "block" }[];
    unsafeWords: { word: string; action: "warn" | "confirm" | "block" }[];
    unsafeFileTypes: { extension: string; action: "warn" | "confirm" | "block" }[];
  };
}

export interface ActionResponse {
  id: string;
  status: MessageStatus;
}

/** GET /downloads/:id, and the answer of its stop and extend: a download package as its sender sees it. */
export interface DownloadPackageView {
  id: string;
  /** The gateway's id of the message whose attachments these are. */
  messageId: string;
  createdAt: string;
  expiresAt: string;
  stoppedAt: string | null;
  authMode: "password" | "otp";
  maxDownloads: number | null;
  files: {
    id: string;
    name: string;
    size: number;
    sha256: string;
    stoppedAt: string | null;
    /** Retention deleted the stored file. */
    deleted: boolean;
  }[];
  /** One per recipient; the token itself is never shown again. */
  links: { recipient: string; downloads: number; stoppedAt: string | null; lockedUntil: string | null }[];
}

/** GET /downloads/:id/log: newest first. */
export interface DownloadLogView {
  log: {
    at: string;
    ip: string;
    recipient: string | null;
    fileId: string | null;
    /** The file's name; null for sign-in events and the ZIP of all files. */
    file: string | null;
    outcome: string;
  }[];
}

/** POST /downloads/:id/stop: the whole package, one file, or one recipient's link. */
export interface DownloadStopRequest {
  fileId?: string;
  recipient?: string;
}

/** POST /downloads/:id/extend */
export interface DownloadExtendRequest {
  /** ISO 8601; in the future and within the gateway's maximum. */
  expiresAt: string;
}
