// The approver's page linked from the approval request: the message's facts and Approve / Deny with
// a comment. The link is per approver (HMAC over message and approver); POSTs carry a CSRF token.
import { formatLocalTime, t } from "@sendguard/shared";
import express, { type Request, type Response, Router } from "express";
import { decideApproval } from "../approval.js";
import type { Config } from "../config/schema.js";
import type { Links } from "../links.js";
import { safeEqual } from "../secrets.js";
import type { MessageRecord, Store } from "../store/types.js";
import { errorsAsPage, esc, pageLanguage, sendNotFound, sendPage } from "./html.js";

export interface ApprovePageDeps {
  config: Config;
  store: Store;
  links: Links;
  onReleased: () => void;
}

/** What the page says after a decision; any other ?done= (a hand-edited link) says nothing. */
const DONE = ["approved", "denied", "already_final", "csrf"] as const;

export function approveRouter(deps: ApprovePageDeps): Router {
  const { config, store, links } = deps;
  const router = Router();
  router.use("/approve", errorsAsPage("page.approvalTitle", config.organization.language));
  const form = express.urlencoded({ extended: false, limit: "8kb", parameterLimit: 10 });
  const path = "/approve/:id/:approver/:sig";

  async function load(req: Request): Promise<{ message: MessageRecord; approver: string } | undefined> {
    const id = String(req.params.id);
    const approver = String(req.params.approver).toLowerCase();
    if (!links.verifyApprove(id, approver, String(req.params.sig))) return undefined;
    if (!(await store.isApprover(id, approver))) return undefined;
    // A link mailed before an admin disabled the approver's account stops working with it.
    if ((await store.userByEmail(approver))?.disabledAt) return undefined;
    const message = await store.message(id);
    return message && { message, approver };
  }

  const language = (req: Request, message?: MessageRecord) =>
    pageLanguage(req, message, config.organization.language);

  function notFound(req: Request, res: Response): void {
    sendNotFound(res, language(req), "page.approvalTitle");
  }

  router.get(path, async (req, res) => {
    const found = await load(req);
    if (!found) return notFound(req, res);
    const { message, approver } = found;
    const lang = language(req, message);
    const base = `/approve/${esc(message.id)}/${esc(encodeURIComponent(approver))}/${esc(String(req.params.sig))}`;
    const csrf = links.approveCsrf(message.id, approver);
    const done = DONE.find((value) => value === req.query.done) ?? null;
    const doneText =
      done === "approved" || done === "denied"
        ? `<div class="notice" role="status">${esc(t(lang, `page.done.${done}`))}</div>`
        : done
          ? `<div class="notice error" role="alert">${esc(t(lang, `error.${done}`, { status: t(lang, `status.${message.status}`) }))}</div>`
          : "";
    const recipients = message.batches.flatMap((g) => g.recipients.map((r) => r.address));
    const pending = message.status === "pending_approval";
    sendPage(res, 200, {
      lang,
      title: t(lang, "page.approvalTitle"),
      body: () => `
<a class="lang" href="${base}?lang=${lang === "ja" ? "en" : "ja"}">${lang === "ja" ? "English" : "日本語"}</a>
<h1>${esc(t(lang, "page.approvalTitle"))}</h1>${doneText}
<dl>
<dt>${esc(t(lang, "page.sender"))}</dt><dd data-testid="from">${esc(message.fromHeader)}</dd>
<dt>${esc(t(lang, "page.envelopeSender"))}</dt><dd data-testid="envelope-sender">${esc(message.sender)}</dd>
<dt>${esc(t(lang, "page.subject"))}</dt><dd data-testid="subject">${esc(message.subject)}</dd>
<dt>${esc(t(lang, "page.recipients"))}</dt><dd>${esc(recipients.join(", "))}</dd>
<dt>${esc(t(lang, "page.rules"))}</dt><dd>${esc(message.matchedRules.join(", "))}</dd>
<dt>${esc(t(lang, "page.status"))}</dt><dd data-testid="status">${esc(t(lang, `status.${message.status}`))}</dd>
${message.approvalDeadline ? `<dt>${esc(t(lang, "approval.deadline", { time: "" }).replace(/[:：]\s*$/, ""))}</dt><dd>${esc(formatLocalTime(new Date(message.approvalDeadline), config.organization.timezone))}</dd>` : ""}
</dl>
${
  pending
    ? `<form method="post" action="${base}/decide?lang=${lang}">
<input type="hidden" name="csrf" value="${csrf}">
<label>${esc(t(lang, "page.comment"))}<br><textarea name="comment" rows="3" cols="60" maxlength="2000"></textarea></label>
<div class="actions"><button class="primary" name="verdict" value="approve" type="submit">${esc(t(lang, "page.approve"))}</button>
<button class="danger" name="verdict" value="deny" type="submit">${esc(t(lang, "page.deny"))}</button></div>
</form>`
    : ""
}`,
    });
  });

  router.post(`${path}/decide`, form, async (req, res) => {
    const found = await load(req);
    if (!found) return notFound(req, res);
    const { message, approver } = found;
    const lang = language(req, message);
    const back = `/approve/${message.id}/${encodeURIComponent(approver)}/${String(req.params.sig)}?lang=${lang}&done=`;
    const body = (req.body ?? {}) as { csrf?: unknown; verdict?: unknown; comment?: unknown };
    if (typeof body.csrf !== "string" || !safeEqual(body.csrf, links.approveCsrf(message.id, approver))) {
      return res.redirect(303, `${back}csrf`);
    }
    if (body.verdict !== "approve" && body.verdict !== "deny") return res.redirect(303, `${back}csrf`);
    const approve = body.verdict === "approve";
    const comment = typeof body.comment === "string" ? body.comment : "";
    const result = await decideApproval(store, message, `${approver} (approval link)`, approve, comment);
    if (result.outcome === "ok") deps.onReleased(); // due groups or a queued notice
    res.redirect(303, back + (result.outcome === "ok" ? (approve ? "approved" : "denied") : "already_final"));
  });
  return router;
}
