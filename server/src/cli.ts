// `sendguard start | user add|disable|enable|delete|password | token revoke | policy | dkim keygen | retention run | check-config`
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { stringify as stringifyYaml } from "yaml";
import { parsePolicyText, PolicyError, PolicyService } from "./policy/service.js";
import { ConfigError, loadConfig } from "./config/load.js";
import type { Config } from "./config/schema.js";
import { defaultSelector, generateDkimKey } from "./delivery/dkim.js";
import { DataDirLockedError } from "./store/data-dir-lock.js";
import { downloadVault, openSpool, openStore, startGateway } from "./gateway.js";
import { SpoolMissingError } from "./pipeline/reconcile.js";
import { ACCOUNT_RECHECK_MAX_AGE_MS } from "./intake/smtp.js";
import { createLogger } from "./log.js";
import { RetentionJob } from "./retention.js";
import type { Store, UserRecord } from "./store/types.js";
import { createUser, setPassword, UserInputError } from "./users.js";

const USAGE = `Usage:
  sendguard start [--config FILE] [--accept-missing-spool]
                                                    --accept-missing-spool: start even though the spool
                                                    holds none of the acknowledged messages' files
                                                    (they are failed and their senders notified)
  sendguard user add EMAIL [--role user|approver|admin] [--password-stdin] [--language ja|en]
                           [--hold-minutes N] [--alias ADDRESS]... [--group NAME]... [--manager EMAIL]
                           [--config FILE]
  sendguard user disable EMAIL [--config FILE]      no sign-in, tokens or sessions until enabled again
  sendguard user enable EMAIL [--config FILE]       unexpired tokens work again (revoke them if misused)
  sendguard user delete EMAIL [--config FILE]       removes the user and their tokens; messages and audit stay
  sendguard user password EMAIL [--password-stdin] [--config FILE]
                                                    sets a password (prints a generated one without
                                                    --password-stdin) and revokes the user's tokens
  sendguard token revoke EMAIL [--config FILE]      revokes all API tokens and sessions of the user
  sendguard policy set SCOPE FILE [--config FILE]     SCOPE: org, group:NAME or user:EMAIL; FILE: YAML or JSON
  sendguard policy show [--user EMAIL] [--config FILE]
  sendguard dkim keygen DOMAIN [--selector S] [--config FILE]
  sendguard retention run [--config FILE]          deletes now what is past its retention (config
                                                    retention; the gateway also does this hourly)
  sendguard check-config [--config FILE]`;

class UsageError extends Error {}

/** Beyond shutdownSeconds, what closing the store and the threads may take before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 5000;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

async function start(config: Config, acceptMissingSpool: boolean): Promise<void> {
  const log = createLogger(config.log.level);
  const gateway = await startGateway(config, log, { acceptMissingSpool });
  const { http, https, smtp, smtps } = gateway.ports;
  log.info(
    {
      event: "listening",
      http,
      https,
      smtp,
      smtps,
      publicUrl: gateway.publicUrl,
      relay: gateway.relay.description,
    },
    "listening",
  );
  process.stderr.write(
    [
      "",
      "Sendguard is running.",
      `  Web and API:      ${gateway.publicUrl}/  (API under /api/v1, health /healthz, metrics /metrics)`,
      `  HTTPS:            ${https === null ? "off (set http.httpsPort; Outlook loads its add-in only over HTTPS)" : `port ${https}${gateway.tlsSelfSigned ? ", self-signed certificate" : ""}; Outlook add-in at ${gateway.publicUrl}/addin/outlook/manifest.xml`}`,
      `  SMTP submission:  ${config.smtp.hostname}:${smtp} (STARTTLS${gateway.tlsSelfSigned ? ", self-signed certificate" : ""}, AUTH PLAIN/LOGIN)${smtps ? `; implicit TLS on ${smtps}` : ""}`,
      `  Relay:            ${gateway.relay.description}${config.relay.url === "outbox" ? "  — mail is written to files, not sent; set SENDGUARD_RELAY_URL=smtp://host:port to relay" : ""}`,
      `  Data:             ${config.dataDir}`,
      "",
      "Add the first user (prints a generated password):",
      "  npx sendguard user add you@example.co.jp --role admin",
      "",
    ].join("\n"),
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, shutdownSeconds: config.shutdownSeconds }, "shutting down");
    // close() keeps to the bound itself; this is for a close that hangs in spite of it (a stuck disk).
    setTimeout(
      () => {
        log.error({ shutdownSeconds: config.shutdownSeconds }, "shutdown did not finish in time; exiting");
        process.exit(1);
      },
      config.shutdownSeconds * 1000 + SHUTDOWN_GRACE_MS,
    ).unref();
    gateway.close().then(
      () => {
        log.info({ signal }, "shut down");
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

async function userAdd(
  config: Config,
  email: string | undefined,
  values: Record<string, unknown>,
): Promise<void> {
  if (!email) throw new UsageError("user add needs an EMAIL");
  const holdMinutes = values["hold-minutes"] === undefined ? undefined : Number(values["hold-minutes"]);
  const password = values["password-stdin"] ? await readStdin() : undefined;
  const store = await openStore(config);
  try {
    const { user, password: used } = await createUser(store, {
      email,
      role: String(values.role ?? "user"),
      password,
      language: values.language as string | undefined,
      holdMinutes,
      aliases: (values.alias as string[] | undefined) ?? [],
      groups: (values.group as string[] | undefined) ?? [],
      manager: values.manager as string | undefined,
    });
    await store.audit([
      { actor: "cli", action: "user_added", detail: { email: user.email, role: user.role } },
    ]);
    console.log(`Added ${user.email} (${user.role}).`);
    if (!password) console.log(`Password (shown once): ${used}`);
  } finally {
    await store.close();
  }
}

/** Runs `work` on the user EMAIL with the store open. Changes are audited with the actor "cli". */
async function onUser(
  config: Config,
  command: string,
  email: string | undefined,
  work: (store: Store, user: UserRecord) => Promise<string>,
): Promise<void> {
  if (!email) throw new UsageError(`${command} needs an EMAIL`);
  const store = await openStore(config);
  try {
    const user = await store.userByEmail(email);
    if (!user) throw new UserInputError(`no user ${email}`);
    console.log(await work(store, user));
  } finally {
    await store.close();
  }
}

