import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { Frame } from 'playwright-core';
import { startStack, type Stack } from '../test/helpers/stack.js';
import { activatePrompt, allowLlm, homeIds } from '../test/helpers/queue-fixtures.js';
import { launchChromium } from './browser.js';
import { makePdf } from '../test/helpers/documents.js';

/**
 * The htmx wiring in a real browser, inside the LMS iframe: students submit typed text and a file (multipart through
 * htmx) and see what a PDF reads as before they submit it, the administrator ticks a whole page with the page checkbox, creates a batch (htmx post, then HX-Redirect)
 * and confirms it from the batches page.
 */
describe('queue pages in headless Chromium', () => {
  let stack: Stack;
  let chrome: Awaited<ReturnType<typeof launchChromium>>;
  beforeAll(async () => {
    stack = await startStack({ env: { BATCH_MIN_SIZE: '2' } });
    await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    const home = await homeIds(stack);
    await allowLlm(stack.db.db, home.courseId, home.instructorId);
    await activatePrompt(stack.db.db, home, home.taskId);
    chrome = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await chrome?.close();
    await stack?.close();
  });

  const open = async (login: string, query = '') => {
    const page = await chrome.context.newPage();
    await page.goto(`${stack.devlmsUrl}/launch/${login}${query}`);
    const frame = (await (await page.waitForSelector('iframe')).contentFrame())!;
    return { page, frame };
  };

  const submitAs = async (login: string, fill: (frame: Frame) => Promise<void>) => {
    const { page, frame } = await open(login, '?task=1');
    await frame.waitForSelector('#student-submit', { timeout: 15_000 });
    await fill(frame);
    await frame.getByRole('button', { name: /Submit attempt 1/ }).click();
    await frame.waitForSelector('text=Your work was submitted.', { timeout: 15_000 });
    const status = await frame.locator('#student-submissions [data-status]').first().getAttribute('data-status');
    await page.close();
    return status;
  };

  it('students submit typed text and a plain-text file through the htmx form', async () => {
    expect(await submitAs('student1', (f) => f.getByLabel('Your answer').fill('The colonists protested the Tea Act by dumping tea into the harbour.'))).toBe('queued');
    const file = path.join(tmpdir(), `answer-${Date.now()}.txt`);
    writeFileSync(file, 'Taxation without representation led to the Boston Tea Party.');
    expect(await submitAs('student2', (f) => f.getByLabel('Or upload a file').setInputFiles(file))).toBe('queued');
    const rows = await stack.db.db.execute<{ n: number; files: number }>(sql`select count(*)::int as n, count(original_filename)::int as files from submissions`);
    expect(rows.rows[0]).toEqual({ n: 2, files: 1 });
  }, 60_000);

  it('the administrator selects the page, creates a batch and confirms it', async () => {
    const { page, frame } = await open('admin');
    await frame.waitForSelector('text=Administration', { timeout: 15_000 });
    await frame.getByRole('link', { name: 'Queue', exact: true }).click();
    await frame.waitForSelector('#queue-actions', { timeout: 15_000 });
    await frame.getByLabel('Select every item on this page').check();
    expect(await frame.locator('input[name="ids"]:checked').count()).toBe(2);
    await frame.getByLabel('Notes on the batches').fill('from the browser');
    await frame.getByRole('button', { name: 'Create batches from the selection' }).click();
    await frame.waitForSelector('text=Waiting for your confirmation', { timeout: 15_000 });
    await frame.getByRole('button', { name: /^Send batch \d+/ }).click();
    await frame.waitForSelector('text=Confirmed, being sent', { timeout: 15_000 });
    const batch = await stack.db.db.execute<{ notes: string; request_total: number; confirmed: boolean }>(sql`select notes, request_total, submit_requested_at is not null as confirmed from batches`);
    expect(batch.rows).toEqual([{ notes: 'from the browser', request_total: 2, confirmed: true }]);
    // The monitor's progress bar is exposed to assistive technology.
    expect(await frame.getByRole('progressbar', { name: 'Requests done' }).count()).toBe(1);
    await page.close();
  }, 60_000);

  // After the batch above: this submission stays in the queue.
  it('a student who chooses a PDF sees its pages, words and first lines before submitting it', async () => {
    const file = path.join(tmpdir(), `report-${Date.now()}.pdf`);
    writeFileSync(file, makePdf([['The Estates-General met in May 1789.'], ['Bread prices had doubled in a year.']]));
    const { page, frame } = await open('student3', '?task=1');
    await frame.waitForSelector('#student-submit', { timeout: 15_000 });
    const count = async () => Number((await stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from submissions`)).rows[0]!.n);
    const before = await count();
    await frame.getByLabel('Or upload a file').setInputFiles(file);
    const preview = frame.locator('#student-file-preview');
    await preview.locator('text=This is the text that will be graded').waitFor({ timeout: 15_000 });
    expect(await preview.getAttribute('aria-live')).toBe('polite');
    expect(await preview.textContent()).toContain('2 pages, 13 words');
    expect(await preview.locator('pre').textContent()).toBe('The Estates-General met in May 1789.\n\nBread prices had doubled in a year.');
    // The check button previews again without submitting.
    await frame.getByRole('button', { name: 'Check the file first' }).click();
    await preview.locator('text=2 pages, 13 words').waitFor({ timeout: 15_000 });
    expect(await count()).toBe(before);
    await frame.getByRole('button', { name: /Submit attempt 1/ }).click();
    await frame.waitForSelector('text=Your work was submitted.', { timeout: 15_000 });
    const rows = await stack.db.db.execute<{ original_filename: string }>(sql`select original_filename from submissions order by id desc limit 1`);
    expect(rows.rows[0]).toEqual({ original_filename: file.split('/').pop() });
    await page.close();
  }, 60_000);
});
