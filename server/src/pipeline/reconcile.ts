// The start-up check of the spool: acknowledged messages are never dropped silently, messages never
// acknowledged are forgotten as if they had never arrived.
import type { BatchStatus } from "@sendguard/shared";
import { bounceNotices } from "../delivery/scheduler.js";
import type { Logger } from "../log.js";
import { spoolName, type Spool } from "../store/spool.js";
import type { MessageRecord, MissingBody, RecipientResult, Store } from "../store/types.js";

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
