// Format recognition by magic bytes (a renamed file is still what it is) and the cheap encryption
// checks that need no decryption: encrypted OOXML and legacy Office files (OLE/CFB), PDF /Encrypt,
// ZIP local headers, 7z and RAR headers.

export type Kind =
  "zip" | "docx" | "xlsx" | "pptx" | "pdf" | "cfb" | "7z" | "rar" | "html" | "text" | "message" | "other";

const OOXML: Record<string, "docx" | "xlsx" | "pptx"> = {
  docx: "docx",
  docm: "docx",
  dotx: "docx",
  dotm: "docx",
  xlsx: "xlsx",
  xlsm: "xlsx",
  xltx: "xlsx",
  xltm: "xlsx",
  pptx: "pptx",
  pptm: "pptx",
  ppsx: "pptx",
  ppsm: "pptx",
  potx: "pptx",
  potm: "pptx",
};

const TEXT_EXTENSIONS = new Set([
  "txt",
  "csv",
  "tsv",
  "log",
  "json",
  "xml",
  "md",
  "ini",
  "cfg",
  "conf",
  "yaml",
  "yml",
  "vcf",
  "ics",
  "sql",
]);

function startsWith(bytes: Uint8Array, magic: number[], at = 0): boolean {
  if (bytes.length < at + magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (bytes[at + i] !== magic[i]) return false;
  return true;
}

const PK = [0x50, 0x4b];
const CFB = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
const SEVEN_ZIP = [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c];
const RAR = [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07];

export function isZip(head: Uint8Array): boolean {
  return (
    startsWith(head, PK) &&
    [0x03, 0x05, 0x07].includes(head[2] as number) &&
    head[3] === (head[2] as number) + 1
  );
}

/** The OOXML flavour a file name or content type announces, or null. */
export function ooxmlKind(extension: string, contentType: string): "docx" | "xlsx" | "pptx" | null {
  const byName = OOXML[extension];
  if (byName) return byName;
  if (contentType.includes("wordprocessingml")) return "docx";
  if (contentType.includes("spreadsheetml")) return "xlsx";
  if (contentType.includes("presentationml")) return "pptx";
  return null;
}

export function kindOf(head: Uint8Array, extension: string, contentType: string): Kind {
  if (isZip(head)) return ooxmlKind(extension, contentType) ?? "zip";
  if (Buffer.from(head.buffer, head.byteOffset, Math.min(head.length, 1024)).includes("%PDF-")) return "pdf";
  if (startsWith(head, CFB)) return "cfb";
  if (startsWith(head, SEVEN_ZIP)) return "7z";
  if (startsWith(head, RAR)) return "rar";
  if (contentType === "message/rfc822" || extension === "eml") return "message";
  if (contentType === "text/html" || extension === "html" || extension === "htm") return "html";
  if (contentType.startsWith("text/") || TEXT_EXTENSIONS.has(extension)) return "text";
  return "other";
}

// ---- PDF ----------------------------------------------------------------------------------------

/** /Encrypt in a trailer (or a cross-reference stream's dictionary), looked for at both ends. */
export function pdfEncrypted(head: Uint8Array, tail: Uint8Array): boolean {
  const re = /\/Encrypt\s*(?:\d+\s+\d+\s+R|<<)/;
  return re.test(Buffer.from(tail).toString("latin1")) || re.test(Buffer.from(head).toString("latin1"));
}

// ---- ZIP ----------------------------------------------------------------------------------------

/** Bit 0 of the first local file header's flags: that entry is encrypted (for oversize zips). */
export function zipHeadEncrypted(head: Uint8Array): boolean {
  return startsWith(head, [0x50, 0x4b, 0x03, 0x04]) && ((head[6] as number) & 1) === 1;
}

// ---- OLE / CFB (encrypted OOXML, legacy .doc/.xls/.ppt) -----------------------------------------

interface CfbEntry {
  name: string;
  type: number;
  start: number;
  size: number;
}

const ENDOFCHAIN = 0xfffffffe;
const MAX_REGULAR = 0xfffffffa;

/** Directory entries of a compound file, or null when it cannot be parsed. */
function cfbDirectory(data: Buffer): { entries: CfbEntry[]; sector: (id: number) => Buffer | null } | null {
  if (data.length < 512 || !startsWith(data, CFB)) return null;
  const shift = data.readUInt16LE(0x1e);
  if (shift !== 9 && shift !== 12) return null;
  const size = 1 << shift;
  const sectorCount = Math.floor((data.length - size) / size) + 1;
  const sector = (id: number): Buffer | null => {
    if (id < 0 || id > MAX_REGULAR) return null;
    const start = (id + 1) * size;
    return start + size <= data.length ? data.subarray(start, start + size) : null;
  };
  // FAT sector ids: 109 in the header, the rest in the DIFAT chain
  const fatIds: number[] = [];
  for (let i = 0; i < 109; i++) {
    const id = data.readUInt32LE(0x4c + i * 4);
    if (id <= MAX_REGULAR) fatIds.push(id);
  }
  let difat = data.readUInt32LE(0x44);
  for (let guard = 0; difat <= MAX_REGULAR && guard < sectorCount; guard++) {
    const s = sector(difat);
    if (!s) break;
    for (let i = 0; i < size / 4 - 1; i++) {
      const id = s.readUInt32LE(i * 4);
      if (id <= MAX_REGULAR) fatIds.push(id);
    }
    difat = s.readUInt32LE(size - 4);
  }
  const fat: number[] = [];
  for (const id of fatIds) {
    const s = sector(id);
    if (!s) return null;
    for (let i = 0; i < size / 4; i++) fat.push(s.readUInt32LE(i * 4));
  }
  const entries: CfbEntry[] = [];
  let dir = data.readUInt32LE(0x30);
  for (let guard = 0; dir !== ENDOFCHAIN && guard < sectorCount; guard++) {
    const s = sector(dir);
    if (!s) return entries.length ? { entries, sector } : null;
    for (let off = 0; off + 128 <= size; off += 128) {
      const nameBytes = Math.min(64, s.readUInt16LE(off + 0x40));
      const type = s[off + 0x42] as number;
      if (type === 0) continue;
      const name = s.subarray(off, off + Math.max(0, nameBytes - 2)).toString("utf16le");
      entries.push({ name, type, start: s.readUInt32LE(off + 0x74), size: s.readUInt32LE(off + 0x78) });
    }
    dir = fat[dir] ?? ENDOFCHAIN;
  }
  return { entries, sector };
}

const FIB_ENCRYPTED = 0x0100;
const XLS_FILEPASS = 0x002f;

/**
 * Password protection of an OLE compound file: an encrypted OOXML package (EncryptionInfo +
 * EncryptedPackage streams), a .doc whose FIB says fEncrypted, an .xls whose workbook stream holds
 * a FILEPASS record, a .ppt with an EncryptedSummary stream. With only part of the file (oversize),
 * the stream names are looked for in the bytes there are.
 */
export function cfbEncrypted(data: Buffer | null, head: Uint8Array, tail: Uint8Array): boolean {
  const parsed = data ? cfbDirectory(data) : null;
  if (!parsed) {
    const needle = Buffer.from("EncryptedPackage", "utf16le");
    return Buffer.from(head).includes(needle) || Buffer.from(tail).includes(needle);
  }
  const byName = new Map(parsed.entries.map((e) => [e.name.toLowerCase(), e]));
  if (byName.has("encryptedpackage") || byName.has("encryptedsummary")) return true;
  const firstSector = (e: CfbEntry | undefined): Buffer | null =>
    e && e.size >= 4096 ? parsed.sector(e.start) : null; // smaller streams live in the mini stream
  const word = firstSector(byName.get("worddocument"));
  if (word && word.readUInt16LE(0) === 0xa5ec && (word.readUInt16LE(0x0a) & FIB_ENCRYPTED) !== 0) return true;
  const book = firstSector(byName.get("workbook") ?? byName.get("book"));
  if (book) {
    // BOF, then FILEPASS among the first records when the workbook is encrypted
    let off = 0;
    for (let i = 0; i < 8 && off + 4 <= book.length; i++) {
      const type = book.readUInt16LE(off);
      if (type === XLS_FILEPASS) return true;
      off += 4 + book.readUInt16LE(off + 2);
    }
  }
  return false;
}

// ---- 7z -----------------------------------------------------------------------------------------

const AES_CODER = Buffer.from([0x06, 0xf1, 0x07, 0x01]);

/**
 * A 7z archive whose (next) header names the AES coder: an encoded header that is encrypted
 * ("encrypt file names"), or a plain header listing encrypted folders. A header that is only
 * LZMA-compressed cannot be looked into cheaply: such an archive is reported as not encrypted.
 */
export function sevenZipEncrypted(
  data: Buffer | null,
  head: Uint8Array,
  tail: Uint8Array,
  size: number,
): boolean {
  if (head.length < 32) return false;
  const h = Buffer.from(head.buffer, head.byteOffset, head.length);
  const from = 32 + Number(h.readBigUInt64LE(12));
  const length = Number(h.readBigUInt64LE(20));
  if (!Number.isSafeInteger(from) || length > 16 * 1024 * 1024) return false;
  if (data) return data.subarray(from, from + length).includes(AES_CODER);
  // only the first and last bytes of an oversize archive: the next header is usually at the end
  const tailStart = size - tail.length;
  if (from < tailStart) return false;
  return Buffer.from(tail.buffer, tail.byteOffset, tail.length)
    .subarray(from - tailStart, from - tailStart + length)
    .includes(AES_CODER);
}

// ---- RAR ----------------------------------------------------------------------------------------

/** Reads a RAR5 variable-length integer; [value, next offset] or null past the end. */
function vint(buf: Uint8Array, pos: number): [number, number] | null {
  let value = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    const b = buf[pos + i];
    if (b === undefined) return null;
    value += (b & 0x7f) * mul;
    mul *= 128;
    if (!(b & 0x80)) return [value, pos + i + 1];
  }
  return null;
}

