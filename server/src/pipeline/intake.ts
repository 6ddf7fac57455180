// One intake pipeline behind SMTP and HTTP: inspect and spool the stream → parse the header →
// rules → plan the delivery → commit durably (the rows, with a small body's bytes, or after its
// spool file and directory entry; all fsynced) → only then acknowledge. One message object
// (message.ts) passes through the steps. Anything refused leaves nothing behind but an audit entry.
import type { BatchView, SubmitResponse } from "@sendguard/shared";
import type { Config } from "../config/schema.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";
import type { PolicyService } from "../policy/service.js";
import { newId } from "../secrets.js";
import { GroupCommit } from "../store/group-commit.js";
import { spoolName, type Spool, type SpooledBody } from "../store/spool.js";
import type { NewMessage, Store } from "../store/types.js";
import type { Analyzer } from "./analyzer.js";
import { IntakeError, PolicyRejection } from "./errors.js";
import { SenderRefusal } from "./identity.js";
import { MessageInspector } from "./inspect.js";
import type { IntakeRequest, PlannedMessage, ReceivedMessage } from "./message.js";
import { parseMessage } from "./parse.js";
import { planMessage } from "./plan.js";
import { messageRecord, refusalOf, refusalRecord } from "./record.js";
import { decideMessage } from "./rules.js";

export interface IntakeDeps {
  config: Config;
  store: Store;
  spool: Spool;
  policies: PolicyService;
  /** Content analysis for the rules, on this thread or in the analysis threads. */
  analyzer: Analyzer;
  metrics: Metrics;
  log: Logger;
  /** Called after every commit (and queued notice) so the scheduler looks at the new due times. */
  onStored: () => void;
}

/** A message ready to commit, and its body: in memory, or a spool file being fdatasynced. */
interface Commit {
  record: NewMessage;
  body: SpooledBody;
}

export class Intake {
  private readonly commits: GroupCommit<Commit>;

  constructor(private readonly deps: IntakeDeps) {
    // Rows commit only once their files' data is durable; small bodies have no file and commit
    // with their rows (acknowledged by that commit). Each fdatasync began when its message's data
    // was in, and ran while the message went through the rules and waited for this batch: on a
    // busy gateway it is mostly over by now. The directory fsync does not depend on either, so it
    // runs beside them. Only once both are done are the spooled rows marked acknowledged, and only
    // then are the clients answered. A crash before the mark can leave rows whose file is missing:
    // never acknowledged, they are removed at the next start. A row with the mark whose file is
    // missing lost it later (a restore, a cleanup job): the next start keeps and flags it
    // (reconcile.ts).
    this.commits = new GroupCommit(async (batch) => {
      const files = batch.filter((c) => c.body.inline === null);
      const [dir, rows] = await Promise.allSettled([
        files.length ? deps.spool.syncDir() : undefined,
        Promise.all(files.map((c) => c.body.durable)).then(() =>
          deps.store.insertMessages(batch.map((c) => c.record)),
        ),
      ]);
      if (rows.status === "rejected") throw rows.reason;
      // The clients get a 4xx and their files are removed: the rows must not stay behind. Should
      // this delete fail too, the spooled rows stay unmarked, so the next start removes them.
      const forget = async (err: unknown, reason: string): Promise<never> => {
        await deps.store.forgetMessages(
          batch.map((c) => c.record.id),
          reason,
        );
        throw err;
      };
      if (dir.status === "rejected") await forget(dir.reason, "spool directory fsync failed");
      if (files.length) {
        await deps.store
          .markSpoolAcknowledged(files.map((c) => c.record.id))
          .catch((err: unknown) => forget(err, "marking the spool files acknowledged failed"));
      }
    });
  }

