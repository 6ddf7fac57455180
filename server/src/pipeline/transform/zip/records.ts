// The fixed-layout records of a ZIP file (APPNOTE.TXT §4.3), little-endian. ZIP64 is not written:
// the writer refuses what would need it (writer.ts), so every size and offset here fits 32 bits.

const LOCAL_HEADER_BYTES = 30;
const CENTRAL_HEADER_BYTES = 46;
const END_RECORD_BYTES = 22;
/** Where CRC, compressed and uncompressed size sit in a local header, for patching them later. */
export const LOCAL_SIZES_AT = 14;

/** Largest value of a 32-bit size or offset field; 0xFFFFFFFF itself means "see ZIP64". */
export const MAX_32 = 0xfffffffe;
/** Largest number of entries the end record can count; 0xFFFF itself means "see ZIP64". */
export const MAX_ENTRIES = 0xffff;

export const METHOD_STORED = 0;
export const METHOD_DEFLATED = 8;

export const FLAG_ENCRYPTED = 1 << 0;
export const FLAG_DATA_DESCRIPTOR = 1 << 3;
export const FLAG_UTF8 = 1 << 11;

/** "Version made by": specification 6.3 (the one with the UTF-8 flag), MS-DOS attributes. */
const VERSION_MADE_BY = 63;

/** What a local header and its central directory record share. */
export interface EntryFields {
  versionNeeded: number;
  flags: number;
  method: number;
  dosTime: number;
  dosDate: number;
  crc: number;
  compressedSize: number;
  size: number;
  name: Buffer;
}

/** DOS date and time fields (local time, 2-second steps), clamped to what they can hold (1980–2107). */
export function dosDateTime(date: Date): { dosTime: number; dosDate: number } {
  const year = date.getFullYear();
  if (year < 1980) return { dosTime: 0, dosDate: (1 << 5) | 1 };
  if (year > 2107) return { dosTime: (23 << 11) | (59 << 5) | 29, dosDate: (127 << 9) | (12 << 5) | 31 };
  return {
    dosTime: (date.getHours() << 11) | (date.getMinutes() << 5) | (date.getSeconds() >> 1),
    dosDate: ((year - 1980) << 9) | ((date.getMonth() + 1) << 5) | date.getDate(),
  };
}

/**
 * Extended timestamp (0x5455, "UT"): the modification time in UTC seconds, which 7-Zip and
 * Info-ZIP prefer to the DOS fields (local time of the writing machine, 2-second steps).
 */
export function timestampExtra(date: Date): Buffer {
  const seconds = Math.min(0xffffffff, Math.max(0, Math.floor(date.getTime() / 1000)));
  const extra = Buffer.alloc(9);
  extra.writeUInt16LE(0x5455, 0);
  extra.writeUInt16LE(5, 2);
  extra.writeUInt8(1, 4); // flags: modification time present
  extra.writeUInt32LE(seconds, 5);
  return extra;
}

/**
 * WinZip AES extra field (0x9901): vendor version 2 (AE-2: CRC not stored), vendor "AE",
 * strength 3 (AES-256) and the method the data was compressed with before encryption.
 */
export function aesExtra(realMethod: number): Buffer {
  const extra = Buffer.alloc(11);
  extra.writeUInt16LE(0x9901, 0);
  extra.writeUInt16LE(7, 2);
  extra.writeUInt16LE(2, 4);
  extra.write("AE", 6, "latin1");
  extra.writeUInt8(3, 8);
  extra.writeUInt16LE(realMethod, 9);
  return extra;
}

function common(record: Buffer, at: number, f: EntryFields): void {
  record.writeUInt16LE(f.versionNeeded, at);
  record.writeUInt16LE(f.flags, at + 2);
  record.writeUInt16LE(f.method, at + 4);
  record.writeUInt16LE(f.dosTime, at + 6);
  record.writeUInt16LE(f.dosDate, at + 8);
  record.writeUInt32LE(f.crc, at + 10);
  record.writeUInt32LE(f.compressedSize, at + 14);
  record.writeUInt32LE(f.size, at + 18);
  record.writeUInt16LE(f.name.length, at + 22);
}

export function localHeader(f: EntryFields, extra: Buffer): Buffer {
  const record = Buffer.alloc(LOCAL_HEADER_BYTES + f.name.length + extra.length);
  record.writeUInt32LE(0x04034b50, 0);
  common(record, 4, f);
  record.writeUInt16LE(extra.length, 28);
  f.name.copy(record, LOCAL_HEADER_BYTES);
  extra.copy(record, LOCAL_HEADER_BYTES + f.name.length);
  return record;
}

/** CRC, compressed and uncompressed size: patched into the local header, or in a data descriptor. */
export function sizes(crc: number, compressedSize: number, size: number): Buffer {
  const fields = Buffer.alloc(12);
  fields.writeUInt32LE(crc, 0);
  fields.writeUInt32LE(compressedSize, 4);
  fields.writeUInt32LE(size, 8);
  return fields;
}

export function dataDescriptor(crc: number, compressedSize: number, size: number): Buffer {
  const signature = Buffer.alloc(4);
  signature.writeUInt32LE(0x08074b50, 0);
  return Buffer.concat([signature, sizes(crc, compressedSize, size)]);
}

export function centralHeader(f: EntryFields, extra: Buffer, localHeaderOffset: number): Buffer {
  const record = Buffer.alloc(CENTRAL_HEADER_BYTES + f.name.length + extra.length);
  record.writeUInt32LE(0x02014b50, 0);
  record.writeUInt16LE(VERSION_MADE_BY, 4);
  common(record, 6, f);
  record.writeUInt16LE(extra.length, 30);
  // comment length, disk number, internal and external attributes stay 0
  record.writeUInt32LE(localHeaderOffset, 42);
  f.name.copy(record, CENTRAL_HEADER_BYTES);
  extra.copy(record, CENTRAL_HEADER_BYTES + f.name.length);
  return record;
}

export function endRecord(entries: number, centralSize: number, centralOffset: number): Buffer {
  const record = Buffer.alloc(END_RECORD_BYTES);
  record.writeUInt32LE(0x06054b50, 0);
  record.writeUInt16LE(entries, 8);
  record.writeUInt16LE(entries, 10);
  record.writeUInt32LE(centralSize, 12);
  record.writeUInt32LE(centralOffset, 16);
  return record;
}
