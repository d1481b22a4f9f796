import path from 'node:path';
import { charCount } from '../../chars.js';
import { z } from 'zod';

/**
 * What a student sends: typed text (plain or markdown) or one plain-text file. Parsed here into one text, or
 * field messages for the form. Binary files (Word, PDF, images) are refused with a message saying what to do.
 */

export interface UploadedFile {
  originalName: string;
  mimeType: string;
  bytes: Buffer;
}

export interface SubmissionLimits {
  maxChars: number;
  maxFileBytes: number;
}

export interface ParsedSubmission {
  text: string;
  format: 'text' | 'markdown';
  originalFilename: string | null;
}

export type SubmissionParse = { ok: true; value: ParsedSubmission } | { ok: false; fields: Record<string, string> };

const formSchema = z.object({
  text: z.string().optional().default(''),
  format: z.enum(['text', 'markdown']).optional().default('text'),
});

const TEXT_EXTENSIONS = new Set(['.txt', '.text', '.md', '.markdown']);

/** Known binary formats by their first bytes: a clearer message than "not text". */
const SIGNATURES: Array<{ bytes: number[]; what: string }> = [
  { bytes: [0x25, 0x50, 0x44, 0x46], what: 'a PDF document' },
  { bytes: [0x50, 0x4b, 0x03, 0x04], what: 'a Word, OpenDocument or ZIP file' },
  { bytes: [0xd0, 0xcf, 0x11, 0xe0], what: 'an old Word document' },
  { bytes: [0x89, 0x50, 0x4e, 0x47], what: 'a PNG image' },
  { bytes: [0xff, 0xd8, 0xff], what: 'a JPEG image' },
  { bytes: [0x7b, 0x5c, 0x72, 0x74, 0x66], what: 'an RTF document' },
];

export function formatSize(bytes: number): string {
  return bytes >= 1_000_000 ? `${(bytes / 1_000_000).toFixed(1)} MB` : `${Math.round(bytes / 1000)} KB`;
}

/** Line endings normalized; NUL and other control characters (except tab and newline) removed. */
function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '');
}

function readFile(file: UploadedFile, limits: SubmissionLimits): { ok: true; text: string } | { ok: false; message: string } {
  const name = file.originalName || 'the file';
  if (file.bytes.length === 0) return { ok: false, message: `${name} is empty.` };
  if (file.bytes.length > limits.maxFileBytes) return { ok: false, message: `${name} is ${formatSize(file.bytes.length)}; files may be at most ${formatSize(limits.maxFileBytes)}.` };
  const signature = SIGNATURES.find((s) => s.bytes.every((b, i) => file.bytes[i] === b));
  if (signature) return { ok: false, message: `${name} is ${signature.what}. Upload a plain-text file (.txt or .md), or paste your text into the box.` };
  const ext = path.extname(name).toLowerCase();
  if (!TEXT_EXTENSIONS.has(ext) && !file.mimeType.startsWith('text/')) {
    return { ok: false, message: `Only plain-text files (.txt or .md) can be uploaded; ${name} is not one.` };
  }
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
    return { ok: false, message: `${name} looks like a binary file, not text. Upload a plain-text file (.txt or .md).` };
  }
  return { ok: true, text: text.replace(/^\uFEFF/, '') };
}

export function parseSubmission(body: unknown, file: UploadedFile | undefined, limits: SubmissionLimits): SubmissionParse {
  const form = formSchema.safeParse(body ?? {});
  if (!form.success) return { ok: false, fields: { format: 'Choose plain text or markdown.' } };
  const typed = form.data.text;
  let text: string;
  let format = form.data.format;
  let originalFilename: string | null = null;
  if (file) {
    if (typed.trim()) return { ok: false, fields: { file: 'Either type your work or upload a file, not both.' } };
    const read = readFile(file, limits);
    if (!read.ok) return { ok: false, fields: { file: read.message } };
    text = read.text;
    originalFilename = path.basename(file.originalName).slice(0, 255) || null;
    if (/\.(md|markdown)$/i.test(file.originalName)) format = 'markdown';
  } else {
    text = typed;
  }
  text = clean(text);
  if (!text.trim()) return { ok: false, fields: { [file ? 'file' : 'text']: file ? 'The file has no text in it.' : 'Write your answer, or upload a plain-text file.' } };
  const chars = charCount(text);
  if (chars > limits.maxChars) {
    return {
      ok: false,
      fields: { [file ? 'file' : 'text']: `Your work has ${chars.toLocaleString('en')} characters; the limit is ${limits.maxChars.toLocaleString('en')}.` },
    };
  }
  return { ok: true, value: { text, format, originalFilename } };
}
