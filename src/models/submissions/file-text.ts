import mammoth from 'mammoth';
import { extractText, getDocumentProxy } from 'unpdf';

/**
 * The text of a PDF (its text layer) or a Word document (.docx), read in memory with pure-JavaScript libraries:
 * unpdf (a server build of Mozilla's pdf.js) and mammoth. What they read is what is stored, anonymized and graded;
 * nothing here keeps the file. Every refusal is a message a student can act on.
 */

export type DocumentRead = { ok: true; text: string; pages: number | null; emptyPages: number[] } | { ok: false; message: string };

/**
 * A PDF whose text layer has fewer letters and digits than this per page (or than MIN_TEXT in all) is taken for a
 * scan: its few characters are page numbers or a stamp, not the work, and grading it would grade nothing.
 */
const MIN_TEXT_PER_PAGE = 10;
const MIN_TEXT = 20;

/** The XML a .docx may unpack to (mammoth reads its parts whole, in memory): far above any essay, far below a zip bomb. */
const MAX_DOCX_XML_BYTES = 50_000_000;

const ALNUM = /[\p{L}\p{N}]/gu;
const alnumCount = (text: string) => (text.match(ALNUM) ?? []).length;

const WORD_OR_PASTE = 'Export it again as a PDF from your word processor (with text, not as an image), upload the .docx, or paste your text into the box.';

/** The text layer of a PDF, page by page; refused when it is protected, broken, too long or has (nearly) no text. */
export async function pdfText(name: string, bytes: Buffer, maxPages: number): Promise<DocumentRead> {
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    // A copy: pdf.js may take over (detach) the buffer it is given, and multer's may be shared.
    pdf = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0, isEvalSupported: false, disableFontFace: true, useSystemFonts: false });
  } catch (err) {
    if ((err as { name?: string }).name === 'PasswordException') {
      return { ok: false, message: `${name} is protected with a password, so its text cannot be read. Save it again without the password, or paste your text into the box.` };
    }
    return { ok: false, message: `${name} could not be read as a PDF (it may be damaged or incomplete). ${WORD_OR_PASTE}` };
  }
  try {
    if (pdf.numPages > maxPages) {
      return { ok: false, message: `${name} has ${pdf.numPages.toLocaleString('en')} pages; a PDF may have at most ${maxPages.toLocaleString('en')}.` };
    }
    let pages: string[];
    try {
      pages = (await extractText(pdf, { mergePages: false })).text;
    } catch {
      return { ok: false, message: `${name} could not be read as a PDF (it may be damaged or incomplete). ${WORD_OR_PASTE}` };
    }
    const counts = pages.map(alnumCount);
    const total = counts.reduce((a, b) => a + b, 0);
    if (total < Math.max(MIN_TEXT, MIN_TEXT_PER_PAGE * pages.length)) {
      return {
        ok: false,
        message: `${name} has no text layer (it may be a scan or a photo of pages), so there is no text to grade. ${WORD_OR_PASTE}`,
      };
    }
    const emptyPages = counts.flatMap((n, i) => (n === 0 ? [i + 1] : []));
    return { ok: true, text: pages.map((p) => p.trim()).filter(Boolean).join('\n\n'), pages: pages.length, emptyPages };
  } finally {
    await pdf.destroy();
  }
}

interface ZipEntry {
  name: string;
  uncompressedSize: number;
}

/** The entries of a ZIP's central directory (names and declared sizes), or null when it has none we can read. */
function zipEntries(bytes: Buffer): ZipEntry[] | null {
  // The end-of-central-directory record: 22 bytes plus a comment of up to 65,535, at the very end.
  const from = Math.max(0, bytes.length - 22 - 0xffff);
  let end = -1;
  for (let i = bytes.length - 22; i >= from; i--) {
    if (bytes.readUInt32LE(i) === 0x06054b50) {
      end = i;
      break;
    }
  }
  if (end < 0) return null;
  const count = bytes.readUInt16LE(end + 10);
  let at = bytes.readUInt32LE(end + 16);
  const entries: ZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    if (at + 46 > bytes.length || bytes.readUInt32LE(at) !== 0x02014b50) return null;
    const nameLength = bytes.readUInt16LE(at + 28);
    const extraLength = bytes.readUInt16LE(at + 30);
    const commentLength = bytes.readUInt16LE(at + 32);
    if (at + 46 + nameLength > bytes.length) return null;
    entries.push({ name: bytes.toString('utf8', at + 46, at + 46 + nameLength), uncompressedSize: bytes.readUInt32LE(at + 24) });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** What a ZIP-based file is, for the message when it is not a Word document. */
function zipKind(entries: ZipEntry[]): 'docx' | 'opendocument' | 'other' {
  const names = new Set(entries.map((e) => e.name));
  if (names.has('word/document.xml')) return 'docx';
  if (names.has('mimetype') && names.has('content.xml')) return 'opendocument';
  return 'other';
}

/** The text of a Word document (.docx), a paragraph a line with a blank line between; other ZIP files refused. */
export async function docxText(name: string, bytes: Buffer): Promise<DocumentRead> {
  const entries = zipEntries(bytes);
  if (!entries) return { ok: false, message: `${name} could not be read (it may be damaged or incomplete). Save it again as .docx or PDF, or paste your text into the box.` };
  const kind = zipKind(entries);
  if (kind === 'opendocument') {
    return { ok: false, message: `${name} is an OpenDocument file. Save it as Word (.docx) or PDF, or paste your text into the box.` };
  }
  if (kind === 'other') {
    return { ok: false, message: `${name} is a ZIP archive, not a Word document. Upload one .docx, PDF, plain-text or source-code file, or paste your text into the box.` };
  }
  // Declared sizes; 0xFFFFFFFF means a ZIP64 size, which no essay needs.
  const xml = entries.filter((e) => /\.(xml|rels)$/i.test(e.name)).reduce((sum, e) => sum + (e.uncompressedSize === 0xffffffff ? Infinity : e.uncompressedSize), 0);
  if (xml > MAX_DOCX_XML_BYTES) {
    return { ok: false, message: `${name} unpacks to far more text than a submission can have. Save it again as .docx or PDF, or paste your text into the box.` };
  }
  let raw: string;
  try {
    raw = (await mammoth.extractRawText({ buffer: bytes })).value;
  } catch {
    return { ok: false, message: `${name} could not be read as a Word document (it may be damaged). Save it again as .docx or PDF, or paste your text into the box.` };
  }
  // mammoth ends every paragraph with a blank line: keep one between paragraphs, none at the ends.
  const text = raw.replace(/\r\n?/g, '\n').replace(/\n{3,}/g, '\n\n').trim();
  return { ok: true, text, pages: null, emptyPages: [] };
}
