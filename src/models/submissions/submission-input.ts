import path from 'node:path';
import { charCount } from '../../chars.js';
import type { Config } from '../../config.js';
import { languageOfFile } from '../../grading/code-language.js';
import { z } from 'zod';
import { docxText, pdfText, type DocumentRead } from './file-text.js';

/**
 * What a student sends: typed text (plain or markdown) or one file — plain text, source code, a PDF with a text
 * layer or a Word document (.docx). Parsed here into one text, or field messages for the form. Other binary files
 * (old Word, images, RTF, other ZIPs) are refused with a message saying what to do.
 */

export interface UploadedFile {
  originalName: string;
  mimeType: string;
  bytes: Buffer;
}

export interface SubmissionLimits {
  maxChars: number;
  /** Plain-text and source-code files. */
  maxFileBytes: number;
  /** PDF and Word files (their text is small; their fonts and images are not). */
  maxDocumentBytes: number;
  maxPdfPages: number;
}

export type SubmissionLimitsConfig = Pick<Config, 'submissionMaxChars' | 'submissionMaxFileBytes' | 'submissionMaxDocumentBytes' | 'submissionMaxPdfPages'>;

/** The limits of the configuration (SUBMISSION_MAX_*), as the submission and its preview both apply them. */
export function submissionLimitsOf(config: SubmissionLimitsConfig): SubmissionLimits {
  return { maxChars: config.submissionMaxChars, maxFileBytes: config.submissionMaxFileBytes, maxDocumentBytes: config.submissionMaxDocumentBytes, maxPdfPages: config.submissionMaxPdfPages };
}

export interface ParsedSubmission {
  text: string;
  format: 'text' | 'markdown';
  originalFilename: string | null;
}

export type SubmissionParse = { ok: true; value: ParsedSubmission } | { ok: false; fields: Record<string, string> };

/** What was read from a file: the text that will be stored and graded, and what a student is shown about it. */
export interface FileReading {
  /** The file's own name (no directories), for messages and the preview. */
  name: string;
  kind: 'pdf' | 'docx' | 'markdown' | 'code' | 'text';
  text: string;
  /** A PDF's pages; null for other files. */
  pages: number | null;
  /** Pages of a PDF with no text on them (images, scans): they are not read. */
  emptyPages: number[];
  /** The programming language of a source-code file (from its extension). */
  language: string | null;
  words: number;
  chars: number;
}

export type FileRead = { ok: true; value: FileReading } | { ok: false; message: string };

const formSchema = z.object({
  text: z.string().optional().default(''),
  format: z.enum(['text', 'markdown']).optional().default('text'),
});

const TEXT_EXTENSIONS = new Set(['.txt', '.text', '.md', '.markdown']);
const MARKDOWN = /\.(md|markdown)$/i;

const KINDS_ACCEPTED = 'a PDF (with text), a Word document (.docx), a plain-text file (.txt, .md) or a source-code file';

type Signature = { bytes: number[]; read: 'pdf' | 'zip' } | { bytes: number[]; what: string; hint: string };

/** Known binary formats by their first bytes: PDF and ZIP (a .docx) are read; the rest get a clearer message than "not text". */
const SIGNATURES: Signature[] = [
  { bytes: [0x25, 0x50, 0x44, 0x46], read: 'pdf' },
  { bytes: [0x50, 0x4b, 0x03, 0x04], read: 'zip' },
  { bytes: [0xd0, 0xcf, 0x11, 0xe0], what: 'an old Word document (.doc)', hint: 'Save it as .docx or PDF in your word processor (File › Save As), or paste your text into the box.' },
  { bytes: [0x89, 0x50, 0x4e, 0x47], what: 'a PNG image', hint: 'Images are not read. Upload your work as text, .docx or PDF, or paste it into the box.' },
  { bytes: [0xff, 0xd8, 0xff], what: 'a JPEG image', hint: 'Images are not read. Upload your work as text, .docx or PDF, or paste it into the box.' },
  { bytes: [0x7b, 0x5c, 0x72, 0x74, 0x66], what: 'an RTF document', hint: 'Save it as .docx or PDF, or paste your text into the box.' },
];

