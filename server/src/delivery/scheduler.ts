// Releases recipient batches when they are due and sends pending notices. Claims are leases in the
// store, so release/discard stay atomic against delivery, and a restart re-delivers whatever was
// in flight (at least once; recipients already recorded as sent are not sent again).
import { domainOf } from "@sendguard/shared";
import type { Config } from "../config/schema.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";
import type { NoticeSender } from "../notify/sender.js";
import { GroupCommit } from "../store/group-commit.js";
import type { Spool } from "../store/spool.js";
import type {
  AttemptRecord,
  BatchRecord,
  CopyRecord,
  MessageRecord,
  NewCopy,
  NewNotice,
  NoticeRecord,
  NoticeResult,
  RecipientResult,
  Store,
} from "../store/types.js";
import { decideApproval } from "../approval.js";
import { nextRetryAt } from "./backoff.js";
import type { DkimKeys } from "./dkim.js";
import { outgoingMessage } from "./outgoing.js";
import {
  noNotices,
  recipientPasswordNotices,
  senderPasswordNotice,
  type PasswordNotices,
} from "./password-notices.js";
import type { MessageRelay } from "./relay-thread.js";
import { isSigned, type CopyMaker } from "../pipeline/transform/copies.js";

export interface SchedulerDeps {
  config: Config;
  store: Store;
  spool: Spool;
  /** The relay thread: it reads, signs and sends the message. */
  relay: MessageRelay;
  dkim: DkimKeys;
  notices: NoticeSender;
  /** Makes the copies of a batch whose attachments are not passed as they came. */
  copies: CopyMaker;
  metrics: Metrics;
  log: Logger;
}

/** The longest the scheduler sleeps, so a clock jump or a missed wake-up costs at most this. */
const MAX_SLEEP_MS = 30_000;
/** Notices claimed at once. One batch is sent at a time: what comes due meanwhile waits for the next. */
const NOTICE_BATCH = 200;
/**
 * Notices written per turn of the event loop. Writing one is synchronous work; a whole batch in
 * one turn held up every SMTP session's reply by tens of milliseconds (the intake p99).
 */
const NOTICES_PER_TURN = 8;
/** The longest wait between tries to record a delivery attempt the database refused. */
const RECORD_RETRY_MAX_MS = 5000;

/** What a stop at its deadline gave up: leases released, delivered again at the next start. */
export interface GivenUp {
  deliveries: { messageId: string; group: string }[];
  /** Notices of a batch still being sent. */
  notices: number;
}

/** The notice that tells a message's sender which recipients it did not reach; none when it reached all. */
export function bounceNotices(message: MessageRecord, failed: RecipientResult[]): NewNotice[] {
  if (!failed.length || !message.sender) return [];
  return [
    {
      kind: "bounce",
      messageId: message.id,
      recipient: message.sender,
      language: message.language,
      data: { failed: failed.map((f) => ({ address: f.address, response: f.response })) },
    },
  ];
}

export class Scheduler {
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;
  /** The latest look at the queue; a stop waits for it. */
  private ticked: Promise<void> = Promise.resolve();
  private again = false;
  private stopped = false;
  /** Past the stop's deadline: outcomes that arrive now are not recorded (the leases are released). */
  private abandoned = false;
  private inflight = 0;
  private readonly idle: (() => void)[] = [];
  /** The deliveries in flight, by batch id (`group`: the batch's name, as logged). */
  private readonly delivering = new Map<string, { messageId: string; group: string }>();
  /** Notices in the batch being sent (it takes one delivery slot); 0 when none is out. */
  private sendingNotices = 0;
  private readonly attempts: GroupCommit<AttemptRecord>;

  constructor(private readonly deps: SchedulerDeps) {
    this.attempts = new GroupCommit((batch) => deps.store.recordAttempts(batch));
  }

  async start(): Promise<void> {
    await this.deps.store.resetLeases();
    this.wake();
  }

  /** Look at the queue now (after new messages, a release, or a finished delivery). */
  wake(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticked = this.tick();
  }

