// One intake pipeline behind SMTP and HTTP: inspect and spool the stream → parse the header →
// rules → plan the delivery → commit durably (the rows, with a small body's bytes, or after its
// spool file and directory entry; all fsynced) → only then acknowledge. Anything refused leaves
// nothing behind but an audit entry.
import {
  type BatchStatus,
  type BatchView,
  type Language,
  type Localized,
  type SubmitResponse,
} from "@sendguard/shared";
import { recipientProblem, uniqueRecipients } from "../address.js";
import type { Config } from "../config/schema.js";
import { bounceNotices } from "../delivery/scheduler.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";
import type { PolicyService } from "../policy/service.js";
import { newId } from "../secrets.js";
import { GroupCommit } from "../store/group-commit.js";
import { spoolName, type Spool, type SpooledBody } from "../store/spool.js";
import type {
  MessageRecord,
  MissingBody,
  NewMessage,
  NewNotice,
  RecipientResult,
  Store,
  UserRecord,
} from "../store/types.js";
import type { Analyzer } from "./analyzer.js";
import { IntakeError, PolicyRejection } from "./errors.js";
import { HeaderError, parseHeaderBlock, summarize, type HeaderSummary } from "./headers.js";
import { requireIdentity, SenderRefusal, type SenderIdentity, type Submitter } from "./identity.js";
import { MessageInspector, type LineEndings } from "./inspect.js";
import { approversFor, headerRewrite, planBatches } from "./plan.js";
import { applyRules } from "./rules.js";

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

/** Batches with something left to deliver or decide. */
const UNFINISHED_BATCH: readonly BatchStatus[] = ["pending_approval", "held", "releasing"];

/** Why the recipients of an acknowledged message whose spool file is gone failed; the sender reads it. */
export const BODY_LOST = "body lost: spool file missing after acknowledgement";

/** What the start-up check of the spool did. */
export interface SpoolCheck {
  /** Never acknowledged, file missing: removed. */
  forgotten: string[];
  /** Acknowledged, then lost: kept and flagged, what was left to deliver failed. */
  bodyMissing: string[];
  /** Never acknowledged, file there: kept, and marked acknowledged from now on. */
  adopted: string[];
}

export interface ReconcileOptions {
  /**
   * Go on when the spool holds none of the acknowledged messages' files (default false: refuse to
   * start): they are then failed and their senders notified, as for files lost one by one.
   */
  acceptMissingSpool?: boolean;
}

/** The spool holds none of the files of the messages it acknowledged: the gateway does not start. */
export class SpoolMissingError extends Error {
  constructor(dir: string, count: number) {
    super(
      `the spool directory ${dir} holds none of the files of the ${count} acknowledged messages still to deliver: ` +
        `is it mounted, or restored from the wrong backup? Nothing was changed. Put the files back and start again, ` +
        `or start with --accept-missing-spool to fail those messages and notify their senders.`,
    );
  }
}

/** Messages read and written per step at start, so a large loss stays within SQLite's bound variables. */
const RECONCILE_CHUNK = 500;

function chunks<T>(items: T[]): T[][] {
  return Array.from({ length: Math.ceil(items.length / RECONCILE_CHUNK) }, (_, i) =>
    items.slice(i * RECONCILE_CHUNK, (i + 1) * RECONCILE_CHUNK),
  );
}

/**
 * At start: messages still to deliver whose spool file is missing. Those without the acknowledged
 * marker were committed while their directory entry was not yet durable (see Intake's group
 * commit): never acknowledged, they are removed, as if they had never arrived. Those with it lost
 * their file afterwards (a restore from an older backup, a cleanup job): acknowledged mail is never
 * dropped silently, so they stay, flagged (bodyMissing in the API), with their undelivered
 * recipients failed, a bounce notice to the sender and an audit entry each. Failing them at once
 * rather than leaving them to the retries is deliberate: no retry can bring the file back, and the
 * sender learns now, not days later, that the message must be sent again.
 *
 * A message without the marker whose file is there (the stop came between its row commit and the
 * mark) is kept and delivered, as before; its sender may see it in the portal. Its directory entry
 * is made durable and it is marked now, so that a file lost later counts as lost, not as never
 * acknowledged (its data was durable before its rows were written).
 */