  async submit(req: IntakeRequest): Promise<SubmitResponse> {
    const { config, spool, metrics, log } = this.deps;
    const id = newId();
    const name = spoolName(id);
    const inspection = new MessageInspector({
      maxBytes: config.smtp.maxMessageBytes,
      maxHeaderBytes: config.smtp.maxHeaderBytes,
      lineEndings: req.lineEndings,
    });
    let body: SpooledBody;
    try {
      body = await spool.write(name, req.stream, inspection);
    } catch (err) {
      metrics.rejected.inc({ source: req.source, code: "storage" });
      log.error({ msg_id: id, err }, "spooling failed");
      throw new IntakeError("storage", "the message could not be written to the spool");
    }
    const started = performance.now();
    try {
      const planned = await this.plan({ id, receivedAt: Date.now(), request: req, body, inspection });
      const record = messageRecord(planned);
      await this.commits.add({ record, body }).catch((err: unknown) => {
        log.error({ msg_id: id, err }, "commit failed");
        throw new IntakeError("storage", "the message could not be committed");
      });
      this.deps.onStored();
      metrics.accepted.inc({ source: req.source });
      if (record.batches.some((g) => g.releaseAt > record.createdAt)) metrics.held.inc();
      metrics.intakeSeconds.observe({ source: req.source }, (performance.now() - started) / 1000);
      log.info(
        {
          msg_id: id,
          message_id: record.messageId,
          sender: req.mailFrom,
          from: planned.identity.from,
          rcpts: planned.recipients.length,
          size: body.size,
          source: req.source,
          rules: record.matchedRules,
        },
        "accepted",
      );
      return submitResponse(planned);
    } catch (err) {
      if (body.inline === null) await spool.remove(name);
      const code = err instanceof IntakeError ? err.code : "storage";
      metrics.rejected.inc({ source: req.source, code });
      if (err instanceof IntakeError) log.info({ msg_id: id, code, detail: err.detail }, "refused");
      if (err instanceof SenderRefusal) await this.recordSenderRefusal(id, req, err);
      throw err;
    }
  }

  /** parse → rules → plan; a message the rules refuse is recorded as refused and thrown. */
  private async plan(received: ReceivedMessage): Promise<PlannedMessage> {
    const { config, store } = this.deps;
    const parsed = parseMessage(received, config);
    const decided = await decideMessage(parsed, this.deps);
    const planned = await planMessage(decided, store);
    const refusal = refusalOf(planned);
    if (refusal) {
      const { audit, notices } = refusalRecord(planned, refusal);
      await store.recordRejection(audit, notices);
      this.deps.onStored(); // the reject notice is queued
      throw new PolicyRejection(refusal.rule, refusal.reason);
    }
    return planned;
  }

  /**
   * Sending as someone else is worth an admin's attention: the refusal is audited (no notice, the
   * client has its 550 / 422). If the audit write fails, the client still gets the refusal.
   */
  private async recordSenderRefusal(id: string, req: IntakeRequest, err: SenderRefusal): Promise<void> {
    await this.deps.store
      .audit([
        {
          actor: req.user?.email ?? req.mailFrom,
          action: "sender_refused",
          messageId: id,
          detail: {
            source: req.source,
            ip: req.remoteAddress,
            envelopeSender: req.mailFrom,
            authenticated: req.authenticated,
            problem: err.problem,
          },
        },
      ])
      .catch((auditErr: unknown) =>
        this.deps.log.error({ msg_id: id, err: auditErr }, "audit of a sender refusal failed"),
      );
  }
}

/** What the client is told about an accepted message. */
function submitResponse(message: PlannedMessage): SubmitResponse {
  const status = message.approvers.length ? "pending_approval" : "held";
  const groups: BatchView[] = message.groups.map((g) => ({
    id: g.id,
    name: g.name,
    status,
    releaseAt: new Date(g.releaseAt).toISOString(),
    recipients: g.recipients.map((address) => ({ address, status: "pending" })),
    attachments: { action: g.attachmentAction, copies: [] },
  }));
  const releaseAt = Math.min(...message.groups.map((g) => g.releaseAt));
  return { id: message.id, status, releaseAt: new Date(releaseAt).toISOString(), groups };
}
