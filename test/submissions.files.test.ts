import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { decryptContent } from '../src/crypto/content.js';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { expectToContainAll } from './helpers/expect-text.js';
import { makeDocx, makePdf, oldWordDocument } from './helpers/documents.js';
import { activatePrompt, allowLlm, homeIds, postMultipart, setMaxAttempts, type Home } from './helpers/queue-fixtures.js';

/**
 * Handing in a PDF, a Word document or a source file through the task page (issue 18, item 8), over real HTTP:
 * the preview shows what was read before anything is stored, and the submission reads the file again.
 */
describe('file submissions', () => {
  let stack: Stack;
  let student: ToolSession;
  let other: ToolSession;
  let home: Home;
  const PAGE_1 = ['The Estates-General met in May 1789.', 'The Third Estate declared itself the National Assembly.'];
  const PAGE_2 = ['Bread prices had doubled in a year.'];
  const stored = async () => {
    const r = await stack.db.db.execute<{ s: number; q: number; a: number }>(sql`
      select (select count(*)::int from submissions) as s, (select count(*)::int from queue_items) as q,
             (select count(*)::int from audit_log where action = 'submission.created') as a`);
    return r.rows[0]!;
  };
  const latest = async () => {
    const r = await stack.db.db.execute<{ task_id: number; student_id: number; attempt: number; content: Buffer; content_format: string; original_filename: string | null; char_count: number }>(sql`
      select task_id, student_id, attempt, content, content_format, original_filename, char_count from submissions order by id desc limit 1`);
    const s = r.rows[0]!;
    return { ...s, text: decryptContent(stack.config.encryptionKey, s.content, { taskId: Number(s.task_id), studentId: Number(s.student_id), attempt: s.attempt }) };
  };

  beforeAll(async () => {
    stack = await startStack({ env: { SUBMISSION_MAX_FILE_BYTES: '2000', SUBMISSION_MAX_DOCUMENT_BYTES: '20000', SUBMISSION_MAX_PDF_PAGES: '3', SUBMISSION_MAX_CHARS: '5000' } });
    await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    student = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
    other = await stack.browser().launch(stack.devlmsUrl, 'student2', { task: '1' });
    home = await homeIds(stack);
    await allowLlm(stack.db.db, home.courseId, home.instructorId);
    await activatePrompt(stack.db.db, home, home.taskId);
    await setMaxAttempts(stack.db.db, home.taskId, 20);
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  const submitPath = () => `/student/tasks/${home.taskId}/submissions`;
  const previewPath = () => `/student/tasks/${home.taskId}/submissions/preview`;

  it('offer PDF, Word and source files in the form, with the limits, and a live region for the preview', async () => {
    const page = await student.get(`/student/tasks/${home.taskId}`);
    expect(page.status).toBe(200);
    expectToContainAll(page.html, [
      '<label for="submission-file">Or upload a file</label>',
      'accept=".pdf,.docx,.txt,.md,.markdown,.py,.java,.js,',
      'PDF (with text, at most 3 pages) or Word (.docx), up to 20 KB; plain text (.txt, .md) or source code (.py, .java, .js, .c, …), up to 2 KB.',
      'Scanned pages cannot be read.',
      '<div id="student-file-preview" class="file-preview" aria-live="polite"></div>',
      `hx-post="/student/tasks/${home.taskId}/submissions/preview?ltik=`,
      `formaction="/student/tasks/${home.taskId}/submissions/preview?ltik=`,
    ]);
  });

  it('preview a PDF: its pages, words and first lines, and store nothing', async () => {
    const before = await stored();
    const res = await postMultipart(student, previewPath(), {}, { name: 'report.pdf', type: 'application/pdf', bytes: makePdf([PAGE_1, null, PAGE_2]) });
    expect(res.status).toBe(200);
    // The inside of the live region only.
    expect(res.html).not.toContain('<html');
    expect(res.html).not.toContain('id="student-file-preview"');
    expectToContainAll(res.html, [
      '<strong>report.pdf</strong>: 3 pages, 21 words. This is the text that will be graded:',
      'The Estates-General met in May 1789.\nThe Third Estate declared itself the National Assembly.\n\nBread prices had doubled in a year.</pre>',
      'Page 2 has no text (pictures and scanned pages are not read).',
    ]);
    expect(res.html).not.toContain('choose the file again');
    expect(await stored()).toEqual(before);
  });

  it('preview a Word document and a source file the same way', async () => {
    const docx = await postMultipart(student, previewPath(), {}, { name: 'essay.docx', type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', bytes: makeDocx(['First paragraph.', 'Second paragraph.']) });
    expect(docx.status).toBe(200);
    expect(docx.html).toContain('<strong>essay.docx</strong>: Word document, 4 words.');
    const code = await postMultipart(student, previewPath(), {}, { name: 'stats.py', type: 'text/x-python', bytes: 'def mean(xs):\n    return sum(xs) / len(xs)\n' });
    expect(code.status).toBe(200);
    expect(code.html).toContain('<strong>stats.py</strong>: Python source, 2 lines, 8 words.');
  });

  it('answer a preview with the message the submission would give (422, 413), storing nothing', async () => {
    const before = await stored();
    const scan = await postMultipart(student, previewPath(), {}, { name: 'scan.pdf', type: 'application/pdf', bytes: makePdf([null, null]) });
    expect(scan.status).toBe(422);
    expect(scan.html).toContain('<p id="submission-file-preview-error" class="field-error">scan.pdf has no text layer (it may be a scan or a photo of pages)');
    const long = await postMultipart(student, previewPath(), {}, { name: 'long.pdf', type: 'application/pdf', bytes: makePdf([PAGE_1, PAGE_1, PAGE_1, PAGE_1]) });
    expect(long.status).toBe(422);
    expect(long.html).toContain('long.pdf has 4 pages; a PDF may have at most 3.');
    const big = await postMultipart(student, previewPath(), {}, { name: 'big.pdf', type: 'application/pdf', bytes: Buffer.alloc(25_000, 0x25) });
    expect(big.status).toBe(413);
    expect(big.html).toContain('The file is larger than 20 KB, the most a submission file may be.');
    const none = await postMultipart(student, previewPath(), { text: 'typed only' });
    expect(none.status).toBe(200);
    expect(none.html).toContain('No file chosen.');
    expect(await stored()).toEqual(before);
  });

  it('preview without JavaScript: the whole page, the typed text kept, and a word that the file must be chosen again', async () => {
    const res = await postMultipart(student, previewPath(), { _csrf: student.csrf, text: 'Draft kept.' }, { name: 'report.pdf', type: 'application/pdf', bytes: makePdf([PAGE_1]) }, { htmx: false, csrfHeader: false });
    expect(res.status).toBe(200);
    expect(res.html).toMatch(/^<!doctype html>/i);
    expectToContainAll(res.html, ['<div id="student-file-preview" class="file-preview" aria-live="polite">', '<strong>report.pdf</strong>: 1 page, 14 words.', '>Draft kept.</textarea>', 'choose the file again and submit']);
  });

  it('refuse a preview without the security token (403) or for another course\'s task (404)', async () => {
    const url = new URL(previewPath(), student.toolOrigin).href;
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(makePdf([PAGE_1]))]), 'report.pdf');
    const res = await fetch(url, { method: 'POST', body: form, headers: { authorization: `Bearer ${student.ltik}`, cookie: student.browser.jar.header(url), 'hx-request': 'true' } });
    expect(res.status).toBe(403);
    expect((await postMultipart(student, '/student/tasks/999999/submissions/preview', {}, { name: 'a.py', type: 'text/plain', bytes: 'x = 1' })).status).toBe(404);
  });

  it('take a PDF: the text of its text layer is stored, with its file name', async () => {
    const res = await postMultipart(student, submitPath(), {}, { name: 'report.pdf', type: 'application/pdf', bytes: makePdf([PAGE_1, PAGE_2]) });
    expect(res.status).toBe(201);
    expect(res.html).toContain('Your work was submitted.');
    const s = await latest();
    expect(s).toMatchObject({ original_filename: 'report.pdf', content_format: 'text', text: `${PAGE_1.join('\n')}\n\n${PAGE_2[0]}` });
    expect(s.char_count).toBe(s.text.length);
  });

  it('take a Word document (its paragraphs) and a source file (as it is, its name kept for the language)', async () => {
    expect((await postMultipart(student, submitPath(), {}, { name: 'essay.docx', type: 'application/octet-stream', bytes: makeDocx(['First paragraph.', 'Second paragraph.']) })).status).toBe(201);
    expect(await latest()).toMatchObject({ original_filename: 'essay.docx', content_format: 'text', text: 'First paragraph.\n\nSecond paragraph.' });
    const code = 'def mean(xs):\n    return sum(xs) / len(xs)\n';
    expect((await postMultipart(other, submitPath(), {}, { name: 'stats.py', type: 'text/x-python', bytes: code })).status).toBe(201);
    expect(await latest()).toMatchObject({ original_filename: 'stats.py', content_format: 'text', text: code });
  });

  it('refuse a PDF without a text layer, over the page limit, an old Word file and an oversized file, beside the file field, storing nothing', async () => {
    const before = await stored();
    const cases: Array<[{ name: string; type: string; bytes: Buffer }, number, string]> = [
      [{ name: 'scan.pdf', type: 'application/pdf', bytes: makePdf([null]) }, 422, 'scan.pdf has no text layer (it may be a scan or a photo of pages), so there is no text to grade.'],
      [{ name: 'long.pdf', type: 'application/pdf', bytes: makePdf([PAGE_1, PAGE_1, PAGE_1, PAGE_1]) }, 422, 'long.pdf has 4 pages; a PDF may have at most 3.'],
      [{ name: 'essay.doc', type: 'application/msword', bytes: oldWordDocument() }, 422, 'essay.doc is an old Word document (.doc). Save it as .docx or PDF'],
      [{ name: 'stats.py', type: 'text/x-python', bytes: Buffer.from('#'.repeat(2_400)) }, 422, 'stats.py is 2.4 KB; text and source-code files may be at most 2 KB.'],
      [{ name: 'big.pdf', type: 'application/pdf', bytes: Buffer.alloc(25_000, 0x25) }, 413, 'The file is larger than 20 KB'],
    ];
    for (const [file, status, message] of cases) {
      const res = await postMultipart(student, submitPath(), {}, file);
      expect([file.name, res.status]).toEqual([file.name, status]);
      expect(res.html).toContain(message);
      expect(res.html).toMatch(/id="submission-file"[^>]*aria-invalid="true"/);
    }
    expect(await stored()).toEqual(before);
  });
});
