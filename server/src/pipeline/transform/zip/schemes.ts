// How each encryption marks an entry: AES as WinZip AE-2 (method 99 with the real method in the
// 0x9901 extra field, no CRC), ZipCrypto as a PKWARE traditional entry with a data descriptor.
import { AES_OVERHEAD, WinZipAesEncryptor } from "./winzip-aes.js";
import { FLAG_DATA_DESCRIPTOR, FLAG_ENCRYPTED, FLAG_UTF8, aesExtra } from "./records.js";
import { ZIPCRYPTO_HEADER_BYTES, ZipCryptoEncryptor } from "./zipcrypto.js";

export type ZipEncryption = "aes256" | "zipcrypto";

export interface EntryEncryptor {
  /** Bytes that start the entry's data. */
  readonly header: Buffer;
  /** Encrypts in place and returns the same buffer. */
  update(data: Buffer): Buffer;
  /** Bytes that end the entry's data. */
  final(): Buffer;
}

export interface Scheme {
  versionNeeded: number;
  flags: number;
  /** Bytes the encryption adds to an entry's data. */
  overhead: number;
  /** Whether the entry carries the CRC-32 of its data (AE-2 does not: its HMAC checks the data). */
  crc: boolean;
  /** Whether sizes and CRC follow the data in a descriptor rather than being patched into the local header. */
  dataDescriptor: boolean;
  method(realMethod: number): number;
  extra(realMethod: number): Buffer;
  encryptor(password: string, dosTime: number): EntryEncryptor;
}

const AES_METHOD = 99;

export const SCHEMES: Record<ZipEncryption, Scheme> = {
  aes256: {
    versionNeeded: 51,
    flags: FLAG_ENCRYPTED | FLAG_UTF8,
    overhead: AES_OVERHEAD,
    crc: false,
    // The local header is patched in place: it then tells the truth to readers that walk local
    // headers without the central directory (streaming extractors, Java's ZipInputStream, which
    // cannot read a stored entry followed by a descriptor).
    dataDescriptor: false,
    method: () => AES_METHOD,
    extra: aesExtra,
    encryptor: (password) => new WinZipAesEncryptor(password),
  },
  zipcrypto: {
    versionNeeded: 20,
    // Bit 3 makes the check byte the DOS time's high byte, so nothing waits for the CRC.
    flags: FLAG_ENCRYPTED | FLAG_DATA_DESCRIPTOR | FLAG_UTF8,
    overhead: ZIPCRYPTO_HEADER_BYTES,
    crc: true,
    dataDescriptor: true,
    method: (realMethod) => realMethod,
    extra: () => Buffer.alloc(0),
    encryptor: (password, dosTime) => new ZipCryptoEncryptor(password, dosTime),
  },
};
