// SQLite implementation of Store: WAL with synchronous=FULL, so a COMMIT is on disk when it returns.
// One connection writes (serialised transactions), another reads without waiting for writers.
// The work is done by one part per aggregate (sqlite/); a transaction that spans aggregates is one
// part's, which writes the others' tables through their write functions on its own connection.
import { Db } from "./db.js";
import { migrate } from "./migrations.js";
import { AuditLog } from "./sqlite/audit.js";
import { addCopies, copyFilesOf } from "./sqlite/copies.js";
import { Downloads } from "./sqlite/downloads.js";
import { Messages } from "./sqlite/messages.js";
import { Notices } from "./sqlite/notices.js";
import { Settings } from "./sqlite/settings.js";
import { Users } from "./sqlite/users.js";
import type { Store } from "./types.js";

export class SqliteStore implements Store {
  private readonly users: Users;
  private readonly messagesPart: Messages;
  private readonly notices: Notices;
  private readonly auditLog: AuditLog;
  private readonly settings: Settings;
  private readonly downloads: Downloads;

  private constructor(
    private readonly writer: Db,
    private readonly reader: Db,
  ) {
    this.users = new Users(writer, reader);
    this.messagesPart = new Messages(writer, reader);
    this.notices = new Notices(writer);
    this.auditLog = new AuditLog(writer, reader);
    this.settings = new Settings(writer, reader);
    this.downloads = new Downloads(writer, reader);
  }

  static async open(file: string): Promise<SqliteStore> {
    const writer = await Db.open(file, false);
    await writer.exec(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;",
    );
    await migrate(writer);
    const reader = await Db.open(file, true);
    await reader.exec("PRAGMA busy_timeout=5000; PRAGMA query_only=ON;");
    return new SqliteStore(writer, reader);
  }

  async close(): Promise<void> {
    await this.reader.close();
    await this.writer.close();
  }

  readonly addUser: Store["addUser"] = (...a) => this.users.addUser(...a);
  readonly userByEmail: Store["userByEmail"] = (...a) => this.users.userByEmail(...a);
  readonly userById: Store["userById"] = (...a) => this.users.userById(...a);
  readonly listUsers: Store["listUsers"] = () => this.users.listUsers();
  readonly updateUser: Store["updateUser"] = (...a) => this.users.updateUser(...a);
  readonly setUserDisabled: Store["setUserDisabled"] = (...a) => this.users.setUserDisabled(...a);
  readonly deleteUser: Store["deleteUser"] = (...a) => this.users.deleteUser(...a);
  readonly setPasswordHash: Store["setPasswordHash"] = (...a) => this.users.setPasswordHash(...a);
  readonly saveToken: Store["saveToken"] = (...a) => this.users.saveToken(...a);
  readonly tokenOwner: Store["tokenOwner"] = (...a) => this.users.tokenOwner(...a);
  readonly deleteToken: Store["deleteToken"] = (...a) => this.users.deleteToken(...a);
  readonly listTokens: Store["listTokens"] = (...a) => this.users.listTokens(...a);
  readonly revokeTokens: Store["revokeTokens"] = (...a) => this.users.revokeTokens(...a);
  readonly purgeExpiredTokens: Store["purgeExpiredTokens"] = (...a) => this.users.purgeExpiredTokens(...a);

  readonly insertMessages: Store["insertMessages"] = (...a) => this.messagesPart.insertMessages(...a);
  readonly unfinishedSpooled: Store["unfinishedSpooled"] = () => this.messagesPart.unfinishedSpooled();
  readonly markSpoolAcknowledged: Store["markSpoolAcknowledged"] = (...a) =>
    this.messagesPart.markSpoolAcknowledged(...a);
  readonly markBodiesMissing: Store["markBodiesMissing"] = (...a) =>
    this.messagesPart.markBodiesMissing(...a);
  readonly messageBody: Store["messageBody"] = (...a) => this.messagesPart.messageBody(...a);
  readonly forgetMessages: Store["forgetMessages"] = (...a) => this.messagesPart.forgetMessages(...a);
  readonly message: Store["message"] = (...a) => this.messagesPart.message(...a);
  readonly messages: Store["messages"] = (...a) => this.messagesPart.messages(...a);
  readonly messagesByMessageId: Store["messagesByMessageId"] = (...a) =>
    this.messagesPart.messagesByMessageId(...a);
  readonly listMessages: Store["listMessages"] = (...a) => this.messagesPart.listMessages(...a);
  readonly actOnHeld: Store["actOnHeld"] = (...a) => this.messagesPart.actOnHeld(...a);
  readonly decideApproval: Store["decideApproval"] = (...a) => this.messagesPart.decideApproval(...a);
  readonly expiredApprovals: Store["expiredApprovals"] = (...a) => this.messagesPart.expiredApprovals(...a);
  readonly isApprover: Store["isApprover"] = (...a) => this.messagesPart.isApprover(...a);
  readonly resetLeases: Store["resetLeases"] = () => this.messagesPart.resetLeases();
  readonly claimDueBatches: Store["claimDueBatches"] = (...a) => this.messagesPart.claimDueBatches(...a);
  readonly recordAttempts: Store["recordAttempts"] = (...a) => this.messagesPart.recordAttempts(...a);
  readonly recordCopyDelivered: Store["recordCopyDelivered"] = (...a) =>
    this.messagesPart.recordCopyDelivered(...a);
  readonly addCopies: Store["addCopies"] = (...a) => addCopies(this.writer, ...a);
  readonly copyFilesOf: Store["copyFilesOf"] = (...a) => copyFilesOf(this.reader, ...a);
  readonly dueTimes: Store["dueTimes"] = () => this.messagesPart.dueTimes();
  readonly queueDepth: Store["queueDepth"] = () => this.messagesPart.queueDepth();
  readonly deleteFinishedBodies: Store["deleteFinishedBodies"] = (...a) =>
    this.messagesPart.deleteFinishedBodies(...a);
  readonly spooledBodiesKept: Store["spooledBodiesKept"] = (...a) =>
    this.messagesPart.spooledBodiesKept(...a);
  readonly purgeMessages: Store["purgeMessages"] = (...a) => this.messagesPart.purgeMessages(...a);

