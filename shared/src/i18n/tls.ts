// A recipient TLS check in words, for the sender reading why a copy kept or lost its attachments.
import type { Language, TlsCheck } from "../api/types.js";
import { t } from "./index.js";

export function tlsSummary(lang: Language, check: TlsCheck): string {
  const { domain } = check;
  const certificate = check.subject ?? check.host ?? domain;
  const mtaSts = check.mtaSts;
  // Offered with no certificate error: the certificate verified, but an enforced policy does not list the host.
  const unlisted =
    check.tls === "offered" &&
    check.verifyError === undefined &&
    mtaSts?.mode === "enforce" &&
    !mtaSts.mxMatches;
  const main = unlisted
    ? t(lang, "tls.unlisted", { domain, subject: certificate })
    : check.tls === "verified"
      ? t(lang, "tls.verified", { domain, subject: certificate })
      : check.tls === "offered"
        ? t(lang, "tls.offered", { domain, subject: certificate, reason: check.verifyError ?? "?" })
        : check.error !== undefined || check.host === undefined
          ? t(lang, "tls.failed", { domain, error: check.error ?? "?" })
          : t(lang, "tls.none", { domain, host: check.host });
  if (!mtaSts) return main;
  const vars = { mode: mtaSts.mode, host: check.host ?? domain };
  const extra =
    mtaSts.error !== undefined
      ? t(lang, "tls.mtaSts.error")
      : mtaSts.mxMatches || mtaSts.mode === "none"
        ? t(lang, "tls.mtaSts", vars)
        : t(lang, "tls.mtaSts.unlisted", vars);
  return `${main}; ${extra}`;
}
