// /api/v1: sign-in, tokens, policy, message submission and the sender's own messages.
import {
  clientAttachmentRules,
  type ClientPolicy,
  type Language,
  type MessageStatus,
  type TokenResponse,
} from "@sendguard/shared";
import express, { type Request, type Response, Router } from "express";
import type { PasswordChecker } from "../auth/passwords.js";
import type { Config } from "../config/schema.js";
import { IntakeError, PolicyRejection } from "../pipeline/errors.js";
import { canonicalMailbox, SenderRefusal, type IdentityProblem } from "../pipeline/identity.js";
import type { PolicyService } from "../policy/service.js";
import type { Intake } from "../pipeline/intake.js";
import { decideApproval } from "../approval.js";
import { newToken, sha256 } from "../secrets.js";
import type { HeldAction, MessageRecord, Store, UserRecord } from "../store/types.js";
import { authRefusal, cookie, currentUser, requireUser, SESSION_COOKIE } from "./auth.js";
import { composeJson, describeJsonProblem, envelopeRecipients, jsonMessageSchema } from "./compose-json.js";
import { ApiError, languageOf } from "./errors.js";
import { messageSummary, messageView } from "./views.js";

export interface ApiDeps {
  config: Config;
  store: Store;
  intake: Intake;
  passwords: PasswordChecker;
  policies: PolicyService;
  /** Called after a release so the scheduler sends without waiting for its timer. */
  onReleased: () => void;
}

const SESSION_HOURS = 12;
const STATUSES: MessageStatus[] = [
  "pending_approval",
  "held",
  "releasing",
  "sent",
  "failed",
  "discarded",
  "partially_sent",
  "rejected",
  "approval_denied",
];

export function ownAddresses(user: UserRecord): string[] {
  return [user.email, ...user.aliases].map(canonicalMailbox);
}

/** Users see their own messages only; admins see all. Others get 404, not 403: no existence leak. */
export function canSee(user: UserRecord, message: MessageRecord): boolean {
  return (
    user.role === "admin" ||
    message.userId === user.id ||
    ownAddresses(user).includes(canonicalMailbox(message.sender))
  );
}

/** What the messages of sender_not_allowed and multiple_senders name. */
function identityVars(problem: IdentityProblem): Record<string, string | number> {
  switch (problem.kind) {
    case "not_own":
      return { field: problem.field, address: problem.address, allowed: problem.allowed.join(", ") };
    case "several_fields":
    case "several_addresses":
      return { field: problem.field, count: problem.count };
    default:
      return { field: problem.field, address: "address" in problem ? problem.address : "", allowed: "" };
  }
}

/** HTTP callers get fewer, broader codes than SMTP: the detail says what exactly was wrong. */
function intakeToApi(err: IntakeError, limit: number, lang: Language): ApiError {
  if (err instanceof PolicyRejection) {
    return new ApiError(422, "rejected", { reason: err.reason[lang] }, {}, { rule: err.rule });
  }
  if (err instanceof SenderRefusal) return new ApiError(err.httpStatus, err.code, identityVars(err.problem));
  if (err.code === "too_large") return new ApiError(err.httpStatus, "too_large", { limit });
  if (err.code === "no_recipients" || err.code === "storage") return new ApiError(err.httpStatus, err.code);
  return new ApiError(err.httpStatus, "bad_message", { detail: err.detail });
}

function credentials(req: Request): { email: string; password: string } {
  const body = req.body as { email?: unknown; password?: unknown } | undefined;
  if (typeof body?.email !== "string" || typeof body.password !== "string" || body.email.length > 320) {
    throw new ApiError(400, "bad_request", { detail: 'send JSON {"email": "…", "password": "…"}' });
  }
  return { email: body.email, password: body.password };
}

