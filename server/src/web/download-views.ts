// The HTML of the download centre's pages (download-page.ts): sign-in (password or one-time code),
// the list of files, and the page of a link that ended. Every value is escaped; no script.
import { formatLocalTime, formatSize, t, type Language, type MessageKey } from "@sendguard/shared";
import type { Response } from "express";
import type { LinkEnd } from "../downloads/access.js";
import type { DownloadFileRecord, DownloadLinkRecord, DownloadPackageRecord } from "../store/types.js";
import { esc, sendPage } from "./html.js";

/** What the previous POST said, carried in ?e= across its redirect. */
export type PageNotice =
  "wrong_password" | "wrong_code" | "no_code" | "code_sent" | "locked" | "resend_wait" | "busy" | "csrf";

export interface PageContext {
  lang: Language;
  timeZone: string;
  /** /d/TOKEN */
  base: string;
  csrf: string;
  pkg: DownloadPackageRecord;
  link: DownloadLinkRecord;
}

function languageSwitch(base: string, lang: Language): string {
  const other: Language = lang === "ja" ? "en" : "ja";
  return `<a class="lang" href="${esc(base)}?lang=${other}">${other === "ja" ? "日本語" : "English"}</a>`;
}

function noticeHtml(
  lang: Language,
  notice: PageNotice | null,
  vars: Record<string, string | number>,
): string {
  if (!notice) return "";
  const keys: Record<PageNotice, MessageKey> = {
    wrong_password: "download.wrongPassword",
    wrong_code: "download.wrongCode",
    no_code: "download.noCode",
    code_sent: "download.codeSent",
    locked: "download.locked",
    resend_wait: "download.resendWait",
    busy: "download.busy",
    csrf: "error.csrf",
  };
  const good = notice === "code_sent";
  return `<div class="notice${good ? "" : " error"}" role="${good ? "status" : "alert"}" data-testid="notice">${esc(t(lang, keys[notice], vars))}</div>`;
}

const hidden = (csrf: string) => `<input type="hidden" name="csrf" value="${esc(csrf)}">`;

/** The password form, or the one-time code forms. */
export function sendSignIn(
  res: Response,
  ctx: PageContext,
  notice: PageNotice | null,
  vars: Record<string, string | number>,
): void {
  const { lang, base, csrf, pkg, link } = ctx;
  const action = (path: string) => `${esc(base)}/${path}?lang=${lang}`;
  const status = notice === "locked" ? 429 : 200;
  const form =
    pkg.authMode === "password"
      ? `<p>${esc(t(lang, "download.passwordHint"))}</p>
<form method="post" action="${action("password")}">${hidden(csrf)}
<label>${esc(t(lang, "download.password"))} <input type="password" name="password" autocomplete="off" required maxlength="1024" data-testid="password"></label>
<button class="primary" type="submit" data-testid="open">${esc(t(lang, "download.open"))}</button></form>`
      : `<p>${esc(t(lang, "download.codeIntro", { recipient: link.recipient }))}</p>
<form method="post" action="${action("code")}">${hidden(csrf)}<button type="submit" data-testid="send-code">${esc(t(lang, "download.sendCode"))}</button></form>
<form method="post" action="${action("verify")}">${hidden(csrf)}
<label>${esc(t(lang, "download.code"))} <input name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="20" data-testid="code"></label>
<button class="primary" type="submit" data-testid="open">${esc(t(lang, "download.open"))}</button></form>`;
  sendPage(res, status, {
    lang,
    title: t(lang, "download.title"),
    body: () => `${languageSwitch(base, lang)}
<h1>${esc(t(lang, "download.title"))}</h1>
${noticeHtml(lang, notice, { recipient: link.recipient, ...vars })}
<p>${esc(t(lang, "download.intro", { recipient: link.recipient }))}</p>
${form}`,
  });
}

/** The files a signed-in recipient may download, with sizes and the expiry. */
export function sendFileList(res: Response, ctx: PageContext, files: DownloadFileRecord[]): void {
  const { lang, base, pkg, link, timeZone } = ctx;
  const left = pkg.maxDownloads === null ? null : pkg.maxDownloads - link.downloadCount;
  const rows = files
    .map(
      (
        f,
      ) => `<tr data-testid="file"><td class="name">${esc(f.name)}</td><td>${esc(formatSize(f.size, lang))}</td>
<td><a href="${esc(base)}/f/${esc(f.id)}" download data-testid="download">${esc(t(lang, "download.file"))}</a></td></tr>`,
    )
    .join("\n");
  sendPage(res, 200, {
    lang,
    title: t(lang, "download.title"),
    body: () => `${languageSwitch(base, lang)}
<h1>${esc(t(lang, "download.title"))}</h1>
<p>${esc(t(lang, "download.intro", { recipient: link.recipient }))}</p>
<p data-testid="expires">${esc(t(lang, "download.expires", { time: formatLocalTime(new Date(pkg.expiresAt), timeZone) }))}</p>
${left === null ? "" : `<p data-testid="remaining">${esc(t(lang, "download.remaining", { count: left }))}</p>`}
<table><thead><tr><th>${esc(t(lang, "download.name"))}</th><th>${esc(t(lang, "download.size"))}</th><th></th></tr></thead>
<tbody>
${rows}
</tbody></table>
<p><a class="button primary" href="${esc(base)}/all.zip" download data-testid="download-all">${esc(t(lang, "download.all"))}</a></p>`,
  });
}

/** 410: the link was stopped, ran out, reached its limit, or has no file left. */
export function sendEnded(
  res: Response,
  lang: Language,
  timeZone: string,
  end: Exclude<LinkEnd, null>,
  pkg: DownloadPackageRecord,
): void {
  const keys: Record<Exclude<LinkEnd, null>, MessageKey> = {
    stopped: "download.stopped",
    expired: "download.expired",
    limit: "download.limit",
    no_files: "download.noFiles",
  };
  sendPage(res, 410, {
    lang,
    title: t(lang, "download.title"),
    body: () => `<h1>${esc(t(lang, "download.title"))}</h1>
<div class="notice error" role="alert" data-testid="ended" data-reason="${end}">${esc(t(lang, keys[end], { time: formatLocalTime(new Date(pkg.expiresAt), timeZone) }))}</div>
<p>${esc(t(lang, "download.contact"))}</p>`,
  });
}
