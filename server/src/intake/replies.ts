// smtp-server adds an enhanced status code chosen from the reply code alone (550 → 5.1.1), which is
// wrong for policy refusals (RFC 6409 wants 550 5.7.1). Replies whose text already starts with an
// enhanced code are sent as they are; everything else keeps the library's choice.
import { SMTPConnection } from "smtp-server/lib/smtp-connection.js";

const ENHANCED = /^[245]\.\d{1,3}\.\d{1,3} /;

type Send = (code: number, data?: string | string[], context?: string | false) => void;
const proto = SMTPConnection.prototype as unknown as { send: Send; sendgardPatched?: boolean };

if (!proto.sendgardPatched) {
  const original = proto.send;
  proto.send = function (this: unknown, code, data, context) {
    original.call(this, code, data, typeof data === "string" && ENHANCED.test(data) ? false : context);
  };
  proto.sendgardPatched = true;
}

/** An error smtp-server turns into the reply "CODE ENHANCED text". */
export function smtpError(code: number, enhanced: string, text: string): Error & { responseCode: number } {
  return Object.assign(new Error(`${enhanced} ${text}`), { responseCode: code });
}
