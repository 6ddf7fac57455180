// Encrypted ZIP archives of attachments (AES-256 by default, ZipCrypto for Windows Explorer). The
// gateway writes them on its transform threads (Separator.zip): AES, HMAC, deflate and CRC grow
// with the files and stay off the event loop.
export {
  DEFAULT_DEFLATE_LEVEL,
  ZipError,
  writeEncryptedZip,
  type EncryptedZipRequest,
  type EncryptedZipResult,
  type ZipEncryption,
  type ZipEntryInfo,
  type ZipErrorCode,
  type ZipInputFile,
} from "./writer.js";
