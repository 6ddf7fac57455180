// The parse step: reads the inspected header block, checks that the sender may send as From and
// Sender, and settles the recipients (the envelope's, or To/Cc/Bcc for a raw HTTP upload).
import { recipientProblem, uniqueRecipients } from "../address.js";
import type { Config } from "../config/schema.js";
import { IntakeError } from "./errors.js";
import { HeaderError, parseHeaderBlock, summarize } from "./headers.js";
import { requireIdentity, type Submitter } from "./identity.js";
import type { IntakeRequest, ParsedMessage, ReceivedMessage } from "./message.js";

/** Who handed the message in, for the From/Sender check. */
function submitter(req: IntakeRequest, config: Config): Submitter {
  if (req.authenticated) {
    if (!req.user) throw new Error("an authenticated submission without its user");
    return { kind: "user", email: req.user.email, aliases: req.user.aliases };
  }
  return {
    kind: "trusted_network",
    envelopeSender: req.mailFrom,
    internalDomains: config.organization.internalDomains,
  };
}

/** Throws IntakeError (the client's 5xx) or SenderRefusal for what the message may not be. */
export function parseMessage(message: ReceivedMessage, config: Config): ParsedMessage {
  const { inspection, request } = message;
  if (inspection.problem) throw new IntakeError(inspection.problem.code, inspection.problem.detail);
  const multipart = inspection.multipartProblem;
  if (multipart) throw new IntakeError("bad_message", multipart);
  let fields;
  try {
    fields = parseHeaderBlock(inspection.header ?? Buffer.alloc(0));
  } catch (err) {
    if (err instanceof HeaderError) throw new IntakeError("bad_message", err.message);
    throw err;
  }
  const headers = summarize(fields);
  const identity = requireIdentity(fields, submitter(request, config));

  const submitted = request.rcptTo ?? [...headers.to, ...headers.cc, ...headers.bcc];
  for (const address of submitted) {
    const problem = recipientProblem(address);
    if (problem) throw new IntakeError("bad_recipient", `recipient ${JSON.stringify(address)}: ${problem}`);
  }
  // Stored, matched against the relay's replies and shown in one form (see address.ts).
  const recipients = uniqueRecipients(submitted);
  if (!recipients.length)
    throw new IntakeError("no_recipients", "no recipients in the envelope or in To/Cc/Bcc");
  if (recipients.length > config.smtp.maxRecipients) {
    throw new IntakeError("too_many_recipients", `more than ${config.smtp.maxRecipients} recipients`);
  }
  const messageId = headers.messageId ?? `${message.id}@${config.smtp.hostname}`;
  const added: string[] = [];
  if (!headers.messageId) added.push(`Message-ID: <${messageId}>`);
  if (!headers.hasDate)
    added.push(`Date: ${new Date(message.receivedAt).toUTCString().replace("GMT", "+0000")}`);
  return {
    ...message,
    headers,
    identity,
    recipients,
    messageId,
    addedHeaders: added.map((h) => `${h}\r\n`).join(""),
    headerBytes: inspection.header?.length ?? 0,
  };
}