export async function reconcileSpool(
  store: Store,
  spool: Spool,
  log: Logger,
  options: ReconcileOptions = {},
): Promise<SpoolCheck> {
  const files = new Set(await spool.list());
  const unfinished = await store.unfinishedSpooled();
  const ids = (acknowledged: boolean, present: boolean) =>
    unfinished
      .filter((m) => m.acknowledged === acknowledged && files.has(spoolName(m.id)) === present)
      .map((m) => m.id);
  const forgotten = ids(false, false);
  const bodyMissing = ids(true, false);
  const adopted = ids(false, true);
  // Not one acknowledged file left looks like a spool that is not there (an unmounted volume, a
  // wrong path, an empty restore) rather than files lost one by one: failing all that mail would
  // bounce it for good, so nothing is changed until an operator says so.
  const acknowledged = unfinished.filter((m) => m.acknowledged).length;
  if (bodyMissing.length && bodyMissing.length === acknowledged && !options.acceptMissingSpool) {
    throw new SpoolMissingError(spool.dir, bodyMissing.length);
  }
  if (forgotten.length) {
    await store.forgetMessages(forgotten, "spool file missing after a restart: never acknowledged");
    log.warn(
      { msg_ids: forgotten.slice(0, 100), count: forgotten.length },
      "removed messages without a spool file",
    );
  }
  if (bodyMissing.length) {
    for (const chunk of chunks(bodyMissing)) {
      const messages = await store.messages(chunk);
      await store.markBodiesMissing(messages.map(missingBody), BODY_LOST, Date.now());
    }
    log.error(
      { msg_ids: bodyMissing.slice(0, 100), count: bodyMissing.length },
      "acknowledged messages whose spool file is missing: kept and flagged, their undelivered recipients failed and their senders notified",
    );
  }
  if (adopted.length) {
    await spool.syncDir();
    for (const chunk of chunks(adopted)) await store.markSpoolAcknowledged(chunk);
  }
  log.info(
    {
      event: "spool_checked",
      spooled: unfinished.length,
      forgotten: forgotten.length,
      body_missing: bodyMissing.length,
      adopted: adopted.length,
    },
    "spool checked",
  );
  return { forgotten, bodyMissing, adopted };
}

/** The bounce and the audit entry of a message whose body is lost, for the recipients still pending. */
function missingBody(message: MessageRecord): MissingBody {
  const open = message.batches.filter((g) => UNFINISHED_BATCH.includes(g.status));
  const failed = open.flatMap((g) =>
    g.recipients
      .filter((r) => r.status === "pending")
      .map((r): RecipientResult => ({ address: r.address, outcome: "failed", response: BODY_LOST })),
  );
  return {
    messageId: message.id,
    notices: bounceNotices(message, failed),
    audit: [
      {
        actor: "system",
        action: "body_missing",
        messageId: message.id,
        detail: {
          reason: BODY_LOST,
          spoolFile: spoolName(message.id),
          groups: open.map((g) => g.name),
          failed: failed.map((f) => f.address),
        },
      },
    ],
  };
}

function bothLanguages(text: Localized): { ja: string; en: string } {
  return typeof text === "string" ? { ja: text, en: text } : text;
}

