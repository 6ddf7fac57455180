// The configuration file's schema. Every key has a default, so an empty file (or none) runs.
import { hostname } from "node:os";
import { OUTLOOK_HANDOFFS, OUTLOOK_SEND_MODES, isValidTimeZone } from "@sendguard/shared";
import { z } from "zod";
import { cidrProblem, dnsServerProblem, trustedNetworkProblem } from "./networks.js";

const port = z.number().int().min(0).max(65535);
/** A string that `problem` finds nothing wrong with (or the issue it names). */
const checkedString = (problem: (value: string) => string | null) =>
  z.string().superRefine((value, ctx) => {
    const message = problem(value);
    if (message) ctx.addIssue({ code: "custom", message });
  });
const cidr = checkedString(cidrProblem);
const domain = z
  .string()
  .regex(/^!?(\*\.)?[a-z0-9.-]+$/i, "expected a domain, *.domain or !domain")
  .transform((d) => d.toLowerCase());

const tls = z.strictObject({
  cert: z
    .string()
    .nullable()
    .default(null)
    .describe("PEM certificate file; a self-signed one is made when null"),
  key: z.string().nullable().default(null),
});

const smtp = z.strictObject({
  host: z.string().default("0.0.0.0"),
  port: port.default(2587),
  implicitTlsPort: port.nullable().default(null),
  hostname: z.string().min(1).default(hostname()),
  tls: tls.default({ cert: null, key: null }),
  requireTlsForAuth: z
    .boolean()
    .default(true)
    .describe("AUTH only over TLS: after STARTTLS, or on implicitTlsPort"),
  allowPlainAuthFromLoopback: z
    .boolean()
    .default(false)
    .describe("for tests only: clients on 127.0.0.0/8 and ::1 may AUTH without TLS"),
  maxMessageBytes: z
    .number()
    .int()
    .min(1024)
    .default(25 * 1024 * 1024),
  maxRecipients: z.number().int().min(1).max(10000).default(500),
  maxHeaderBytes: z
    .number()
    .int()
    .min(1024)
    .default(256 * 1024),
  trustedNetworks: z.array(checkedString(trustedNetworkProblem)).default([]),
  authFailures: z
    .strictObject({
      perUser: z.number().int().min(1).default(5),
      perIp: z.number().int().min(1).default(20),
      windowSeconds: z.number().int().min(1).default(900),
    })
    .default({ perUser: 5, perIp: 20, windowSeconds: 900 }),
});

const organization = z.strictObject({
  name: z.string().default("Sendguard"),
  internalDomains: z.array(domain).default([]),
  semiInternalDomains: z.array(domain).default([]),
  timezone: z
    .string()
    .refine(isValidTimeZone, "expected an IANA timezone such as Asia/Tokyo")
    .default("Asia/Tokyo"),
  language: z.enum(["ja", "en"]).default("ja"),
  holdMinutes: z.number().min(0).max(10080).default(5),
});

const relay = z.strictObject({
  url: z
    .string()
    .regex(/^(outbox|smtps?:\/\/.+)$/, "expected smtp://host:port, smtps://user:pass@host:port or outbox")
    .default("outbox"),
  maxConnections: z.number().int().min(1).max(100).default(5),
  concurrency: z.number().int().min(1).max(1000).default(20),
  rejectUnauthorized: z.boolean().default(true),
  retryDelaysSeconds: z.array(z.number().min(0.1)).min(1).default([300, 600, 1800, 3600, 7200, 14400]),
  giveUpAfterSeconds: z
    .number()
    .min(1)
    .default(2 * 24 * 3600),
});

const tlsProbe = z.strictObject({
  dnsServers: z
    .array(checkedString(dnsServerProblem))
    .min(1, "list at least one DNS server, or set null for the system's resolvers")
    .nullable()
    .default(null)
    .describe("DNS servers asked for MX, A/AAAA and MTA-STS TXT records; null: the system's resolvers"),
  port: port.min(1).default(25).describe("SMTP port the recipients' mail servers are probed on"),
  ca: z
    .string()
    .min(1)
    .nullable()
    .default(null)
    .describe("PEM file of CAs trusted besides Node's bundled roots when verifying certificates"),
  allowNonPublic: z
    .boolean()
    .default(false)
    .describe("for tests and labs only: probe mail servers on loopback and private addresses too"),
  mtaStsPort: port
    .min(1)
    .default(443)
    .describe("HTTPS port of the recipients' MTA-STS policy hosts (mta-sts.DOMAIN); 443 outside tests"),
});

const auth = z.strictObject({
  concurrentPasswordChecks: z
    .number()
    .int()
    .min(1)
    .max(16)
    .default(2)
    .describe("password hashes checked at once; the rest of libuv's pool stays free for fsync and SQLite"),
  queuedPasswordChecks: z
    .number()
    .int()
    .min(0)
    .max(10000)
    .default(16)
    .describe("checks that may wait for a slot; beyond this a login is answered 'busy, try again'"),
  apiTokenDays: z
    .number()
    .min(1)
    .max(3650)
    .default(90)
    .describe("lifetime of an API token from POST /tokens"),
});

