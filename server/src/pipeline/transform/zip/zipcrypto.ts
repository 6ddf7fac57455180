// Traditional PKWARE encryption ("ZipCrypto", APPNOTE.TXT §6.1), kept only as a compatibility option:
// Windows Explorer opens these archives and cannot open AES ones. It is weak (known-plaintext
// attacks recover the keys), which is why AES-256 is the default.
//
// The writer sets general-purpose bit 3 (sizes and CRC in a data descriptor) on ZipCrypto entries,
// so the header's check byte is the high byte of the entry's DOS time (APPNOTE §6.1.6) and the
// data can be encrypted before its CRC is known: one pass, chunk by chunk.
import { randomBytes } from "node:crypto";

/** The encryption header that starts an entry's data. */
export const ZIPCRYPTO_HEADER_BYTES = 12;

/** The CRC-32 table (polynomial 0xEDB88320): the key schedule updates a CRC one byte at a time. */
const CRC_TABLE = Int32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

export class ZipCryptoEncryptor {
  /** The 12-byte encryption header, already encrypted: the first bytes of the entry's data. */
  readonly header: Buffer;
  private key0 = 0x12345678;
  private key1 = 0x23456789;
  private key2 = 0x34567890;

  /**
   * @param password its UTF-8 bytes are the key (Info-ZIP's reading in a UTF-8 locale; Windows
   *   Explorer reads the ANSI code page, so only an ASCII password opens everywhere).
   * @param dosTime the entry's DOS time field: its high byte is the check byte.
   */
  constructor(password: string, dosTime: number) {
    // Feeding the password through the cipher is its key schedule; the output is thrown away.
    this.update(Buffer.from(password, "utf8"));
    const header = randomBytes(ZIPCRYPTO_HEADER_BYTES);
    header[ZIPCRYPTO_HEADER_BYTES - 1] = (dosTime >>> 8) & 0xff;
    this.header = this.update(header);
  }

  /** Encrypts `data` in place and returns it (the caller hands over a buffer it owns). */
  update(data: Buffer): Buffer {
    let k0 = this.key0;
    let k1 = this.key1;
    let k2 = this.key2;
    for (let i = 0; i < data.length; i++) {
      const plain = data[i]!;
      const t = (k2 | 2) & 0xffff;
      data[i] = plain ^ (((t * (t ^ 1)) >>> 8) & 0xff);
      // The key update of §6.1.5, inlined: this loop is the whole cost of ZipCrypto.
      k0 = (k0 >>> 8) ^ CRC_TABLE[(k0 ^ plain) & 0xff]!;
      k1 = (Math.imul((k1 + (k0 & 0xff)) | 0, 134775813) + 1) | 0;
      k2 = (k2 >>> 8) ^ CRC_TABLE[(k2 ^ (k1 >>> 24)) & 0xff]!;
    }
    this.key0 = k0;
    this.key1 = k1;
    this.key2 = k2;
    return data;
  }

  /** ZipCrypto has no trailer: the CRC in the data descriptor is its only check. */
  final(): Buffer {
    return Buffer.alloc(0);
  }
}