/** A size as people read it: "800 bytes", "2.6 KB", "200 KB", "10 MB" (a file just over a limit must not read as the limit). */
export function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} bytes`;
  const [n, unit] = bytes >= 1_000_000 ? [bytes / 1_000_000, 'MB'] : [bytes / 1000, 'KB'];
  return `${n >= 100 ? Math.round(n) : Number(n.toFixed(1))} ${unit}`;
}

/** Words as a reader counts them: runs of letters or digits, joined by an apostrophe, hyphen or dot ("don't", "e-mail", "3.5"). */
export function countWords(text: string): number {
  return (text.match(/[\p{L}\p{N}]+(?:['’.-][\p{L}\p{N}]+)*/gu) ?? []).length;
}

/** Line endings normalized; NUL and other control characters (except tab and newline) removed. */
function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '');
}

function tooLarge(name: string, bytes: number, limit: number, what: string): string | null {
  return bytes > limit ? `${name} is ${formatSize(bytes)}; ${what} may be at most ${formatSize(limit)}.` : null;
}

/** A plain-text or source-code file: UTF-8 without the control characters of a binary. */
function plainText(name: string, file: UploadedFile, limits: SubmissionLimits, language: string | null): DocumentRead {
  const ext = path.extname(name).toLowerCase();
  if (!TEXT_EXTENSIONS.has(ext) && !language && !file.mimeType.startsWith('text/')) {
    return { ok: false, message: `${name} cannot be read. Upload ${KINDS_ACCEPTED}, or paste your text into the box.` };
  }
  const big = tooLarge(name, file.bytes.length, limits.maxFileBytes, 'text and source-code files');
  if (big) return { ok: false, message: big };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(file.bytes);
  } catch {
    return { ok: false, message: `${name} is not UTF-8 text (it may be a binary file). Save it as plain text (UTF-8) or paste your text into the box.` };
  }
  // Text files have no NUL bytes and few control characters; binaries that happen to be valid UTF-8 have many.
  // eslint-disable-next-line no-control-regex
  const controls = (text.match(/[\u0000-\u0008\u000e-\u001f]/g) ?? []).length;
  if (text.includes('\u0000') || controls > Math.max(8, text.length / 100)) {
    return { ok: false, message: `${name} looks like a binary file, not text. Upload ${KINDS_ACCEPTED}.` };
  }
  return { ok: true, text: text.replace(/^\uFEFF/, ''), pages: null, emptyPages: [] };
}

/**
 * Reads one uploaded file into the text that will be graded: a PDF's text layer, a Word document's paragraphs, a
 * text or source-code file as it is. Refused, with a message for the file field, when it is empty, too large, of a
 * kind not read, a PDF without text or over the page limit, or longer than the character limit once read.
 */
export async function readUpload(file: UploadedFile, limits: SubmissionLimits): Promise<FileRead> {
  const name = path.basename(file.originalName).slice(0, 255) || 'the file';
  if (file.bytes.length === 0) return { ok: false, message: `${name} is empty.` };
  const signature = SIGNATURES.find((s) => s.bytes.every((b, i) => file.bytes[i] === b));
  if (signature && 'what' in signature) return { ok: false, message: `${name} is ${signature.what}. ${signature.hint}` };
  const language = signature ? null : languageOfFile(name);
  let kind: FileReading['kind'];
  let read: DocumentRead;
  if (signature) {
    const big = tooLarge(name, file.bytes.length, limits.maxDocumentBytes, 'PDF and Word files');
    if (big) return { ok: false, message: big };
    kind = signature.read === 'pdf' ? 'pdf' : 'docx';
    read = signature.read === 'pdf' ? await pdfText(name, file.bytes, limits.maxPdfPages) : await docxText(name, file.bytes);
  } else {
    kind = language ? 'code' : MARKDOWN.test(name) ? 'markdown' : 'text';
    read = plainText(name, file, limits, language);
  }
  if (!read.ok) return read;
  const text = clean(read.text);
  if (!text.trim()) return { ok: false, message: `${name} has no text in it.` };
  const chars = charCount(text);
  if (chars > limits.maxChars) {
    return { ok: false, message: `Your work has ${chars.toLocaleString('en')} characters; the limit is ${limits.maxChars.toLocaleString('en')}.` };
  }
  return { ok: true, value: { name, kind, text, pages: read.pages, emptyPages: read.emptyPages, language, words: countWords(text), chars } };
}

export async function parseSubmission(body: unknown, file: UploadedFile | undefined, limits: SubmissionLimits): Promise<SubmissionParse> {
  const form = formSchema.safeParse(body ?? {});
  if (!form.success) return { ok: false, fields: { format: 'Choose plain text or markdown.' } };
  const typed = form.data.text;
  if (file) {
    if (typed.trim()) return { ok: false, fields: { file: 'Either type your work or upload a file, not both.' } };
    const read = await readUpload(file, limits);
    if (!read.ok) return { ok: false, fields: { file: read.message } };
    // A .md file is Markdown and a text file what the student chose; PDF, Word and code are shown as plain text.
    const { kind } = read.value;
    const format = kind === 'markdown' ? 'markdown' : kind === 'text' ? form.data.format : 'text';
    return { ok: true, value: { text: read.value.text, format, originalFilename: path.basename(file.originalName).slice(0, 255) || null } };
  }
  const text = clean(typed);
  if (!text.trim()) return { ok: false, fields: { text: 'Write your answer, or upload a file.' } };
  const chars = charCount(text);
  if (chars > limits.maxChars) {
    return { ok: false, fields: { text: `Your work has ${chars.toLocaleString('en')} characters; the limit is ${limits.maxChars.toLocaleString('en')}.` } };
  }
  return { ok: true, value: { text, format: form.data.format, originalFilename: null } };
}
