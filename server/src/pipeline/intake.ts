// One intake pipeline behind SMTP and HTTP: inspect and spool the stream → parse the header →
// plan the delivery → commit durably (spool file, its directory entry and the rows, all fsynced) →
// only then acknowledge. Anything refused leaves nothing behind.
import { addressProblem, type GroupView, type Language, type SubmitResponse } from "@sendguard/shared";
import type { Config } from "../config/schema.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";
import { newId } from "../secrets.js";
import { GroupCommit } from "../store/group-commit.js";
import type { Spool } from "../store/spool.js";
import type { NewMessage, Store, UserRecord } from "../store/types.js";
import { IntakeError } from "./errors.js";
import { HeaderError, parseHeaderBlock, summarize } from "./headers.js";
import { MessageInspector, type LineEndings } from "./inspect.js";
import { planDelivery } from "./plan.js";

export interface IntakeRequest {
  source: "smtp" | "http";
  stream: AsyncIterable<Buffer>;
  /** Envelope sender, already authorised by the caller. */
  mailFrom: string;
  /** Envelope recipients; null takes them from To, Cc and Bcc (HTTP raw upload). */
  rcptTo: string[] | null;
  /** The authenticated user, or the user the sender address belongs to (trusted network). */
  user: UserRecord | null;
  remoteAddress: string;
  lineEndings: LineEndings;
}

export interface IntakeDeps {
  config: Config;
  store: Store;
  spool: Spool;
  metrics: Metrics;
  log: Logger;
  /** Called after every commit so the scheduler looks at the new due times. */
  onStored: () => void;
}

export function spoolName(id: string): string {
  return `${id}.eml`;
}

export class Intake {
  private readonly commits: GroupCommit<NewMessage>;

  constructor(private readonly deps: IntakeDeps) {
    this.commits = new GroupCommit(async (batch) => {
      await deps.spool.syncDir();
      await deps.store.insertMessages(batch);
    });
  }

  async submit(req: IntakeRequest): Promise<SubmitResponse> {
    const { config, spool, metrics, log } = this.deps;
    const id = newId();
    const name = spoolName(id);
    const inspector = new MessageInspector({
      maxBytes: config.smtp.maxMessageBytes,
      maxHeaderBytes: config.smtp.maxHeaderBytes,
      lineEndings: req.lineEndings,
    });
    let size: number;
    try {
      size = await spool.write(name, req.stream, inspector);
    } catch (err) {
      metrics.rejected.inc({ source: req.source, code: "storage" });
      log.error({ msg_id: id, err }, "spooling failed");
      throw new IntakeError("storage", "the message could not be written to the spool");
    }
    const started = performance.now();
    try {
      const record = this.prepare(id, size, inspector, req);
      await this.commits.add(record).catch((err: unknown) => {
        log.error({ msg_id: id, err }, "commit failed");
        throw new IntakeError("storage", "the message could not be committed");
      });
      this.deps.onStored();
      metrics.accepted.inc({ source: req.source });
      if (record.groups.some((g) => g.releaseAt > record.createdAt)) metrics.held.inc();
      metrics.intakeSeconds.observe({ source: req.source }, (performance.now() - started) / 1000);
      log.info(
        {
          msg_id: id,
          message_id: record.messageId,
          sender: req.mailFrom,
          rcpts: record.groups.flatMap((g) => g.recipients).length,
          size,
          source: req.source,
        },
        "accepted",
      );
      const groups: GroupView[] = record.groups.map((g) => ({
        id: g.id,
        name: g.name,
        status: "held",
        releaseAt: new Date(g.releaseAt).toISOString(),
        recipients: g.recipients.map((address) => ({ address, status: "pending" })),
      }));
      return { id, status: "held", releaseAt: groups[0]?.releaseAt ?? new Date().toISOString(), groups };
    } catch (err) {
      await spool.remove(name);
      const code = err instanceof IntakeError ? err.code : "storage";
      metrics.rejected.inc({ source: req.source, code });
      if (err instanceof IntakeError) log.info({ msg_id: id, code, detail: err.detail }, "refused");
      throw err;
    }
  }

  private prepare(id: string, size: number, inspector: MessageInspector, req: IntakeRequest): NewMessage {
    const { config } = this.deps;
    if (inspector.problem) throw new IntakeError(inspector.problem.code, inspector.problem.detail);
    const multipart = inspector.multipartProblem;
    if (multipart) throw new IntakeError("bad_message", multipart);
    let fields;
    try {
      fields = parseHeaderBlock(inspector.header ?? Buffer.alloc(0));
    } catch (err) {
      if (err instanceof HeaderError) throw new IntakeError("bad_message", err.message);
      throw err;
    }
    const headers = summarize(fields);
    if (!headers.from.length)
      throw new IntakeError("bad_message", "the message has no From header with an address");

    const recipients = [...new Set(req.rcptTo ?? [...headers.to, ...headers.cc, ...headers.bcc])];
    if (!recipients.length)
      throw new IntakeError("no_recipients", "no recipients in the envelope or in To/Cc/Bcc");
    if (recipients.length > config.smtp.maxRecipients) {
      throw new IntakeError("too_many_recipients", `more than ${config.smtp.maxRecipients} recipients`);
    }
    for (const address of recipients) {
      const problem = addressProblem(address);
      if (problem) throw new IntakeError("bad_recipient", `recipient ${JSON.stringify(address)}: ${problem}`);
    }

    const now = Date.now();
    const messageId = headers.messageId ?? `${id}@${config.smtp.hostname}`;
    const added: string[] = [];
    if (!headers.messageId) added.push(`Message-ID: <${messageId}>`);
    if (!headers.hasDate) added.push(`Date: ${new Date(now).toUTCString().replace("GMT", "+0000")}`);

    const language: Language = req.user?.language ?? config.organization.language;
    const holdMinutes = req.user?.holdMinutes ?? config.organization.holdMinutes;
    const groups = planDelivery({ now, holdMinutes, recipients }).map((g) => ({ ...g, id: newId() }));
    const held = groups.some((g) => g.releaseAt > now);
    return {
      id,
      messageId,
      userId: req.user?.id ?? null,
      sender: req.mailFrom,
      fromHeader: headers.from[0] as string,
      subject: headers.subject,
      size,
      headerBytes: inspector.header?.length ?? 0,
      addedHeaders: added.map((h) => `${h}\r\n`).join(""),
      language,
      source: req.source,
      createdAt: now,
      groups,
      notices: held ? [{ kind: "hold", messageId: id, recipient: req.mailFrom, language }] : [],
      audit: [
        {
          actor: req.user?.email ?? req.mailFrom,
          action: "accepted",
          messageId: id,
          detail: {
            source: req.source,
            ip: req.remoteAddress,
            size,
            recipients: recipients.length,
            holdMinutes,
          },
        },
      ],
    };
  }
}