export function apiRouter(deps: ApiDeps): Router {
  const { config, store, intake, passwords } = deps;
  const router = Router();
  const smallJson = express.json({ limit: "16kb" });
  const secureCookie = (config.publicUrl ?? "").startsWith("https:");

  async function signIn(req: Request): Promise<UserRecord> {
    const { email, password } = credentials(req);
    const result = await passwords.check(email, password, req.ip ?? "");
    if (result.ok) return result.user;
    throw authRefusal(result);
  }

  router.post("/auth/login", smallJson, async (req, res) => {
    const user = await signIn(req);
    const token = newToken();
    const csrf = newToken();
    const tokenId = await store.saveToken(
      sha256(token),
      user.id,
      "session",
      csrf,
      Date.now() + SESSION_HOURS * 3600_000,
    );
    await store.audit([{ actor: user.email, action: "login", detail: { ip: req.ip, tokenId } }]);
    res.cookie(SESSION_COOKIE, token, {
      httpOnly: true,
      sameSite: "strict",
      secure: secureCookie,
      path: "/",
      maxAge: SESSION_HOURS * 3600_000,
    });
    res.json({ csrfToken: csrf, user: { email: user.email, role: user.role, language: user.language } });
  });

  router.post("/auth/logout", requireUser, async (req, res) => {
    const token = cookie(req, SESSION_COOKIE);
    if (token) await store.deleteToken(sha256(token));
    res.clearCookie(SESSION_COOKIE, { path: "/" });
    res.status(204).end();
  });

  router.post("/tokens", smallJson, async (req, res) => {
    const user = await signIn(req);
    const token = newToken();
    const expiresAt = Date.now() + config.auth.apiTokenDays * 86400_000;
    const id = await store.saveToken(sha256(token), user.id, "api", null, expiresAt);
    await store.audit([{ actor: user.email, action: "token_created", detail: { ip: req.ip, tokenId: id } }]);
    const body: TokenResponse = { token, id, expiresAt: new Date(expiresAt).toISOString() };
    res.status(201).json(body);
  });

  router.get("/policy", requireUser, async (_req, res) => {
    const user = currentUser(res);
    const org = config.organization;
    const { policy } = await deps.policies.effectiveFor(user, user.email);
    const body: ClientPolicy = {
      organization: { name: org.name, timezone: org.timezone, language: org.language },
      language: user.language ?? org.language,
      domains: policy.domains,
      hold: policy.hold,
      delay: policy.delay,
      holdMinutes: Math.max(policy.hold.internal, policy.hold.semiInternal, policy.hold.external),
      forcedBcc: policy.forcedBcc,
      attachmentAction: policy.attachments.action,
      attachmentRules: clientAttachmentRules(policy, user.email, user.groups),
      attachmentUnlessTls: policy.attachments.unlessTls,
      client: policy.client,
      outlook: { handoff: config.outlook.handoff },
    };
    res.json(body);
  });

  router.post("/messages", requireUser, async (req, res) => {
    const user = currentUser(res);
    const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
    let accepted;
    try {
      if (type === "message/rfc822") {
        accepted = await intake.submit({
          source: "http",
          stream: req,
          mailFrom: user.email,
          rcptTo: null,
          user,
          authenticated: true,
          remoteAddress: req.ip ?? "",
          lineEndings: "normalize",
        });
      } else if (type === "application/json") {
        const body: unknown = await new Promise((resolve, reject) =>
          express.json({ limit: Math.ceil(config.smtp.maxMessageBytes * 1.4) })(req, res, (err?: unknown) =>
            err ? reject(err) : resolve(req.body),
          ),
        );
        const parsed = jsonMessageSchema.safeParse(body);
        if (!parsed.success)
          throw new ApiError(400, "bad_message", { detail: describeJsonProblem(parsed.error) });
        // The composed From header is checked by intake, like every other submission's.
        accepted = await intake.submit({
          source: "http",
          stream: composeJson(parsed.data, parsed.data.from ?? user.email),
          mailFrom: user.email,
          rcptTo: envelopeRecipients(parsed.data),
          user,
          authenticated: true,
          remoteAddress: req.ip ?? "",
          lineEndings: "reject",
        });
      } else {
        throw new ApiError(415, "unsupported_media_type");
      }
    } catch (err) {
      throw err instanceof IntakeError ? intakeToApi(err, config.smtp.maxMessageBytes, languageOf(res)) : err;
    }
    res.status(202).json(accepted);
  });

  router.get("/messages", requireUser, async (req, res) => {
    const user = currentUser(res);
    const status = req.query.status;
    if (status !== undefined && !STATUSES.includes(status as MessageStatus)) {
      throw new ApiError(400, "bad_request", { detail: `status must be one of ${STATUSES.join(", ")}` });
    }
    if (req.query.approver === "me") {
      const messages = await store.listMessages({
        approver: user.email,
        ...(status ? { status: status as MessageStatus } : {}),
        limit: 500,
      });
      return void res.json({ messages: messages.map(messageSummary) });
    }
    const limit = Math.min(500, Math.max(1, Number(req.query.limit ?? 100) || 100));
    const messages = await store.listMessages({
      ...(user.role === "admin" && req.query.all === "1" ? {} : { userId: user.id, sender: user.email }),
      ...(status ? { status: status as MessageStatus } : {}),
      limit,
    });
    res.json({ messages: messages.filter((m) => canSee(user, m)).map(messageSummary) });
  });

  router.get("/messages/by-message-id/:mid", requireUser, async (req, res) => {
    const user = currentUser(res);
    const mid = String(req.params.mid).replace(/^<|>$/g, "");
    const found = (await store.messagesByMessageId(mid)).find((m) => canSee(user, m));
    if (!found) throw new ApiError(404, "not_found");
    res.json(messageView(found, languageOf(res)));
  });

  /** Own messages, all for admins, and those the caller is asked to approve; 404 otherwise. */
  async function visibleMessage(req: Request, res: Response): Promise<MessageRecord> {
    const user = currentUser(res);
    const message = await store.message(String(req.params.id));
    if (!message) throw new ApiError(404, "not_found");
    if (!canSee(user, message) && !(await store.isApprover(message.id, user.email))) {
      throw new ApiError(404, "not_found");
    }
    return message;
  }

  /**
   * Own messages and, for admins, all: only the sender sends now or cancels. An approver approves or
   * denies (403 not_sender here, as a sender gets 403 not_approver there); anyone else gets 404.
   */
  async function sendersMessage(req: Request, res: Response): Promise<MessageRecord> {
    const user = currentUser(res);
    const message = await visibleMessage(req, res);
    if (!canSee(user, message)) throw new ApiError(403, "not_sender");
    return message;
  }

  router.get("/messages/:id", requireUser, async (req, res) => {
    res.json(messageView(await visibleMessage(req, res), languageOf(res)));
  });

  for (const action of ["release", "discard"] as HeldAction[]) {
    // The whole message, or one recipient group of it (each group is held and released on its own).
    router.post(
      [`/messages/:id/${action}`, `/messages/:id/groups/:group/${action}`],
      requireUser,
      async (req, res) => {
        const message = await sendersMessage(req, res);
        const group = req.params.group === undefined ? null : String(req.params.group);
        if (group !== null && !message.batches.some((g) => g.id === group))
          throw new ApiError(404, "not_found");
        const result = await store.actOnHeld(message.id, action, currentUser(res).email, Date.now(), group);
        if (result.outcome === "releasing") throw new ApiError(409, "already_releasing");
        if (result.outcome === "final") throw new ApiError(409, "already_final", { status: result.status });
        if (action === "release") deps.onReleased();
        res.json({ id: message.id, status: result.status });
      },
    );
  }

  for (const verdict of ["approve", "deny"] as const) {
    router.post(`/messages/:id/${verdict}`, requireUser, smallJson, async (req, res) => {
      const user = currentUser(res);
      const message = await store.message(String(req.params.id));
      if (!message) throw new ApiError(404, "not_found");
      if (!(await store.isApprover(message.id, user.email))) {
        throw new ApiError(
          canSee(user, message) ? 403 : 404,
          canSee(user, message) ? "not_approver" : "not_found",
        );
      }
      const body = req.body as { comment?: unknown } | undefined;
      const comment = typeof body?.comment === "string" ? body.comment : "";
      const result = await decideApproval(store, message, user.email, verdict === "approve", comment);
      if (result.outcome !== "ok") throw new ApiError(409, "already_final", { status: result.status });
      deps.onReleased(); // approved groups may be due, and either way a notice is queued
      res.json({ id: message.id, status: result.status });
    });
  }

  return router;
}
