// Builders for test messages and small shared checks.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { waitFor, type TestGateway } from "./gateway.js";
import type { SmtpSink, SunkMessage } from "./sink.js";

let counter = 0;

export function uniqueId(tag = "t"): string {
  counter++;
  return `${tag}.${process.pid}.${Date.now()}.${counter}@client.test`;
}

/** A CRLF message; `extraHeaders` come first, then From/To/Subject/Message-ID/Date. */
export function rawMessage(opts: {
  from: string;
  to: string[];
  subject?: string;
  body?: string;
  messageId?: string;
  extraHeaders?: string[];
}): string {
  const headers = [
    ...(opts.extraHeaders ?? []),
    `From: ${opts.from}`,
    `To: ${opts.to.join(", ")}`,
    `Subject: ${opts.subject ?? "test"}`,
    `Message-ID: <${opts.messageId ?? uniqueId()}>`,
    "Date: Fri, 27 Nov 2026 10:00:00 +0900",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
  ];
  return `${headers.join("\r\n")}\r\n\r\n${opts.body ?? "Hello.\r\n"}`;
}

/**
 * A multipart message with a Japanese text body and one PDF attachment (`pdf`, named 見積書.pdf),
 * as a mail client writes it.
 */
export function messageWithAttachment(opts: {
  from: string;
  to: string[];
  messageId: string;
  pdf: Buffer;
}): string {
  const b = "=_b";
  return [
    `From: ${opts.from}`,
    `To: ${opts.to.join(", ")}`,
    "Subject: =?UTF-8?B?" + Buffer.from("見積書の送付").toString("base64") + "?=",
    `Message-ID: <${opts.messageId}>`,
    "MIME-Version: 1.0",
    `Content-Type: multipart/mixed; boundary="${b}"`,
    "",
    `--${b}`,
    "Content-Type: text/plain; charset=UTF-8",
    "Content-Transfer-Encoding: 8bit",
    "",
    "いつもお世話になっております。見積書を添付します。",
    `--${b}`,
    'Content-Type: application/pdf; name="=?UTF-8?B?' + Buffer.from("見積書.pdf").toString("base64") + '?="',
    "Content-Transfer-Encoding: base64",
    "Content-Disposition: attachment; filename*=UTF-8''%E8%A6%8B%E7%A9%8D%E6%9B%B8.pdf",
    "",
    opts.pdf.toString("base64").replace(/.{76}/g, "$&\r\n"),
    `--${b}--`,
    "",
  ].join("\r\n");
}

/** Files in the spool: a refused message must leave none behind. */
export function spoolFiles(gw: TestGateway): string[] {
  try {
    return readdirSync(join(gw.dataDir, "spool"));
  } catch {
    return [];
  }
}

export async function allMessages(
  gw: TestGateway,
  adminToken: string,
): Promise<{ id: string; messageId: string; status: string; subject: string }[]> {
  const r = await gw.api<{ messages: { id: string; messageId: string; status: string; subject: string }[] }>(
    adminToken,
    "GET",
    "/messages?all=1&limit=500",
  );
  return r.body.messages;
}

/** The decoded text body of a relayed or notice message. */
export async function bodyText(raw: Buffer | string): Promise<string> {
  const { simpleParser } = await import("mailparser");
  return (await simpleParser(raw)).text ?? "";
}

/** The capability link (/hold/… or /approve/…) in a notice, pointed at 127.0.0.1. */
export async function noticeLink(raw: Buffer, kind: "hold" | "approve"): Promise<string> {
  const url = new RegExp(`http://\\S+/${kind}/\\S+`).exec(await bodyText(raw))?.[0];
  if (!url) throw new Error(`no /${kind}/ link in the notice`);
  return url.replace("localhost", "127.0.0.1");
}

/** Submits `raw` over HTTP (POST /api/v1/messages) with the sender's token; returns the gateway's message id. */
export async function submitHttp(gw: TestGateway, token: string, raw: string): Promise<string> {
  const res = await fetch(`${gw.httpUrl}/api/v1/messages`, {
    method: "POST",
    headers: { "content-type": "message/rfc822", authorization: `Bearer ${token}` },
    body: raw,
  });
  const text = await res.text();
  if (res.status !== 202) throw new Error(`submitting: ${res.status} ${text}`);
  return (JSON.parse(text) as { id: string }).id;
}

/**
 * Submits `raw` over SMTP with nodemailer (STARTTLS, AUTH PLAIN as `user`) for the envelope
 * recipients `to`; returns the gateway's message id from its "Queued as" reply.
 */
export async function submitSmtp(
  gw: TestGateway,
  login: { user: string; password: string },
  to: string[],
  raw: string | Buffer,
): Promise<string> {
  const { default: nodemailer } = await import("nodemailer");
  const transport = nodemailer.createTransport({
    host: "127.0.0.1",
    port: gw.ports.smtp,
    requireTLS: true,
    tls: { rejectUnauthorized: false },
    auth: { user: login.user, pass: login.password },
  });
  try {
    const info = await transport.sendMail({ envelope: { from: login.user, to }, raw });
    const id = /Queued as (\S+);/.exec(info.response)?.[1];
    if (!id) throw new Error(`no message id in the reply: ${info.response}`);
    return id;
  } finally {
    transport.close();
  }
}

/** The first `n` copies of a message (by its Message-ID) the sink received; waits up to `ms`. */
export function deliveredCopies(
  sink: SmtpSink,
  messageId: string,
  n: number,
  ms = 20_000,
): Promise<SunkMessage[]> {
  return waitFor(
    () => {
      const found = sink.messages.filter((m) => m.messageId === messageId);
      return found.length >= n ? found : undefined;
    },
    ms,
    `${n} copies of ${messageId}`,
  );
}