/** `user disable|enable|delete|password` and `token revoke`: the account's life after `user add`. */
async function account(
  config: Config,
  command: string,
  email: string | undefined,
  values: Record<string, unknown>,
): Promise<void> {
  const audit = (action: string, user: UserRecord) => ({
    actor: "cli",
    action,
    detail: { email: user.email },
  });
  // Read before the store opens, so that a missing EMAIL is reported without waiting for stdin.
  const given =
    command === "user password" && email && values["password-stdin"] ? await readStdin() : undefined;
  await onUser(config, command, email, async (store, user) => {
    switch (command) {
      case "user disable":
        await store.setUserDisabled(user.id, true, audit("user_disabled", user));
        return `Disabled ${user.email}: sign-in, API tokens and sessions are refused now; an SMTP session already open is refused at its next message (within ${ACCOUNT_RECHECK_MAX_AGE_MS / 1000} s).`;
      case "user enable":
        await store.setUserDisabled(user.id, false, audit("user_enabled", user));
        return `Enabled ${user.email}. Tokens that have not expired work again; if the account was misused, run: sendguard token revoke ${user.email}`;
      case "user delete":
        await store.deleteUser(user.id, {
          ...audit("user_deleted", user),
          detail: { email: user.email, role: user.role },
        });
        return `Deleted ${user.email} and their tokens; their messages and the audit log stay.`;
      case "user password": {
        const password = await setPassword(store, user, given, "cli");
        return `Password of ${user.email} set; their tokens and sessions are revoked.${given === undefined ? `\nPassword (shown once): ${password}` : ""}`;
      }
      default: {
        // token revoke
        const revoked = await store.revokeTokens(user.id, null, audit("tokens_revoked", user));
        return `Revoked ${revoked} token${revoked === 1 ? "" : "s"} and session${revoked === 1 ? "" : "s"} of ${user.email}.`;
      }
    }
  });
}

/** One retention run beside (or without) a running gateway: SQLite lets both write, one at a time. */
async function retentionRun(config: Config): Promise<void> {
  const store = await openStore(config);
  const spool = await openSpool(config);
  try {
    const job = new RetentionJob({
      config,
      store,
      spool,
      vault: downloadVault(config),
      log: createLogger("warn"),
    });
    const deleted = await job.run();
    console.log(
      [
        "Retention run done. Deleted:",
        `  message bodies:      ${deleted.bodies}`,
        `  messages (rows):     ${deleted.messages}`,
        `  notices:             ${deleted.notices}`,
        `  audit entries:       ${deleted.audit}`,
        `  expired tokens:      ${deleted.tokens}`,
        `  orphan spool files:  ${deleted.orphanSpoolFiles}`,
        `  outbox files:        ${deleted.outboxFiles}`,
        `  download files:      ${deleted.downloadFiles}`,
        `  download packages:   ${deleted.downloadPackages}`,
      ].join("\n"),
    );
  } finally {
    await spool.close();
    await store.close();
  }
}

