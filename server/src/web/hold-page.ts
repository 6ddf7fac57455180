// The capability page linked from the hold notice: shows the held message with a countdown and lets
// the sender send it now or cancel it. POSTs carry a CSRF token bound to the message.
import { formatLocalTime, t, type AttachmentAction, type Language } from "@sendguard/shared";
import express, { type Request, type Response, Router } from "express";
import type { Config } from "../config/schema.js";
import type { Links } from "../links.js";
import { safeEqual } from "../secrets.js";
import type { HeldAction, MessageRecord, Store } from "../store/types.js";
import { errorsAsPage, esc, pageLanguage, sendNotFound, sendPage } from "./html.js";
import { messageHasAttachments } from "./message-attachments.js";
import { copyView, releaseAt } from "./views.js";

export interface HoldPageDeps {
  config: Config;
  store: Store;
  links: Links;
  onReleased: () => void;
}

type Done = "released" | "discarded" | "already_releasing" | "already_final" | "csrf";

export function holdRouter(deps: HoldPageDeps): Router {
  const { config, store, links } = deps;
  const router = Router();
  router.use("/hold", errorsAsPage("page.title", config.organization.language));
  const form = express.urlencoded({ extended: false, limit: "4kb", parameterLimit: 10 });

  async function load(req: Request): Promise<MessageRecord | undefined> {
    const id = String(req.params.id);
    if (!links.verifyHold(id, String(req.params.sig))) return undefined;
    return store.message(id);
  }

  function notFound(req: Request, res: Response): void {
    sendNotFound(res, pageLanguage(req, undefined, config.organization.language), "page.title");
  }

  router.get("/hold/:id/:sig", async (req, res) => {
    const message = await load(req);
    if (!message) return notFound(req, res);
    const lang = pageLanguage(req, message, config.organization.language);
    const done = typeof req.query.done === "string" ? (req.query.done as Done) : null;
    const due = releaseAt(message);
    const tz = config.organization.timezone;
    const recipients = message.batches.flatMap((g) => g.recipients.map((r) => r.address));
    const base = `/hold/${esc(message.id)}/${esc(String(req.params.sig))}`;
    const csrf = links.holdCsrf(message.id);
    const other: Language = lang === "ja" ? "en" : "ja";
    const doneText =
      done === "released" || done === "discarded"
        ? `<div class="notice" role="status">${esc(t(lang, `page.done.${done}`))}</div>`
        : done === "already_releasing" || done === "already_final" || done === "csrf"
          ? `<div class="notice error" role="alert">${esc(t(lang, `error.${done}`, { status: t(lang, `status.${message.status}`) }))}</div>`
          : "";
    const held = message.status === "held";
    const bodyGone = (testId: string, key: "page.bodyDeleted" | "page.bodyMissing", at: number) =>
      `\n<dt>${esc(t(lang, "page.body"))}</dt><dd data-testid="${testId}">${esc(t(lang, key, { time: formatLocalTime(new Date(at), tz) }))}</dd>`;
    const bodyDeleted =
      message.bodyDeletedAt !== null
        ? bodyGone("body-deleted", "page.bodyDeleted", message.bodyDeletedAt)
        : message.bodyMissingAt !== null
          ? bodyGone("body-missing", "page.bodyMissing", message.bodyMissingAt)
          : "";
    // Shown once some copy would not be the message as it came: who gets their attachments how —
    // as planned, and once the copies are made, as made (with the TLS checks that decided them) —
    // or that there are none to treat.
    const attachmentLine = (recipients: string[], action: AttachmentAction, tls: string[] = []) =>
      `<div>${esc(recipients.join(", "))}: ${esc(t(lang, `attachments.${action}`))}${tls
        .map((summary) => `<div class="tls" data-testid="tls">${esc(summary)}</div>`)
        .join("")}</div>`;
    const treated = message.batches.some((g) => g.attachmentAction !== "pass");
    const has = treated ? await messageHasAttachments(message, store, config.dataDir) : null;
    const lines = () =>
      message.batches
        .flatMap((g) =>
          g.copies.length
            ? g.copies
                .map((c) => copyView(c, lang))
                .map((c) =>
                  attachmentLine(
                    c.recipients,
                    c.action,
                    c.tls?.map((check) => check.summary),
                  ),
                )
            : [
                attachmentLine(
                  g.recipients.map((r) => r.address),
                  g.attachmentAction,
                ),
              ],
        )
        .join("");
    const attachments = !treated
      ? ""
      : `\n<dt>${esc(t(lang, "page.attachments"))}</dt><dd data-testid="attachments">${
          has === false ? esc(t(lang, "page.noAttachments")) : lines()
        }</dd>`;
    sendPage(res, 200, {
      lang,
      title: t(lang, "page.title"),
      body: (nonce) => `
<a class="lang" href="${base}?lang=${other}">${other === "ja" ? "日本語" : "English"}</a>
<h1>${esc(t(lang, "page.title"))}</h1>${doneText}
<dl>
<dt>${esc(t(lang, "page.subject"))}</dt><dd data-testid="subject">${esc(message.subject)}</dd>
<dt>${esc(t(lang, "page.recipients"))}</dt><dd>${esc(recipients.join(", "))}</dd>${attachments}
<dt>${esc(t(lang, "page.status"))}</dt><dd data-testid="status">${esc(t(lang, `status.${message.status}`))}</dd>
<dt>${esc(t(lang, "page.releaseAt"))}</dt><dd>${esc(formatLocalTime(new Date(due), tz))}</dd>${bodyDeleted}
</dl>
${
  held
    ? `<div>${esc(t(lang, "page.remaining"))}</div>
<div class="countdown" data-testid="countdown" data-due="${due}" data-start="${message.createdAt}">--:--</div>
<div class="bar"><div id="progress"></div></div>
<div class="actions">
<form method="post" action="${base}/release?lang=${lang}"><input type="hidden" name="csrf" value="${csrf}"><button class="primary" type="submit">${esc(t(lang, "page.sendNow"))}</button></form>
<form method="post" action="${base}/discard?lang=${lang}" id="discard"><input type="hidden" name="csrf" value="${csrf}"><button class="danger" type="submit">${esc(t(lang, "page.discard"))}</button></form>
</div>
<script nonce="${nonce}">
(function(){var el=document.querySelector('[data-testid=countdown]'),bar=document.getElementById('progress');
var due=Number(el.dataset.due),start=Number(el.dataset.start);
function tick(){var left=Math.max(0,due-Date.now()),s=Math.ceil(left/1000);
el.textContent=Math.floor(s/60)+':'+String(s%60).padStart(2,'0');
bar.style.width=(100*Math.min(1,(Date.now()-start)/Math.max(1,due-start)))+'%';
if(left<=0){clearInterval(timer);setTimeout(function(){location.reload()},1500);}}
var timer=setInterval(tick,1000);tick();
document.getElementById('discard').addEventListener('submit',function(e){if(!confirm(${JSON.stringify(t(lang, "page.discardConfirm"))}))e.preventDefault();});})();
</script>`
    : ""
}`,
    });
  });

  for (const action of ["release", "discard"] as HeldAction[]) {
    router.post(`/hold/:id/:sig/${action}`, form, async (req, res) => {
      const message = await load(req);
      if (!message) return notFound(req, res);
      const lang = pageLanguage(req, message, config.organization.language);
      const back = `/hold/${message.id}/${String(req.params.sig)}?lang=${lang}&done=`;
      const token = (req.body as { csrf?: unknown } | undefined)?.csrf;
      if (typeof token !== "string" || !safeEqual(token, links.holdCsrf(message.id)))
        return res.redirect(303, `${back}csrf`);
      const result = await store.actOnHeld(message.id, action, `${message.sender} (hold link)`, Date.now());
      if (result.outcome === "ok" && action === "release") deps.onReleased();
      const done: Done =
        result.outcome === "ok"
          ? action === "release"
            ? "released"
            : "discarded"
          : `already_${result.outcome}`;
      res.redirect(303, back + done);
    });
  }
  return router;
}
