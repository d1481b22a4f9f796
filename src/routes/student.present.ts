import { CODE_EXTENSIONS } from '../grading/code-language.js';
import type { FileRead } from '../models/submissions/submission-input.js';

/* What the submission form shows about a chosen file before it is handed in (POST …/submissions/preview). */

/** The file field's `accept`: what the reader takes (the server checks again; this only filters the picker). */
export const ACCEPTED_FILES = [
  '.pdf',
  '.docx',
  '.txt',
  '.md',
  '.markdown',
  ...CODE_EXTENSIONS,
  'application/pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'text/plain',
  'text/markdown',
].join(',');

/** Lines of the text shown in the preview: enough to recognize the work, not a second copy of it. */
const EXCERPT_LINES = 12;
const EXCERPT_CHARS = 1_200;

export type FilePreview =
  | { state: 'read'; name: string; summary: string; excerpt: string; more: boolean; note: string | null; reselect: boolean }
  | { state: 'refused'; message: string }
  /** Asked with no file (the choice was cleared, or "Check the file first" pressed before choosing one). */
  | { state: 'none' };

const plural = (n: number, one: string, many: string) => `${n.toLocaleString('en')} ${n === 1 ? one : many}`;

function listPages(pages: number[]): string {
  if (pages.length === 1) return `Page ${pages[0]} has`;
  const shown = pages.slice(0, 10);
  const last = pages.length > 10 ? `${pages.length - 10} more` : String(shown.pop());
  return `Pages ${shown.join(', ')} and ${last} have`;
}

/**
 * The preview of one file: "report.pdf: 3 pages, 1,240 words", the first lines of the text that will be graded,
 * and what was not read (pages without text). `reselect`: the page was posted without JavaScript, so the browser has
 * dropped the chosen file and the student must choose it again to hand it in.
 */
export function presentFilePreview(read: FileRead, reselect: boolean): FilePreview {
  if (!read.ok) return { state: 'refused', message: read.message };
  const r = read.value;
  const lines = r.text.replace(/\n+$/, '').split('\n').length;
  const counts =
    r.kind === 'pdf'
      ? [plural(r.pages ?? 0, 'page', 'pages'), plural(r.words, 'word', 'words')]
      : r.kind === 'docx'
        ? ['Word document', plural(r.words, 'word', 'words')]
        : r.kind === 'code'
          ? [`${r.language} source`, plural(lines, 'line', 'lines'), plural(r.words, 'word', 'words')]
          : [plural(r.words, 'word', 'words')];
  let excerpt = r.text.split('\n').slice(0, EXCERPT_LINES).join('\n');
  if (excerpt.length > EXCERPT_CHARS) excerpt = excerpt.slice(0, EXCERPT_CHARS);
  const more = excerpt.length < r.text.length;
  const note = r.emptyPages.length ? `${listPages(r.emptyPages)} no text (pictures and scanned pages are not read).` : null;
  return { state: 'read', name: r.name, summary: counts.join(', '), excerpt, more, note, reselect };
}