  readonly recordRejection: Store["recordRejection"] = (...a) => this.notices.recordRejection(...a);
  readonly queueNotices: Store["queueNotices"] = (...a) => this.notices.queueNotices(...a);
  readonly claimDueNotices: Store["claimDueNotices"] = (...a) => this.notices.claimDueNotices(...a);
  readonly finishNotices: Store["finishNotices"] = (...a) => this.notices.finishNotices(...a);
  readonly purgeNotices: Store["purgeNotices"] = (...a) => this.notices.purgeNotices(...a);

  readonly audit: Store["audit"] = (...a) => this.auditLog.audit(...a);
  readonly listAudit: Store["listAudit"] = (...a) => this.auditLog.listAudit(...a);
  readonly purgeAudit: Store["purgeAudit"] = (...a) => this.auditLog.purgeAudit(...a);

  readonly listPolicies: Store["listPolicies"] = () => this.settings.listPolicies();
  readonly putPolicy: Store["putPolicy"] = (...a) => this.settings.putPolicy(...a);
  readonly deletePolicy: Store["deletePolicy"] = (...a) => this.settings.deletePolicy(...a);
  readonly policyVersion: Store["policyVersion"] = () => this.settings.policyVersion();
  readonly saveDkimKey: Store["saveDkimKey"] = (...a) => this.settings.saveDkimKey(...a);
  readonly dkimKey: Store["dkimKey"] = (...a) => this.settings.dkimKey(...a);

  readonly insertDownloadPackage: Store["insertDownloadPackage"] = (...a) =>
    this.downloads.insertDownloadPackage(...a);
  readonly downloadPackage: Store["downloadPackage"] = (...a) => this.downloads.downloadPackage(...a);
  readonly downloadLinkByToken: Store["downloadLinkByToken"] = (...a) =>
    this.downloads.downloadLinkByToken(...a);
  readonly reserveDownloadAttempt: Store["reserveDownloadAttempt"] = (...a) =>
    this.downloads.reserveDownloadAttempt(...a);
  readonly recordDownloadFailure: Store["recordDownloadFailure"] = (...a) =>
    this.downloads.recordDownloadFailure(...a);
  readonly recordDownloadSuccess: Store["recordDownloadSuccess"] = (...a) =>
    this.downloads.recordDownloadSuccess(...a);
  readonly setDownloadCode: Store["setDownloadCode"] = (...a) => this.downloads.setDownloadCode(...a);
  readonly countDownload: Store["countDownload"] = (...a) => this.downloads.countDownload(...a);
  readonly logDownloads: Store["logDownloads"] = (...a) => this.downloads.logDownloads(...a);
  readonly downloadLog: Store["downloadLog"] = (...a) => this.downloads.downloadLog(...a);
  readonly stopDownloads: Store["stopDownloads"] = (...a) => this.downloads.stopDownloads(...a);
  readonly extendDownloads: Store["extendDownloads"] = (...a) => this.downloads.extendDownloads(...a);
  readonly downloadFilesToDelete: Store["downloadFilesToDelete"] = (...a) =>
    this.downloads.downloadFilesToDelete(...a);
  readonly markDownloadFilesDeleted: Store["markDownloadFilesDeleted"] = (...a) =>
    this.downloads.markDownloadFilesDeleted(...a);
  readonly keptDownloadFiles: Store["keptDownloadFiles"] = (...a) => this.downloads.keptDownloadFiles(...a);
  readonly purgeDownloadPackages: Store["purgeDownloadPackages"] = (...a) =>
    this.downloads.purgeDownloadPackages(...a);
}
