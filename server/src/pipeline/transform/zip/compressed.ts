// Deflating what is already compressed costs time (zip.js measured here: 100 MB/s stored, 23 MB/s
// at deflate level 1) and saves nothing, so such files are stored. Known by extension or, for a
// file named otherwise, by its first bytes.
//
// PDF is stored too: its pages, fonts and images are compressed streams of their own (Flate, DCT,
// JBIG2), so deflating a typical PDF gains a few per cent at a fifth of the speed; a PDF that would
// shrink well is rare.

const COMPRESSED_EXTENSIONS = new Set(
  [
    // images
    "jpg jpeg jpe jfif png gif webp heic heif avif jp2 tif tiff",
    // archives and compressed streams
    "zip zipx gz tgz bz2 tbz2 xz txz zst lz lzh lha 7z rar cab jar war apk ipa epub",
    // Office Open XML and OpenDocument are ZIP containers
    "docx docm dotx xlsx xlsm xltx xlsb pptx pptm potx ppsx vsdx odt ods odp odg",
    // audio and video
    "mp3 m4a aac ogg oga opus flac wma mp4 m4v mov avi mkv webm wmv 3gp",
    "pdf",
  ]
    .join(" ")
    .split(" "),
);

/** First bytes of compressed formats (at offset 0 unless `at`). */
const MAGIC: { bytes: number[]; at?: number }[] = [
  { bytes: [0xff, 0xd8, 0xff] }, // JPEG
  { bytes: [0x89, 0x50, 0x4e, 0x47] }, // PNG
  { bytes: [0x47, 0x49, 0x46, 0x38] }, // GIF8
  { bytes: [0x50, 0x4b, 0x03, 0x04] }, // ZIP, and so OOXML, ODF, JAR, EPUB
  { bytes: [0x1f, 0x8b] }, // gzip
  { bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c] }, // 7z
  { bytes: [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07] }, // RAR
  { bytes: [0x42, 0x5a, 0x68] }, // bzip2
  { bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] }, // xz
  { bytes: [0x28, 0xb5, 0x2f, 0xfd] }, // zstd
  { bytes: [0x25, 0x50, 0x44, 0x46, 0x2d] }, // %PDF-
  { bytes: [0x49, 0x44, 0x33] }, // MP3 with an ID3 tag
  { bytes: [0x4f, 0x67, 0x67, 0x53] }, // Ogg
  { bytes: [0x66, 0x74, 0x79, 0x70], at: 4 }, // ISO media: MP4, MOV, HEIC, AVIF
  { bytes: [0x57, 0x45, 0x42, 0x50], at: 8 }, // RIFF….WEBP
];

/** How many first bytes isCompressed() looks at. */
export const MAGIC_BYTES = 16;

/** Whether a file called `name` whose content starts with `head` should be stored, not deflated. */
export function isCompressed(name: string, head: Uint8Array): boolean {
  const dot = name.lastIndexOf(".");
  if (dot >= 0 && COMPRESSED_EXTENSIONS.has(name.slice(dot + 1).toLowerCase())) return true;
  return MAGIC.some(({ bytes, at = 0 }) => bytes.every((b, i) => head[at + i] === b));
}
