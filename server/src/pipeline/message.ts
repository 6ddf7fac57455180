// The one message type of the intake pipeline. As with Haraka's transaction or ZoneMTA's envelope,
// one object goes from intake to commit: each step reads what the steps before it wrote and returns
// the message extended with its own part, and the message's type names the steps it has been through:
//
//   ReceivedMessage  spooled and inspected                     (intake.ts)
//   ParsedMessage    + header summary, sender, recipients      (parse.ts)
//   DecidedMessage   + policy, analysis facts, decision        (rules.ts)
//   PlannedMessage   + groups with release time and transform  (plan.ts)
//                    → the rows committed                      (record.ts)
//
// The attachment transform each group gets (pass, web download, encrypted ZIP) is planned here and
// applied when the group is released (transform/copies.ts), so that an undone message costs nothing.
import type { AttachmentAction, Decision, EffectivePolicy, Language } from "@sendguard/shared";
import type { SpooledBody } from "../store/spool.js";
import type { HeaderRewrite, UserRecord } from "../store/types.js";
import type { MessageFacts } from "./analyze.js";
import type { HeaderSummary } from "./headers.js";
import type { SenderIdentity } from "./identity.js";
import type { LineEndings, MessageInspector } from "./inspect.js";

/** A message as SMTP or HTTP hands it to the pipeline. */
export interface IntakeRequest {
  source: "smtp" | "http";
  stream: AsyncIterable<Buffer>;
  /** Envelope sender, already authorised by the caller. */
  mailFrom: string;
  /** Envelope recipients; null takes them from To, Cc and Bcc (HTTP raw upload). */
  rcptTo: string[] | null;
  /** The authenticated user, or the user the sender address belongs to (trusted network). */
  user: UserRecord | null;
  /**
   * True when `user` signed in (SMTP AUTH, API token or session): From and Sender must then be
   * their own addresses. False for a trusted network, which may use its envelope sender's domain.
   */
  authenticated: boolean;
  remoteAddress: string;
  lineEndings: LineEndings;
}

/** Intake: the data is in the spool (or in memory, when small) and was inspected on the way. */
export interface ReceivedMessage {
  id: string;
  receivedAt: number;
  request: IntakeRequest;
  body: SpooledBody;
  /** What the inspection saw: the header block, size and MIME structure problems. */
  inspection: MessageInspector;
}

/** Parse: the header block read, the sender checked, the recipients settled. */
export interface ParsedMessage extends ReceivedMessage {
  headers: HeaderSummary;
  identity: SenderIdentity;
  /** Envelope recipients, unique and in the form they are stored in (address.ts). */
  recipients: string[];
  messageId: string;
  /** Message-ID and Date fields the gateway adds when the message has none. */
  addedHeaders: string;
  headerBytes: number;
}

/** Rules: the sender's effective policy evaluated. */
export interface DecidedMessage extends ParsedMessage {
  policy: EffectivePolicy;
  /** The language of everything the gateway writes about this message. */
  language: Language;
  /** Who the audit log names: the user, or the envelope sender of a trusted network. */
  actor: string;
  /** The body and attachment analysis, when a rule needed it; null when no rule looks at content. */
  facts: MessageFacts | null;
  decision: Decision;
}

/** One group of recipients released together, with the transform its copy gets. */
export interface PlannedGroup {
  id: string;
  /** The recipient classes in the group, e.g. "internal" or "internal,external". */
  name: string;
  releaseAt: number;
  attachmentAction: AttachmentAction;
  recipients: string[];
}

/** Plan: who gets what when, and who must approve first. */
export interface PlannedMessage extends DecidedMessage {
  groups: PlannedGroup[];
  /** Non-empty: the message waits for one of these to approve it. */
  approvers: string[];
  headerRewrite: HeaderRewrite;
}
