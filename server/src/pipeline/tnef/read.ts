// TNEF (winmail.dat, application/ms-tnef; [MS-OXTNEF]) read for its attachments only: each one's
// name, type and where its bytes lie in the stream. No npm package does this well (node-tnef reads
// everything into memory and brings a CLI's dependencies), so this is the small part of the format
// needed: the attribute list, and in an attachment's MAPI properties its long name and MIME type.
// Hostile input gets a result, never an exception: every length is checked against what is left,
// the attributes, attachments and property bytes looked at are bounded, and the data of an
// attachment is only located here (read, or streamed, by the caller).
import type { FileHandle } from "node:fs/promises";
import iconv from "iconv-lite";

const SIGNATURE = 0x223e9f78;
/** Attribute ids ([MS-OXTNEF] 2.1.3.2): type in the high 16 bits. */
const ATT_ATTACH_RENDDATA = 0x00069002; // starts an attachment
const ATT_ATTACH_TITLE = 0x00018010; // its name, 8-bit
const ATT_ATTACH_DATA = 0x0006800f; // its bytes
const ATT_ATTACHMENT = 0x00069005; // its MAPI properties
const ATT_OEM_CODEPAGE = 0x00069007; // the code page of 8-bit strings
/** MAPI property ids looked for in attAttachment. */
const PR_ATTACH_LONG_FILENAME = 0x3707;
const PR_ATTACH_FILENAME = 0x3704;
const PR_ATTACH_MIME_TAG = 0x370e;
const PR_DISPLAY_NAME = 0x3001;
const PT_STRING8 = 0x001e;
const PT_UNICODE = 0x001f;
/** Bytes of each fixed-size MAPI type, padded to 4. */
const FIXED: Record<number, number> = {
  0x0002: 4, // PtypInteger16
  0x0003: 4, // PtypInteger32
  0x0004: 4, // PtypFloating32
  0x0005: 8, // PtypFloating64
  0x0006: 8, // PtypCurrency
  0x0007: 8, // PtypFloatingTime
  0x000a: 4, // PtypErrorCode
  0x000b: 4, // PtypBoolean
  0x0014: 8, // PtypInteger64
  0x0040: 8, // PtypTime
  0x0048: 16, // PtypGuid
};
/** Counted, length-prefixed values: strings, binary, object. */
const VARIABLE = new Set([PT_STRING8, PT_UNICODE, 0x0102, 0x000d]);
const MULTI = 0x1000;
const HEADER = 9; // level (1), id (4), length (4)
const CHECKSUM = 2;

export interface TnefLimits {
  attributes: number;
  attachments: number;
  /** An attAttachment (MAPI properties) larger than this is not read; the title names the file. */
  propertyBytes: number;
}

export const DEFAULT_TNEF_LIMITS: TnefLimits = {
  attributes: 100_000,
  attachments: 1000,
  propertyBytes: 1024 * 1024,
};

/** Random access to the TNEF bytes: a buffer, or a file read piece by piece. */
export interface TnefSource {
  size: number;
  read(offset: number, length: number): Promise<Buffer>;
}

export interface TnefAttachment {
  name: string;
  /** From PR_ATTACH_MIME_TAG; null when the sender's Outlook gave none. */
  contentType: string | null;
  /** Where its bytes lie in the source. */
  offset: number;
  size: number;
}

export type TnefResult =
  | {
      ok: true;
      attachments: TnefAttachment[];
      /** Attachments without data of their own (an attached Outlook item, an OLE object): not taken out. */
      skipped: number;
    }
  | { ok: false; problem: string };

export function bufferSource(bytes: Buffer): TnefSource {
  return { size: bytes.length, read: async (offset, length) => bytes.subarray(offset, offset + length) };
}

/** Whether `head` starts with the TNEF signature. */
export function isTnef(head: Uint8Array): boolean {
  return head.length >= 4 && Buffer.from(head.buffer, head.byteOffset, 4).readUInt32LE(0) === SIGNATURE;
}

interface Pending {
  title?: Buffer;
  props?: Props;
  data?: { offset: number; size: number };
}

interface Props {
  longName?: string;
  fileName?: string;
  displayName?: string;
  mime?: string;
}

