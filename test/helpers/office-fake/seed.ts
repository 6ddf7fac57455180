// What a test seeds the fake Office host with (office.ts), and what the host records.

export interface SeedRecipient {
  emailAddress: string;
  displayName?: string;
  /** "user", "externalUser", "distributionList", "other" (Office.MailboxEnums.RecipientType). */
  recipientType?: string;
}

export interface SeedAttachment {
  /** getAttachmentsAsync's id [att0, att1, …]. */
  id?: string;
  name: string;
  /** Bytes; from the content when left out. */
  size?: number;
  contentType?: string;
  attachmentType?: "file" | "item" | "cloud";
  isInline?: boolean;
  contentId?: string;
  /** What getAttachmentContentAsync gives: base64 for a file, the EML text of an item, a cloud file's URL. */
  content?: string;
}

export interface SeedItem {
  itemType?: "message" | "appointment";
  to?: SeedRecipient[];
  cc?: SeedRecipient[];
  bcc?: SeedRecipient[];
  requiredAttendees?: SeedRecipient[];
  optionalAttendees?: SeedRecipient[];
  subject?: string;
  /** The body as text; `html` when the body is HTML (else one made from the text). */
  body?: string;
  html?: string;
  attachments?: SeedAttachment[];
  sessionData?: Record<string, string>;
  internetHeaders?: Record<string, string>;
  /** Read mode. */
  from?: SeedRecipient;
  itemId?: string;
  internetMessageId?: string;
  dateTimeCreated?: string;
}

export interface OfficeSeed {
  mode: "compose" | "read";
  item: SeedItem;
  /** roamingSettings' content (the sign-in, the policy cache). */
  roaming?: Record<string, unknown>;
  displayLanguage?: string;
  user?: SeedRecipient;
  /** The newest Mailbox requirement set the client has, as its minor version [15]. */
  mailboxMinor?: number;
  /** Host calls by name ("sendAsync", "to.setAsync", …) that fail or never answer. */
  faults?: Record<string, "error" | "hang">;
}

export interface HostCall {
  /** "to.setAsync", "sessionData.setAsync", "roamingSettings.get", "sendAsync", … */
  name: string;
  /** Changes the item, the mailbox's settings, or sends / closes. */
  write: boolean;
  /** The arguments without the callback. */
  args: unknown[];
}
