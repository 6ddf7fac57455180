// The JSON form of POST /messages, validated and composed to MIME by nodemailer's MailComposer.
import type { JsonMessage } from "@sendguard/shared";
import addressparser from "nodemailer/lib/addressparser";
import MailComposer from "nodemailer/lib/mail-composer";
import type { Readable } from "node:stream";
import { z } from "zod";

const addressList = z.union([z.string().max(10_000), z.array(z.string().max(512)).max(1000)]);
const base64 = /^[A-Za-z0-9+/\r\n]*={0,2}\s*$/;

export const jsonMessageSchema = z.strictObject({
  from: z.string().max(512).optional(),
  to: addressList.optional(),
  cc: addressList.optional(),
  bcc: addressList.optional(),
  subject: z.string().max(2000).optional(),
  text: z.string().optional(),
  html: z.string().optional(),
  inReplyTo: z.string().max(1000).optional(),
  references: z.union([z.string().max(10_000), z.array(z.string().max(1000)).max(200)]).optional(),
  attachments: z
    .array(
      z.strictObject({
        filename: z.string().min(1).max(255),
        contentType: z.string().max(255).optional(),
        content: z.string().regex(base64, "expected base64"),
        cid: z.string().min(1).max(255).optional(),
      }),
    )
    .max(100)
    .optional(),
});

export function describeJsonProblem(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid message";
  const where = issue.path.join(".") || "(body)";
  return issue.code === "unrecognized_keys"
    ? `${where}: unknown field ${issue.keys.join(", ")}`
    : `${where}: ${issue.message}`;
}

/** MailComposer copies a text's own line endings into 7bit bodies; MIME wants CRLF everywhere. */
function crlf(text: string): string {
  return text.replace(/\r\n|\r|\n/g, "\r\n");
}

/** Composes the message with `from` as its From header, which intake then checks like any other. */
export function composeJson(message: JsonMessage, from: string): Readable {
  const mail = new MailComposer({
    from,
    to: message.to,
    cc: message.cc,
    bcc: message.bcc,
    subject: message.subject ?? "",
    text: message.text === undefined ? undefined : crlf(message.text),
    html: message.html === undefined ? undefined : crlf(message.html),
    inReplyTo: message.inReplyTo,
    references: message.references,
    attachments: message.attachments?.map((a) => ({
      filename: a.filename,
      contentType: a.contentType,
      content: a.content,
      encoding: "base64",
      // Without a Content-ID it is a file to save, a message/rfc822 one too (MailComposer would show that inline).
      ...(a.cid ? { cid: a.cid } : { contentDisposition: "attachment" as const }),
    })),
  });
  return mail.compile().createReadStream();
}

/** Envelope recipients from To, Cc and Bcc ("Name <a@b>, c@d" or a list of such). */
export function envelopeRecipients(message: JsonMessage): string[] {
  const fields = [message.to, message.cc, message.bcc].flatMap((v) =>
    v === undefined ? [] : Array.isArray(v) ? v : [v],
  );
  return fields.flatMap((f) => addressparser(f, { flatten: true }).map((a) => a.address)).filter(Boolean);
}