/** RAR4/RAR5 with encrypted headers, or a file header (among those in `head`) marked encrypted. */
export function rarEncrypted(head: Uint8Array): boolean {
  const buf = Buffer.from(head.buffer, head.byteOffset, head.length);
  if (startsWith(buf, [...RAR, 0x01, 0x00])) {
    let pos = 8;
    for (let guard = 0; guard < 64; guard++) {
      const size = vint(buf, pos + 4);
      if (!size) return false;
      const start = size[1];
      const type = vint(buf, start);
      if (!type) return false;
      if (type[0] === 4) return true; // archive encryption header: everything after is encrypted
      const flags = vint(buf, type[1]);
      if (!flags) return false;
      let p = flags[1];
      let extra = 0;
      let dataSize = 0;
      if (flags[0] & 0x01) {
        const v = vint(buf, p);
        if (!v) return false;
        extra = v[0];
        p = v[1];
      }
      if (flags[0] & 0x02) {
        const v = vint(buf, p);
        if (!v) return false;
        dataSize = v[0];
      }
      const end = start + size[0];
      if ((type[0] === 2 || type[0] === 3) && extra > 0) {
        // extra area at the end of the header: records of [size][type]…; type 1 is encryption
        let e = end - extra;
        while (e < end) {
          const recSize = vint(buf, e);
          if (!recSize) return false;
          const recType = vint(buf, recSize[1]);
          if (!recType) return false;
          if (recType[0] === 1) return true;
          e = recSize[1] + recSize[0];
        }
      }
      if (type[0] === 5) return false; // end of archive
      pos = end + dataSize;
    }
    return false;
  }
  if (startsWith(buf, [...RAR, 0x00])) {
    let pos = 7;
    for (let guard = 0; guard < 64 && pos + 7 <= buf.length; guard++) {
      const type = buf[pos + 2] as number;
      const flags = buf.readUInt16LE(pos + 3);
      const headSize = buf.readUInt16LE(pos + 5);
      if (type === 0x73 && flags & 0x0080) return true; // MAIN_HEAD: block headers encrypted
      if (type === 0x74 && flags & 0x0004) return true; // FILE_HEAD: file encrypted
      let add = 0;
      if (flags & 0x8000 && pos + 11 <= buf.length) add = buf.readUInt32LE(pos + 7);
      if (headSize < 7) return false;
      pos += headSize + add;
    }
  }
  return false;
}