async function dkimKeygen(
  config: Config,
  domain: string | undefined,
  selector: string | undefined,
): Promise<void> {
  if (!domain || !/^[a-z0-9.-]+\.[a-z]{2,}$/i.test(domain))
    throw new UsageError("dkim keygen needs a DOMAIN such as example.co.jp");
  if (selector !== undefined && !/^[a-z0-9-]{1,63}$/i.test(selector))
    throw new UsageError("--selector takes letters, digits and -");
  const store = await openStore(config);
  try {
    const key = await generateDkimKey(store, domain, selector ?? defaultSelector());
    await store.audit([{ actor: "cli", action: "dkim_keygen", detail: { domain, name: key.name } }]);
    console.log(`Publish this DNS TXT record, then restart Sendguard to sign mail from ${domain}:\n`);
    console.log(key.record);
  } finally {
    await store.close();
  }
}

async function policySet(config: Config, scope: string | undefined, file: string | undefined): Promise<void> {
  if (!scope || !file)
    throw new UsageError("policy set needs a SCOPE (org, group:NAME, user:EMAIL) and a FILE");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const store = await openStore(config);
  try {
    const policies = new PolicyService(store, config);
    await policies.set(scope, parsePolicyText(text), "cli");
    console.log(`Policy for ${scope} saved; the running gateway applies it within a second.`);
  } finally {
    await store.close();
  }
}

async function policyShow(config: Config, email: string | undefined): Promise<void> {
  const store = await openStore(config);
  try {
    const user = email ? await store.userByEmail(email) : undefined;
    if (email && !user) throw new UserInputError(`no user ${email}`);
    const policies = new PolicyService(store, config);
    for (const { scope, errors } of await policies.invalidPolicies()) {
      console.error(
        `sendguard: warning: the stored policy of ${scope} does not validate:\n` +
          errors.map((e) => `  - ${e}\n`).join("") +
          `  A running gateway keeps the last valid version of it that it saw; one started now (and the\n` +
          `  policy below) makes every message of its senders wait for approval.\n` +
          `  Fix it: sendguard policy set ${scope} FILE`,
      );
    }
    const { policy, ignored } = await policies.effectiveFor(user ?? null, email ?? "");
    console.log(stringifyYaml({ effectivePolicy: policy, ...(ignored.length ? { ignored } : {}) }));
  } finally {
    await store.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: "string" },
        role: { type: "string" },
        "password-stdin": { type: "boolean" },
        language: { type: "string" },
        "hold-minutes": { type: "string" },
        alias: { type: "string", multiple: true },
        group: { type: "string", multiple: true },
        manager: { type: "string" },
        user: { type: "string" },
        selector: { type: "string" },
        "accept-missing-spool": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, sub, arg] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  try {
    const config = loadConfig(values.config);
    if (command === "start") await start(config, values["accept-missing-spool"] === true);
    else if (command === "user" && sub === "add") await userAdd(config, arg, values);
    else if (
      (command === "user" && ["disable", "enable", "delete", "password"].includes(sub ?? "")) ||
      (command === "token" && sub === "revoke")
    )
      await account(config, `${command} ${sub}`, arg, values);
    else if (command === "dkim" && sub === "keygen") await dkimKeygen(config, arg, values.selector);
    else if (command === "policy" && sub === "set") await policySet(config, arg, positionals[3]);
    else if (command === "policy" && sub === "show") await policyShow(config, values.user);
    else if (command === "retention" && sub === "run") await retentionRun(config);
    else if (command === "check-config") console.log(`Configuration OK:\n${JSON.stringify(config, null, 2)}`);
    else throw new UsageError(`unknown command: ${positionals.join(" ")}`);
    return 0;
  } catch (err) {
    if (err instanceof PolicyError) {
      console.error(`sendguard: the policy was not saved:\n${err.errors.map((e) => `  - ${e}`).join("\n")}`);
      return 1;
    }
    if (
      err instanceof ConfigError ||
      err instanceof UserInputError ||
      err instanceof DataDirLockedError ||
      err instanceof SpoolMissingError
    ) {
      console.error(`sendguard: ${err.message}`);
      return 1;
    }
    if (err instanceof UsageError) {
      console.error(`sendguard: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
}