interface Parsed {
  headers: HeaderSummary;
  identity: SenderIdentity;
  recipients: string[];
  messageId: string;
  addedHeaders: string;
  headerBytes: number;
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
    // (reconcileSpool).
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
    const inspector = new MessageInspector({
      maxBytes: config.smtp.maxMessageBytes,
      maxHeaderBytes: config.smtp.maxHeaderBytes,
      lineEndings: req.lineEndings,
    });
    let body: SpooledBody;
    try {
      body = await spool.write(name, req.stream, inspector);
    } catch (err) {
      metrics.rejected.inc({ source: req.source, code: "storage" });
      log.error({ msg_id: id, err }, "spooling failed");
      throw new IntakeError("storage", "the message could not be written to the spool");
    }
    const started = performance.now();
    try {
      const parsed = this.parse(id, inspector, req);
      const record = await this.decide(id, body, parsed, req);
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
          from: parsed.identity.from,
          rcpts: parsed.recipients.length,
          size: body.size,
          source: req.source,
          rules: record.matchedRules,
        },
        "accepted",
      );
      const status = record.approvers.length ? "pending_approval" : "held";
      const groups: BatchView[] = record.batches.map((g) => ({
        id: g.id,
        name: g.name,
        status,
        releaseAt: new Date(g.releaseAt).toISOString(),
        recipients: g.recipients.map((address) => ({ address, status: "pending" })),
        attachments: { action: g.attachmentAction, copies: [] },
      }));
      const releaseAt = Math.min(...record.batches.map((g) => g.releaseAt));
      return { id, status, releaseAt: new Date(releaseAt).toISOString(), groups };
    } catch (err) {
      if (body.inline === null) await spool.remove(name);
      const code = err instanceof IntakeError ? err.code : "storage";
      metrics.rejected.inc({ source: req.source, code });
      if (err instanceof IntakeError) log.info({ msg_id: id, code, detail: err.detail }, "refused");
      if (err instanceof SenderRefusal) await this.recordSenderRefusal(id, req, err);
      throw err;
    }
  }

  /** Who handed the message in, for the From/Sender check. */
  private submitter(req: IntakeRequest): Submitter {
    if (req.authenticated) {
      if (!req.user) throw new Error("an authenticated submission without its user");
      return { kind: "user", email: req.user.email, aliases: req.user.aliases };
    }
    return {
      kind: "trusted_network",
      envelopeSender: req.mailFrom,
      internalDomains: this.deps.config.organization.internalDomains,
    };
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

  private parse(id: string, inspector: MessageInspector, req: IntakeRequest): Parsed {
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
    const identity = requireIdentity(fields, this.submitter(req));

    const submitted = req.rcptTo ?? [...headers.to, ...headers.cc, ...headers.bcc];
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
    const messageId = headers.messageId ?? `${id}@${config.smtp.hostname}`;
    const added: string[] = [];
    if (!headers.messageId) added.push(`Message-ID: <${messageId}>`);
    if (!headers.hasDate) added.push(`Date: ${new Date().toUTCString().replace("GMT", "+0000")}`);
    return {
      headers,
      identity,
      recipients,
      messageId,
      addedHeaders: added.map((h) => `${h}\r\n`).join(""),
      headerBytes: inspector.header?.length ?? 0,
    };
  }

  private async decide(
    id: string,
    body: SpooledBody,
    parsed: Parsed,
    req: IntakeRequest,
  ): Promise<NewMessage> {
    const { config, store, spool, policies, analyzer } = this.deps;
    const now = Date.now();
    const { size, inline } = body;
    const user = req.user;
    const language: Language = user?.language ?? config.organization.language;
    const actor = user?.email ?? req.mailFrom;
    const { policy } = await policies.effectiveFor(user, req.mailFrom);
    const { decision } = await applyRules({
      policy,
      sender: req.mailFrom,
      senderGroups: user?.groups ?? [],
      headers: parsed.headers,
      envelope: parsed.recipients,
      size,
      now: new Date(now),
      timeZone: config.organization.timezone,
      analyze: () =>
        analyzer.analyze(id, inline ? { bytes: inline } : { file: spool.path(spoolName(id)) }, size),
    });

    let approvers = approversFor(policy, decision, user, req.mailFrom);
    if (decision.approval && !approvers.length) {
      approvers = (await store.listUsers())
        .filter((u) => u.role === "admin" && u.email !== actor)
        .map((u) => u.email);
    }
    if (decision.reject || (decision.approval && !approvers.length)) {
      const rule = decision.reject?.rule ?? decision.approval?.rules[0] ?? "approval";
      const reason = decision.reject
        ? bothLanguages(decision.reject.reason)
        : {
            ja: "承認者が設定されていないため送信できません。",
            en: "Approval is required but no approver is configured.",
          };
      await this.recordRejection(id, parsed, req, language, actor, rule, reason, decision.matched);
      this.deps.onStored(); // the reject notice is queued
      throw new PolicyRejection(rule, reason);
    }

    const batches = planBatches(policy, decision, now).map((g) => ({ ...g, id: newId() }));
    const held = batches.some((g) => g.releaseAt > now);
    const notices: NewNotice[] = approvers.length
      ? approvers.map((approver) => ({
          kind: "approval_request",
          messageId: id,
          recipient: approver,
          language,
        }))
      : held
        ? [{ kind: "hold", messageId: id, recipient: req.mailFrom, language }]
        : [];
    return {
      id,
      messageId: parsed.messageId,
      userId: user?.id ?? null,
      sender: req.mailFrom,
      fromHeader: parsed.identity.from,
      subject: parsed.headers.subject,
      size,
      body: inline,
      headerBytes: parsed.headerBytes,
      addedHeaders: parsed.addedHeaders,
      language,
      source: req.source,
      createdAt: now,
      headerRewrite: headerRewrite(decision),
      approvalDeadline: approvers.length ? now + policy.approval.timeoutMinutes * 60_000 : null,
      approvalTimeoutAction: approvers.length ? policy.approval.timeoutAction : null,
      matchedRules: decision.matched,
      approvers,
      batches,
      notices,
      audit: [
        {
          actor,
          action: approvers.length ? "awaiting_approval" : "accepted",
          messageId: id,
          detail: {
            source: req.source,
            ip: req.remoteAddress,
            from: parsed.identity.from,
            size,
            recipients: parsed.recipients.length,
            groups: batches.map((g) => ({
              name: g.name,
              releaseAt: g.releaseAt,
              recipients: g.recipients.length,
            })),
            rules: decision.matched,
            forceBcc: decision.forceBcc,
            approvers,
          },
        },
      ],
    };
  }

  private async recordRejection(
    id: string,
    parsed: Parsed,
    req: IntakeRequest,
    language: Language,
    actor: string,
    rule: string,
    reason: { ja: string; en: string },
    matched: string[],
  ): Promise<void> {
    await this.deps.store.recordRejection(
      {
        actor,
        action: "rejected",
        messageId: id,
        detail: {
          rule,
          reason,
          matched,
          subject: parsed.headers.subject,
          recipients: parsed.recipients,
          ip: req.remoteAddress,
        },
      },
      req.mailFrom
        ? [
            {
              kind: "reject",
              messageId: id,
              recipient: req.mailFrom,
              language,
              data: {
                subject: parsed.headers.subject,
                rule,
                reason: reason[language],
                recipients: parsed.recipients,
                messageId: parsed.messageId,
              },
            },
          ]
        : [],
    );
  }
}
