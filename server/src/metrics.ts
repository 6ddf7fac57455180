// Prometheus metrics (GET /metrics). Queue depth is read from the store at scrape time.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Store } from "./store/types.js";

export class Metrics {
  readonly registry = new Registry();
  readonly accepted = new Counter({
    name: "sendguard_messages_accepted_total",
    help: "Messages accepted and stored",
    labelNames: ["source"],
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: "sendguard_messages_rejected_total",
    help: "Messages refused at intake",
    labelNames: ["source", "code"],
    registers: [this.registry],
  });
  readonly held = new Counter({
    name: "sendguard_messages_held_total",
    help: "Messages held before release",
    registers: [this.registry],
  });
  readonly sent = new Counter({
    name: "sendguard_recipients_sent_total",
    help: "Recipients delivered to the relay",
    registers: [this.registry],
  });
  readonly failed = new Counter({
    name: "sendguard_recipients_failed_total",
    help: "Recipients failed permanently",
    registers: [this.registry],
  });
  readonly deferred = new Counter({
    name: "sendguard_recipients_deferred_total",
    help: "Recipients deferred for a retry",
    registers: [this.registry],
  });
  readonly discarded = new Counter({
    name: "sendguard_messages_discarded_total",
    help: "Messages discarded by their sender or an admin",
    registers: [this.registry],
  });
  readonly intakeSeconds = new Histogram({
    name: "sendguard_intake_duration_seconds",
    help: "From the end of the client's data to the durable acknowledgement",
    labelNames: ["source"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  constructor(store: Store) {
    const depth = new Gauge({
      name: "sendguard_queue_depth",
      help: "Recipient groups waiting (held), being delivered or retried (releasing), and pending notices",
      labelNames: ["state"],
      registers: [this.registry],
      async collect() {
        const d = await store.queueDepth();
        depth.set({ state: "held" }, d.held);
        depth.set({ state: "releasing" }, d.releasing);
        depth.set({ state: "notices" }, d.notices);
      },
    });
  }
}
