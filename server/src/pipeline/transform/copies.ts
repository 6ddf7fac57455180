// The transform step: the copies a batch is delivered as, made when the batch is first released
// (not at intake: the recipients' TLS is probed right before release, and a message undone while
// held never leaves files in the download centre). Made once and recorded with the batch, so a
// retry or a restart sends the same bytes with the same links.
//   pass         → the message as it came
//   encrypt_zip  → one copy: the attachments replaced by one encrypted ZIP; password noticed apart
//   web_download → one copy per recipient: attachments separated once and stored in the download
//                  centre; each recipient's copy is the separated message with a notice (their
//                  own link) added at the top of its text and HTML body
// The copies' files are fsynced, then recorded with their download package in one transaction: a
// crash before it leaves files that the next attempt (or the sweep at start, copies-sweep.ts)
// removes, and no package whose links nobody got.
import { randomUUID } from "node:crypto";
import { access, mkdir, open, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { domainOf, type AttachmentSettings, type Language } from "@sendguard/shared";
import { COPIES_DIR, missingSpoolFile, spoolName, type Spool } from "../../store/spool.js";
import { tlsMeetsRequirement } from "../../delivery/tls-probe-result.js";
import { crashPoint } from "../../crash-point.js";
import { SeparationError } from "./separate/errors.js";
import type {
  AuditEntry,
  BatchRecord,
  CopyDetail,
  MessageRecord,
  NewCopy,
  NewDownloadPackage,
  Store,
} from "../../store/types.js";

/** An attachment taken out of a message, in a file of its own. */
export interface SeparatedFile {
  filename: string;
  contentType: string;
  size: number;
  path: string;
}

/** A message with its attachments taken out: the files, and which parts of the rest are placeholders. */
export interface Extracted {
  files: SeparatedFile[];
  placeholders: number[];
}

/** The parts the transform is made of; each is its own module (separate/, zip/, downloads/, tls-probe). */
export interface CopyTools {
  /** Takes the attachments out of `inputPath` into `attachmentsDir`, writing the rest to `outputPath`. */
  extract(inputPath: string, outputPath: string, attachmentsDir: string): Promise<Extracted>;
  /** extract()'s output with the notice added where separating the original with it would put it. */
  addNotice(
    extracted: { path: string; placeholders: number[] },
    outputPath: string,
    notice: { text: string; html: string },
  ): Promise<void>;
  /** `inputPath` with its attachments replaced by one part made of `zipPath`. */
  replaceWithZip(inputPath: string, outputPath: string, zipPath: string, zipName: string): Promise<void>;
  zip(
    files: SeparatedFile[],
    password: string,
    encryption: "aes256" | "zipcrypto",
    outputPath: string,
  ): Promise<void>;
  /** Stores the files in the download centre; the package's rows are committed with the copies. */
  prepareDownload(input: {
    messageId: string;
    ownerUserId: number | null;
    files: SeparatedFile[];
    recipients: string[];
    password: string | null;
    expiresAt: number;
    maxDownloads: number;
    /** "[ダウンロード通知]" to the sender at each link's first download. */
    notifySender: boolean;
  }): Promise<{
    downloadId: string;
    links: { recipient: string; url: string }[];
    record: NewDownloadPackage;
  }>;
  /** Removes the stored files of a prepared download whose rows were not committed. */
  discardDownload(record: NewDownloadPackage): Promise<void>;
  notice(input: {
    language: Language;
    url: string;
    recipient: string;
    files: SeparatedFile[];
    expiresAt: number;
    access: "password" | "code";
  }): { text: string; html: string };
  tls(domain: string): Promise<NonNullable<CopyDetail["tls"]>[number]>;
  password(length: number): string;
}

export interface CopyMakerOptions {
  spool: Spool;
  store: Store;
  tools: CopyTools;
  /** The sender's attachment settings now (the policy at release). */
  settingsFor: (message: MessageRecord) => Promise<AttachmentSettings>;
  now?: () => number;
}

const ZIP_NAME = "attachments.zip";
const ORIGINAL = "original.eml";
/** The message with its attachments taken out, before any recipient's notice is added. */
const EXTRACTED = "extracted.eml";
const DAY = 86_400_000;
/** How much of a file's start is read for its header. */
const HEAD_BYTES = 256 * 1024;

/** S/MIME or PGP: the attachments cannot be rewritten without breaking the signature. */
export function isSigned(err: unknown): boolean {
  return err instanceof SeparationError && err.code === "signed_or_encrypted";
}

/** Writes a file and makes its data durable before it is recorded. */
async function durably(path: string, write: () => Promise<void>): Promise<void> {
  await write();
  const file = await open(path, "r");
  try {
    await file.datasync();
  } finally {
    await file.close();
  }
}

/** What make() has made so far: the copies, and the download package their links belong to. */
interface Made {
  copies: NewCopy[];
  download: NewDownloadPackage | null;
}

export class CopyMaker {
  constructor(private readonly options: CopyMakerOptions) {}

  /** The sender's attachment settings now: the password notice follows them too. */
  settingsFor(message: MessageRecord): Promise<AttachmentSettings> {
    return this.options.settingsFor(message);
  }

  /** The copies of `batch`: those recorded, or made and recorded now. */
  async copiesFor(message: MessageRecord, batch: BatchRecord): Promise<NewCopy[]> {
    if (batch.copies.length || batch.attachmentAction === "pass") return batch.copies;
    const { spool, store, tools } = this.options;
    const dir = join(spool.dir, COPIES_DIR, message.id, batch.id);
    // What a crash left half made is made again: nothing of it was recorded or sent.
    await rm(dir, { recursive: true, force: true });
    await mkdir(join(dir, "files"), { recursive: true });
    const made: Made = { copies: [], download: null };
    try {
      await this.make(message, batch, dir, made);
      const dirHandle = await open(dir, "r");
      await dirHandle.sync().finally(() => dirHandle.close());
      crashPoint("copies_written");
      const audit: AuditEntry[] = [
        {
          actor: "scheduler",
          action: "copies_made",
          messageId: message.id,
          detail: {
            group: batch.name,
            copies: made.copies.map((c) => ({ recipients: c.recipients, action: c.action, ...c.detail })),
          },
        },
      ];
      await store.addCopies(batch.id, made.copies, audit, this.now(), made.download ?? undefined);
      crashPoint("copies_committed");
      return made.copies;
    } catch (err) {
      if (made.download) await tools.discardDownload(made.download);
      throw err;
    } finally {
      // The separated plain files went into the download centre or the ZIP, and a small message's
      // body is in the database: neither is kept here.
      await rm(join(dir, "files"), { recursive: true, force: true });
      await rm(join(dir, ORIGINAL), { force: true });
      await rm(join(dir, EXTRACTED), { force: true });
    }
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Makes the copies into `made` (so that a download prepared before a failure is discarded). */
  private async make(message: MessageRecord, batch: BatchRecord, dir: string, made: Made): Promise<void> {
    const { tools } = this.options;
    const settings = await this.options.settingsFor(message);
    const pending = batch.recipients.filter((r) => r.status === "pending").map((r) => r.address);
    const { copies } = made;
    const unchanged = (
      recipients: string[],
      because: CopyDetail["unchangedBecause"],
      detail: CopyDetail = {},
    ) =>
      copies.push({
        id: randomUUID(),
        recipients,
        action: "pass",
        file: null,
        headerBytes: message.headerBytes,
        detail: { ...detail, unchangedBecause: because },
        password: null,
      });

    let rest = pending;
    // Each copy keeps the probe results of its recipients' domains: why it kept or lost its files.
    let checked = (_recipients: string[]): CopyDetail => ({});
    const requirement = settings.unlessTls;
    if (requirement) {
      const byDomain = new Map<string, Awaited<ReturnType<CopyTools["tls"]>>>();
      for (const domain of new Set(pending.map(domainOf))) byDomain.set(domain, await tools.tls(domain));
      checked = (recipients) => ({
        tls: [...new Set(recipients.map(domainOf))].flatMap((domain) => byDomain.get(domain) ?? []),
      });
      const exempt = new Set(
        [...byDomain].filter(([, tls]) => tlsMeetsRequirement(tls, requirement)).map(([d]) => d),
      );
      const exemptRecipients = pending.filter((a) => exempt.has(domainOf(a)));
      rest = pending.filter((a) => !exempt.has(domainOf(a)));
      if (exemptRecipients.length) unchanged(exemptRecipients, "tls", checked(exemptRecipients));
    }
    if (!rest.length) return;

    const original = await this.originalPath(message, dir);
    if (await isPlainText(original, message.headerBytes)) {
      unchanged(rest, "no_attachments", checked(rest));
      return;
    }
    const extractedPath = join(dir, EXTRACTED);
    let extracted: Extracted;
    try {
      extracted = await tools.extract(original, extractedPath, join(dir, "files"));
    } catch (err) {
      if (!isSigned(err) || settings.signedMessages !== "pass") throw err;
      unchanged(rest, "signed", checked(rest));
      return;
    }
    const { files } = extracted;
    if (!files.length) {
      unchanged(rest, "no_attachments", checked(rest));
      return;
    }
    const listed = files.map((f) => ({ name: f.filename, size: f.size }));

    if (batch.attachmentAction === "encrypt_zip") {
      const password = tools.password(settings.password.length);
      const zipPath = join(dir, ZIP_NAME);
      await tools.zip(files, password, settings.zip.encryption, zipPath);
      crashPoint("zip_written");
      const name = "zip.eml";
      await durably(join(dir, name), () =>
        tools.replaceWithZip(original, join(dir, name), zipPath, ZIP_NAME),
      );
      await rm(zipPath, { force: true });
      copies.push({
        id: randomUUID(),
        recipients: rest,
        action: "encrypt_zip",
        file: join(message.id, batch.id, name),
        headerBytes: await headerLength(join(dir, name)),
        detail: {
          files: listed,
          zip: { name: ZIP_NAME, encryption: settings.zip.encryption },
          ...checked(rest),
        },
        password,
      });
      return;
    }

    const password = settings.download.auth === "password" ? tools.password(settings.password.length) : null;
    const expiresAt = this.now() + settings.download.expiryDays * DAY;
    const download = await tools.prepareDownload({
      messageId: message.id,
      ownerUserId: message.userId,
      files,
      recipients: rest,
      password,
      expiresAt,
      maxDownloads: settings.download.maxDownloads,
      notifySender: settings.download.notifySender,
    });
    made.download = download.record;
    crashPoint("download_prepared");
    for (const [index, link] of download.links.entries()) {
      const name = `download-${index}.eml`;
      const notice = tools.notice({
        language: message.language,
        url: link.url,
        recipient: link.recipient,
        files,
        expiresAt,
        access: password ? "password" : "code",
      });
      await durably(join(dir, name), () =>
        tools.addNotice(
          { path: extractedPath, placeholders: extracted.placeholders },
          join(dir, name),
          notice,
        ),
      );
      copies.push({
        id: randomUUID(),
        recipients: [link.recipient],
        action: "web_download",
        file: join(message.id, batch.id, name),
        headerBytes: await headerLength(join(dir, name)),
        detail: { files: listed, downloadId: download.downloadId, ...checked([link.recipient]) },
        password,
      });
    }
  }

  /** The stored message as a file: its spool file, or (a small one) written out from the database. */
  private async originalPath(message: MessageRecord, dir: string): Promise<string> {
    if (!message.bodyInDatabase) {
      const name = spoolName(message.id);
      const path = join(this.options.spool.dir, name);
      await access(path).catch((err: unknown) => {
        throw (err as NodeJS.ErrnoException).code === "ENOENT" ? missingSpoolFile(name, err) : err;
      });
      return path;
    }
    const bytes = await this.options.store.messageBody(message.id);
    if (!bytes) throw new Error(`the body of message ${message.id} is missing from the database`);
    const path = join(dir, ORIGINAL);
    await writeFile(path, bytes);
    return path;
  }
}

/** The first HEAD_BYTES of a file (less when it is shorter): where its header is. */
async function readHead(path: string, bytes = HEAD_BYTES): Promise<Buffer> {
  const file = await open(path, "r");
  try {
    const head = Buffer.alloc(bytes);
    const { bytesRead } = await file.read(head, 0, bytes, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

/**
 * A message whose top-level type is text (or not given: text/plain) has no attachments: it needs
 * no separation pass (nor its worker's start-up) to be sent as it came.
 */
async function isPlainText(path: string, headerBytes: number): Promise<boolean> {
  const head = await readHead(path, Math.min(headerBytes, HEAD_BYTES));
  const header = head.toString("latin1").replace(/\r?\n[ \t]+/g, " ");
  const type = /^content-type:\s*([^;\s]+)/im.exec(header)?.[1]?.toLowerCase() ?? "text/plain";
  return type.startsWith("text/");
}

/** Bytes up to and including the blank line that ends the header (what outgoing.ts splits at). */
async function headerLength(path: string): Promise<number> {
  const text = await readHead(path);
  const crlf = text.indexOf("\r\n\r\n");
  if (crlf >= 0) return crlf + 4;
  const lf = text.indexOf("\n\n");
  if (lf >= 0) return lf + 2;
  throw new Error(`the copy ${path} has no end of header in its first 256 KiB`);
}