const metrics = z.strictObject({
  allowNetworks: z.array(cidr).default(["127.0.0.0/8", "::1/128"]),
});

const analysis = z.strictObject({
  maxBytesInFlight: z
    .number()
    .int()
    .min(1024 * 1024)
    .default(64 * 1024 * 1024)
    .describe(
      "message bytes looked into at once by all content analyses together; more waits its turn (a larger message runs alone)",
    ),
  threads: z
    .number()
    .int()
    .min(1)
    .max(64)
    .default(2)
    .describe("worker threads for analysing messages over 64 KiB (pdf.js, Office files, ZIP)"),
});

/** How many days a kind of stored data is kept; fractions allowed, 0: at the next run, null: for good. */
const days = (defaultDays: number, what: string) =>
  z
    .number()
    .min(0)
    .max(36500)
    .nullable()
    .default(defaultDays)
    .describe(`${what}; 0 deletes at the next run, null keeps for good`);

const retention = z
  .strictObject({
    bodyDays: days(7, "a message's body (spool file or database row), counted from its final status"),
    metadataDays: days(365, "a message's rows and its notices, counted from its final status"),
    auditDays: days(365, "audit entries"),
    outboxDays: days(7, ".eml files in dataDir/outbox (relay.url: outbox)"),
    downloadDays: days(
      90,
      "a download package's rows and log, counted from its expiry or stop (its stored files go at the first run after it)",
    ),
    intervalMinutes: z
      .number()
      .min(1)
      .max(1440)
      .default(60)
      .describe("how often the job runs after the start"),
    batchSize: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(500)
      .describe(
        "rows deleted per transaction; intake's commits wait behind at most one batch (500 take a few milliseconds)",
      ),
  })
  .superRefine((r, ctx) => {
    // The rows say what became of a body; without them a kept body would belong to nothing.
    const body = r.bodyDays ?? Number.POSITIVE_INFINITY;
    const rows = r.metadataDays ?? Number.POSITIVE_INFINITY;
    if (rows < body) {
      ctx.addIssue({
        code: "custom",
        path: ["metadataDays"],
        message: `must be at least bodyDays (${r.bodyDays ?? "null"}): a message's rows are kept as long as its body at least`,
      });
    }
  });

export const configSchema = z.strictObject({
  dataDir: z.string().default("./data"),
  shutdownSeconds: z
    .number()
    .min(1)
    .max(3600)
    .default(30)
    .describe(
      "on SIGTERM/SIGINT, how long sessions, requests and deliveries under way may take to finish; then they are cut off or released",
    ),
  publicUrl: z
    .string()
    .url("expected an absolute URL such as https://sendguard.example.co.jp")
    .nullable()
    .default(null),
  http: z
    .strictObject({
      host: z.string().default("0.0.0.0"),
      port: port.default(8080),
      httpsPort: port
        .nullable()
        .default(null)
        .describe(
          "HTTPS listener (the same app) with the smtp.tls certificate; Outlook loads its add-in only over HTTPS. null: off (e.g. behind a reverse proxy that terminates TLS)",
        ),
    })
    .default({ host: "0.0.0.0", port: 8080, httpsPort: null }),
  outlook: z
    .strictObject({
      sendMode: z
        .enum(OUTLOOK_SEND_MODES)
        .default("softBlock")
        .describe(
          "what Outlook does on Send when the add-in cannot run: softBlock lets the mail go, block stops all mail (docs/outlook.md)",
        ),
      handoff: z
        .enum(OUTLOOK_HANDOFFS)
        .default("relay")
        .describe(
          "how the Outlook task pane hands a confirmed message over: relay sends it from Outlook (Exchange routes outbound mail through the gateway), api posts it to /api/v1/messages (docs/outlook-send.md)",
        ),
    })
    .default({ sendMode: "softBlock", handoff: "relay" }),
  smtp: smtp.default(smtp.parse({})),
  auth: auth.default(auth.parse({})),
  metrics: metrics.default(metrics.parse({})),
  spool: z
    .strictObject({
      inlineMaxBytes: z
        .number()
        .int()
        .min(0)
        .max(1024 * 1024)
        .default(64 * 1024)
        .describe("messages up to this size are stored in the database instead of a spool file"),
    })
    .default({ inlineMaxBytes: 64 * 1024 }),
  organization: organization.default(organization.parse({})),
  relay: relay.default(relay.parse({})),
  tlsProbe: tlsProbe.default(tlsProbe.parse({})),
  analysis: analysis.default(analysis.parse({})),
  retention: retention.default(retention.parse({})),
  notify: z
    .strictObject({ from: z.string().email("expected an e-mail address").nullable().default(null) })
    .default({ from: null }),
  log: z
    .strictObject({ level: z.enum(["debug", "info", "warn", "error", "silent"]).default("info") })
    .default({ level: "info" }),
});

export type Config = z.infer<typeof configSchema>;
