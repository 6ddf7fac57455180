// The transform's parts put together for the gateway: separation and its notice (separate/), the
// encrypted ZIP (zip/), the download centre (downloads/) and the recipient TLS probe.
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { finished } from "node:stream/promises";
import { Encoder } from "libbase64";
import { encodeWords } from "nodemailer/lib/mime-funcs";
import type { TlsProbe } from "../../delivery/tls-probe.js";
import type { DownloadService } from "../../downloads/service.js";
import { generatePassword } from "../../downloads/password.js";
import { displayName, separationNotice } from "./separate/notice.js";
import { rewriteAttachments } from "./separate/rewrite.js";
import type { Separator } from "./separate/separator.js";
import { createEncryptedZip } from "./zip/index.js";
import type { CopyTools } from "./copies.js";
import { t, type Language } from "@sendguard/shared";

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
      return (await separator.separateFile(task)).attachments;
    },

    async separate(inputPath, outputPath, notice) {
      // The attachments were stored already: this run only writes the recipient's copy.
      const scratch = await mkdtemp(`${outputPath}.files-`);
      try {
        await separator.separateFile({ inputPath, outputPath, attachmentsDir: scratch, notice, language });
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    },

    async replaceWithZip(inputPath, outputPath, zipPath, zipName) {
      const name = encodeWords(zipName, "B", 0, true);
      await rewriteAttachments({
        input: createReadStream(inputPath, { highWaterMark: 64 * 1024 }),
        output: createWriteStream(outputPath, { flags: "wx" }),
        onAttachment: async (_info, content) => {
          content.resume(); // packed in the ZIP already
          await finished(content);
        },
        placeholder: ({ filename }) =>
          t(language, "separate.zipped", { name: displayName(filename), zip: zipName }),
        appendParts: async () => [
          {
            headers: [
              `Content-Type: application/zip; name="${name}"`,
              "Content-Transfer-Encoding: base64",
              `Content-Disposition: attachment; filename="${name}"`,
            ].join("\r\n"),
            body: createReadStream(zipPath, { highWaterMark: 64 * 1024 }).pipe(new Encoder()),
          },
        ],
      });
    },

    async zip(files, password, encryption, outputPath) {
      await createEncryptedZip({
        files: files.map((f) => ({ path: f.path, name: f.filename })),
        password,
        encryption,
        outputPath,
      });
    },

    async createDownload(input) {
      const created = await downloads.createDownloadPackage({
        messageId: input.messageId,
        ownerUserId: input.ownerUserId,
        files: input.files.map((f) => ({ path: f.path, name: f.filename, contentType: f.contentType })),
        recipients: input.recipients,
        auth: input.password ? { mode: "password", password: input.password } : { mode: "otp" },
        expiresAt: input.expiresAt,
        ...(input.maxDownloads > 0 ? { maxDownloads: input.maxDownloads } : {}),
        notifyFirst: input.notifySender,
      });
      return { downloadId: created.packageId, links: created.links };
    },

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
        ...(result.error ? { error: result.error } : {}),
      };
    },

    password: generatePassword,
  };
}