export async function readTnef(source: TnefSource, limits: Partial<TnefLimits> = {}): Promise<TnefResult> {
  const max = { ...DEFAULT_TNEF_LIMITS, ...limits };
  if (source.size < 6 || !isTnef(await source.read(0, 4)))
    return { ok: false, problem: "not TNEF: the signature 78 9F 3E 22 is missing" };
  const found: Pending[] = [];
  let codepage = 1252;
  let current: Pending | null = null;
  let count = 0;
  for (let at = 6; at < source.size;) {
    if (++count > max.attributes) return { ok: false, problem: `more than ${max.attributes} attributes` };
    if (source.size - at < HEADER + CHECKSUM)
      return { ok: false, problem: `truncated: an attribute at byte ${at} is cut off` };
    const head = await source.read(at, HEADER);
    const level = head.readUInt8(0);
    const id = head.readUInt32LE(1);
    const length = head.readUInt32LE(5);
    const dataAt = at + HEADER;
    if (level !== 1 && level !== 2)
      return { ok: false, problem: `attribute at byte ${at} has level ${level}, not 1 or 2` };
    if (length > source.size - dataAt - CHECKSUM)
      return {
        ok: false,
        problem: `truncated: attribute 0x${id.toString(16)} at byte ${at} declares ${length} bytes, ${Math.max(0, source.size - dataAt - CHECKSUM)} are left`,
      };
    if (id === ATT_ATTACH_RENDDATA) {
      if (found.length >= max.attachments)
        return { ok: false, problem: `more than ${max.attachments} attachments` };
      found.push((current = {}));
    } else if (current && id === ATT_ATTACH_TITLE && length <= 64 * 1024) {
      current.title = await source.read(dataAt, length);
    } else if (current && id === ATT_ATTACH_DATA) {
      current.data = { offset: dataAt, size: length };
    } else if (current && id === ATT_ATTACHMENT && length <= max.propertyBytes) {
      current.props = readProps(await source.read(dataAt, length), codepage);
    } else if (id === ATT_OEM_CODEPAGE && length >= 4) {
      codepage = (await source.read(dataAt, 4)).readUInt32LE(0);
    }
    at = dataAt + length + CHECKSUM;
  }
  const attachments: TnefAttachment[] = [];
  for (const [i, pending] of found.entries()) {
    if (!pending.data) continue;
    const props = pending.props ?? {};
    const title = pending.title ? decode8(pending.title, codepage) : "";
    const name = baseName(props.longName || props.fileName || title || props.displayName || "");
    attachments.push({
      name: name || `attachment-${i + 1}.bin`,
      contentType: props.mime && /^[\w.+-]+\/[\w.+-]+$/.test(props.mime) ? props.mime.toLowerCase() : null,
      ...pending.data,
    });
  }
  return { ok: true, attachments, skipped: found.length - attachments.length };
}

/** An 8-bit string in the message's code page, up to its NUL (cp932 for Japanese Outlook). */
function decode8(bytes: Buffer, codepage: number): string {
  const end = bytes.indexOf(0);
  const text = end >= 0 ? bytes.subarray(0, end) : bytes;
  const encoding = codepage === 65001 ? "utf8" : `cp${codepage}`;
  return iconv.encodingExists(encoding) ? iconv.decode(text, encoding) : text.toString("latin1");
}

/** Outlook may keep a path ("C:\\Users\\…\\見積書.xlsx"): only the last part names the file. */
function baseName(name: string): string {
  return name.slice(Math.max(name.lastIndexOf("/"), name.lastIndexOf("\\")) + 1).trim();
}

/**
 * The wanted properties of an attAttachment ([MS-OXTNEF] 2.1.3.4). Reading stops at the first
 * thing that does not fit (an unknown type, a length past the end): what was found is kept.
 */
function readProps(bytes: Buffer, codepage: number): Props {
  const props: Props = {};
  let at = 0;
  const u32 = () => {
    if (at + 4 > bytes.length) throw new RangeError("past the end");
    const v = bytes.readUInt32LE(at);
    at += 4;
    return v;
  };
  const skip = (n: number) => {
    if (n > bytes.length - at) throw new RangeError("past the end");
    at += n;
  };
  const padded = (n: number) => n + ((4 - (n % 4)) % 4);
  try {
    const count = u32();
    for (let p = 0; p < count; p++) {
      const tag = u32();
      const type = tag & 0xffff;
      const id = tag >>> 16;
      if (id >= 0x8000) {
        skip(16); // the named property's GUID
        const kind = u32();
        if (kind === 0) skip(4);
        else skip(padded(u32()));
      }
      const base = type & ~MULTI;
      const values = type & MULTI || VARIABLE.has(base) ? u32() : 1;
      if (values > bytes.length) return props;
      for (let v = 0; v < values; v++) {
        if (VARIABLE.has(base)) {
          const length = u32();
          const start = at;
          skip(padded(length));
          if (v === 0 && (base === PT_STRING8 || base === PT_UNICODE))
            keep(props, id, bytes.subarray(start, start + length), base, codepage);
        } else {
          const size = FIXED[base];
          if (size === undefined) return props; // a type not known here: its size is unknown too
          skip(size);
        }
      }
    }
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
  }
  return props;
}

function keep(props: Props, id: number, raw: Buffer, type: number, codepage: number): void {
  const text = (type === PT_UNICODE ? raw.toString("utf16le") : decode8(raw, codepage)).replace(/\0+$/, "");
  if (id === PR_ATTACH_LONG_FILENAME) props.longName = text;
  else if (id === PR_ATTACH_FILENAME) props.fileName = text;
  else if (id === PR_DISPLAY_NAME) props.displayName = text;
  else if (id === PR_ATTACH_MIME_TAG) props.mime = text.trim();
}

/** A file read piece by piece (only attribute headers and small attributes are ever read). */
export async function fileSource(handle: FileHandle): Promise<TnefSource> {
  const { size } = await handle.stat();
  return {
    size,
    async read(offset, length) {
      const bytes = Buffer.alloc(length);
      const { bytesRead } = await handle.read(bytes, 0, length, offset);
      return bytes.subarray(0, bytesRead);
    },
  };
}