  /**
   * Claims nothing more and lets the deliveries and notices in flight finish, until `deadline`
   * (ms since the epoch). What is still out then is given up: its leases are released, so the next
   * start sends it again (at least once: the relay may have taken it already), and its outcome is
   * not recorded should it still arrive. Returns what was given up.
   */
  async stop(deadline = Number.POSITIVE_INFINITY): Promise<GivenUp> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    // A claim under way becomes deliveries in flight: wait for it, so none starts unseen.
    await this.ticked;
    if (this.inflight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.idle.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now())))),
      ]);
      clearTimeout(timer);
    }
    const givenUp: GivenUp = { deliveries: [...this.delivering.values()], notices: this.sendingNotices };
    if (this.inflight > 0) {
      this.abandoned = true;
      // Nothing else claims (this process holds the data directory), so every lease is one of these.
      await this.deps.store.resetLeases();
    }
    return givenUp;
  }

  private async tick(): Promise<void> {
    this.ticking = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    try {
      do {
        this.again = false;
        const free = this.deps.config.relay.concurrency - this.inflight;
        if (free <= 0) break;
        const now = Date.now();
        // A read first, and only the kinds of work that are due are claimed: claims are write
        // transactions that an intake commit would wait behind, and the wake-up after a commit
        // mostly finds just its hold notices due (the messages are held).
        const due = await this.deps.store.dueTimes();
        const isDue = (at: number | null) => at !== null && at <= now;
        const batches = isDue(due.batches) ? await this.deps.store.claimDueBatches(now, free) : [];
        for (const { message, batch } of batches) {
          this.delivering.set(batch.id, { messageId: message.id, group: batch.name });
          this.track(this.deliver(message, batch).finally(() => this.delivering.delete(batch.id)));
        }
        if (isDue(due.approvals)) await this.expireApprovals(now);
        if (!this.sendingNotices && free > batches.length && isDue(due.notices)) {
          const notices = await this.deps.store.claimDueNotices(now, NOTICE_BATCH);
          if (notices.length) {
            this.sendingNotices = notices.length;
            this.track(this.sendNotices(notices).finally(() => (this.sendingNotices = 0)));
          }
        }
        if (batches.length >= free) this.again = true;
      } while (this.again && !this.stopped && this.inflight < this.deps.config.relay.concurrency);
      // With every slot busy, a finishing delivery wakes us; a timer for an overdue backlog would spin.
      // So would one for notices due while a batch is out: its end wakes us.
      if (this.inflight < this.deps.config.relay.concurrency) {
        const due = await this.deps.store.dueTimes();
        const times = [due.batches, due.approvals, this.sendingNotices ? null : due.notices];
        const next = Math.min(...times.map((t) => t ?? Number.POSITIVE_INFINITY));
        this.sleepUntil(Number.isFinite(next) ? next : Date.now() + MAX_SLEEP_MS);
      }
    } catch (err) {
      this.deps.log.error({ err }, "scheduler tick failed; retrying in 1 s");
      this.sleepUntil(Date.now() + 1000);
    } finally {
      this.ticking = false;
    }
  }

  private sleepUntil(at: number): void {
    if (this.stopped) return;
    const delay = Math.min(MAX_SLEEP_MS, Math.max(0, at - Date.now()));
    this.timer = setTimeout(() => this.wake(), delay);
    this.timer.unref();
  }

  private track(work: Promise<void>): void {
    this.inflight++;
    void work
      .catch((err: unknown) => this.deps.log.error({ err }, "delivery task failed"))
      .finally(() => {
        this.inflight--;
        if (this.inflight === 0) for (const resolve of this.idle.splice(0)) resolve();
        this.wake();
      });
  }

  private async deliver(message: MessageRecord, batch: BatchRecord): Promise<void> {
    const { config, relay, metrics, log } = this.deps;
    const pending = batch.recipients.filter((r) => r.status === "pending").map((r) => r.address);
    const now = Date.now();
    const made = pending.length ? await this.copiesOf(message, batch, pending) : { copies: [], results: [] };
    let results = made.results;
    const passwords = noNotices();
    const notify = made.copies.some((c) => c?.password)
      ? (await this.deps.copies.settingsFor(message)).password
      : null;
    for (const copy of made.copies) {
      const to = copy ? pending.filter((a) => copy.recipients.includes(a)) : pending;
      if (!to.length) continue;
      const relayed = await this.relayed(message, batch, to, copy);
      results.push(...relayed);
      const noticed = notify ? recipientPasswordNotices(message, notify, copy, relayed) : noNotices();
      // With more copies to go, what this one reached is recorded now: a crash while a later copy
      // is relayed would otherwise send this one again, to recipients it had reached.
      const recorded =
        made.copies.length > 1 && (await this.recordCopyDelivered(message, batch, relayed, noticed));
      if (!recorded) {
        passwords.notices.push(...noticed.notices);
        passwords.noticed.push(...noticed.noticed);
      }
    }
    if (this.abandoned) return;
    if (notify) {
      const toSender = senderPasswordNotice(message, batch, notify, made.copies, results);
      passwords.notices.push(...toSender.notices);
      passwords.noticed.push(...toSender.noticed);
    }
    const retryAt = nextRetryAt(config.relay, batch.attempts, batch.firstAttemptAt ?? now, Date.now());
    if (retryAt === null) {
      results = results.map((r) =>
        r.outcome === "retry"
          ? { ...r, response: `gave up after ${batch.attempts} attempts: ${r.response}` }
          : r,
      );
    }
    const failed = results.filter(
      (r) => r.outcome === "failed" || (r.outcome === "retry" && retryAt === null),
    );
    const sent = results.filter((r) => r.outcome === "sent").length;
    const deferred = results.length - sent - failed.length;
    metrics.sent.inc(sent);
    metrics.failed.inc(failed.length);
    metrics.deferred.inc(deferred);
    log.info(
      {
        msg_id: message.id,
        group: batch.name,
        attempt: batch.attempts,
        sent,
        failed: failed.length,
        deferred,
      },
      "delivery attempt",
    );
    await this.record({
      batchId: batch.id,
      messageId: message.id,
      now: Date.now(),
      results,
      retryAt: deferred > 0 ? retryAt : null,
      notices: [...bounceNotices(message, failed), ...passwords.notices],
      passwordsNoticed: passwords.noticed,
      audit: [
        {
          actor: "scheduler",
          action: "delivery_attempt",
          messageId: message.id,
          detail: { group: batch.name, attempt: batch.attempts, relay: relay.description, results },
        },
      ],
    });
  }

  /**
   * The copies a batch goes as (null: the message as it came). Copies that cannot be made now
   * (a full disk, the download centre refusing) are a retry for every recipient; a signed message
   * the policy does not let pass unchanged fails with what to do about it.
   */
  private async copiesOf(
    message: MessageRecord,
    batch: BatchRecord,
    pending: string[],
  ): Promise<{ copies: (NewCopy | CopyRecord | null)[]; results: RecipientResult[] }> {
    if (batch.attachmentAction === "pass") return { copies: [null], results: [] };
    try {
      return { copies: await this.deps.copies.copiesFor(message, batch), results: [] };
    } catch (err) {
      const signed = isSigned(err);
      if (!signed) this.deps.log.error({ err, msg_id: message.id, group: batch.name }, "copies not made");
      const response = signed
        ? "not relayed: the message is signed or encrypted (S/MIME, PGP), so its attachments cannot be separated; send the attachments in a message of their own"
        : `not relayed: the attachments could not be prepared: ${err instanceof Error ? err.message : String(err)}`;
      const outcome = signed ? "failed" : "retry";
      return { copies: [], results: pending.map((address) => ({ address, outcome, response })) };
    }
  }

  /**
   * Records the recipients one copy reached (and the password notices it queues) while the batch
   * stays leased; false when that was not done (stopping, or the database refused: then the
   * attempt's record carries them, and a crash before it sends the copy again, at least once).
   */
  private async recordCopyDelivered(
    message: MessageRecord,
    batch: BatchRecord,
    relayed: RecipientResult[],
    passwords: PasswordNotices,
  ): Promise<boolean> {
    const sent = relayed.filter((r) => r.outcome === "sent");
    if (!sent.length || this.abandoned) return false;
    try {
      await this.deps.store.recordCopyDelivered({
        batchId: batch.id,
        now: Date.now(),
        sent,
        notices: passwords.notices,
        passwordsNoticed: passwords.noticed,
      });
      return true;
    } catch (err) {
      this.deps.log.error(
        { err, msg_id: message.id, group: batch.name },
        "recording a copy's delivery failed",
      );
      return false;
    }
  }

  /**
   * The outcome per pending recipient. What fails before the relay has the message (its body is
   * gone from the database, the DKIM key cannot be looked up) is a retry for each of them, so the
   * attempt is recorded like any other and the batch does not stay leased; the relay thread
   * answers a retry itself for what fails there (a spool file it cannot read, a full outbox).
   */
  private async relayed(
    message: MessageRecord,
    batch: BatchRecord,
    pending: string[],
    copy: NewCopy | CopyRecord | null,
  ): Promise<RecipientResult[]> {
    const { store, spool, relay, dkim, log } = this.deps;
    try {
      const signing = await dkim.forDomain(domainOf(message.fromHeader));
      return await relay.deliver(
        { from: message.sender, to: pending },
        await outgoingMessage(spool, store, message, copy),
        {
          dkim: signing,
          name: `${message.id}-${batch.name}-${batch.attempts}`,
          messageId: message.messageId,
        },
      );
    } catch (err) {
      log.error({ err, msg_id: message.id, group: batch.name }, "delivery could not start");
      const response = `not relayed: ${err instanceof Error ? err.message : String(err)}`;
      return pending.map((address) => ({ address, outcome: "retry", response }));
    }
  }

  /**
   * Records an attempt. The batch stays leased until it is: its outcome is known, and released
   * unrecorded it would be delivered again. So a database that refuses the write (a full disk) is
   * asked again every few seconds; only a stopping scheduler gives up, and the next start
   * delivers the batch again (at least once).
   */
  private async record(attempt: AttemptRecord): Promise<void> {
    for (let wait = 500; ; wait = Math.min(wait * 2, RECORD_RETRY_MAX_MS)) {
      try {
        return await this.attempts.add(attempt);
      } catch (err) {
        if (this.stopped) throw err;
        this.deps.log.error(
          { err, msg_id: attempt.messageId, retry_ms: wait },
          "recording a delivery attempt failed",
        );
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  /** Applies each message's timeout action (deny or approve) once its approval deadline has passed. */
  private async expireApprovals(now: number): Promise<void> {
    const { store, log } = this.deps;
    for (const id of await store.expiredApprovals(now)) {
      const message = await store.message(id);
      if (!message) continue;
      const approve = message.approvalTimeoutAction === "approve";
      const result = await decideApproval(
        store,
        message,
        "timeout",
        approve,
        "no decision before the deadline",
        now,
      );
      log.info({ msg_id: id, approve, outcome: result.outcome }, "approval timed out");
    }
  }

  /**
   * Sends a batch of notices: the messages they are about are read in one go, the mails go out
   * side by side over the relay's pooled connections, and the outcomes are recorded in one transaction.
   */
  private async sendNotices(batch: NoticeRecord[]): Promise<void> {
    // A rejected message has no rows, and a download code is about a download, not a message.
    const aboutMessages = batch.filter((n) => n.kind !== "reject" && n.kind !== "download_code");
    const ids = [...new Set(aboutMessages.map((n) => n.messageId))];
    const messages = new Map((await this.deps.store.messages(ids)).map((m) => [m.id, m]));
    const sending: Promise<NoticeResult>[] = [];
    for (const [i, notice] of batch.entries()) {
      if (i > 0 && i % NOTICES_PER_TURN === 0) await new Promise(setImmediate);
      sending.push(this.sendNotice(notice, messages.get(notice.messageId)));
    }
    const results = await Promise.all(sending);
    if (!this.abandoned) await this.deps.store.finishNotices(results);
  }

  private async sendNotice(notice: NoticeRecord, message: MessageRecord | undefined): Promise<NoticeResult> {
    const { config, notices, log } = this.deps;
    let error: string | null = null;
    let permanent = false;
    try {
      const result = await notices.send(notice, message);
      if (result && result.outcome !== "sent") {
        error = result.response;
        permanent = result.outcome === "failed";
      }
    } catch (err) {
      error = (err as Error).message;
    }
    const retryAt =
      error === null || permanent
        ? null
        : nextRetryAt(config.relay, notice.attempts, notice.createdAt, Date.now());
    if (error) log.warn({ msg_id: notice.messageId, notice: notice.kind, error, retryAt }, "notice not sent");
    return { id: notice.id, retryAt, error };
  }
}
