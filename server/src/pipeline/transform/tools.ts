// The transform's parts put together for the gateway: separation and its notice (separate/), the
// encrypted ZIP (zip/), the download centre (downloads/) and the recipient TLS probe.
import { mkdtemp, rm } from "node:fs/promises";
import type { TlsProbe } from "../../delivery/tls-probe.js";
import type { DownloadService } from "../../downloads/service.js";
import { generatePassword } from "../../downloads/password.js";
import { separationNotice } from "./separate/notice.js";
import type { Separator } from "./separate/separator.js";
import type { CopyTools } from "./copies.js";
import type { Language } from "@sendguard/shared";

export interface CopyToolsOptions {
  separator: Separator;
  downloads: DownloadService;
  probe: TlsProbe;
  /** The organisation's zone: expiry times in notices. */
  timeZone: string;
  /** Language of placeholders left in place of removed attachments. */
  language: Language;
}

export function createCopyTools(options: CopyToolsOptions): CopyTools {
  const { separator, downloads, probe, timeZone, language } = options;
  return {
    async extract(inputPath, outputPath, attachmentsDir) {
      const task = { inputPath, outputPath, attachmentsDir, language, openTnef: true };
      const result = await separator.separateFile(task);
      return { files: result.attachments, placeholders: result.placeholderParts };
    },

    async addNotice(extracted, outputPath, notice) {
      // The attachments are out already, so this run reads the small separated message; the scratch
      // directory is for a part it would still take out (none: it sees what the first run left).
      const scratch = await mkdtemp(`${outputPath}.files-`);
      try {
        await separator.separateFile({
          inputPath: extracted.path,
          outputPath,
          attachmentsDir: scratch,
          notice,
          placeholders: extracted.placeholders,
          language,
        });
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    },

    async replaceWithZip(inputPath, outputPath, zipPath, zipName) {
      await separator.replaceWithZip({ inputPath, outputPath, zipPath, zipName, language });
    },

    async zip(files, password, encryption, outputPath) {
      await separator.zip({
        files: files.map((f) => ({ path: f.path, name: f.filename })),
        password,
        encryption,
        outputPath,
      });
    },

    async prepareDownload(input) {
      const prepared = await downloads.prepareDownloadPackage({
        messageId: input.messageId,
        ownerUserId: input.ownerUserId,
        files: input.files.map((f) => ({ path: f.path, name: f.filename, contentType: f.contentType })),
        recipients: input.recipients,
        auth: input.password ? { mode: "password", password: input.password } : { mode: "otp" },
        expiresAt: input.expiresAt,
        ...(input.maxDownloads > 0 ? { maxDownloads: input.maxDownloads } : {}),
        notifyFirst: input.notifySender,
      });
      return { downloadId: prepared.packageId, links: prepared.links, record: prepared.record };
    },

    discardDownload: (record) => downloads.discard(record),

    notice(input) {
      return separationNotice({
        language: input.language,
        url: input.url,
        recipient: input.recipient,
        files: input.files.map((f) => ({ name: f.filename, size: f.size })),
        expiresAt: new Date(input.expiresAt),
        timeZone,
        access: input.access,
      });
    },

    async tls(domain) {
      const result = await probe.probe(domain);
      return {
        domain: result.domain,
        tls: result.tls,
        ...(result.host ? { host: result.host } : {}),
        ...(result.certificate ? { subject: result.certificate.subject } : {}),
        ...(result.verifyError ? { verifyError: result.verifyError } : {}),
        ...(result.mtaSts ? { mtaSts: result.mtaSts } : {}),
        ...(result.error ? { error: result.error } : {}),
        checkedAt: result.checkedAt,
      };
    },

    password: generatePassword,
  };
}
