import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import type { Frame, Page } from 'playwright-core';
import { startStack, type Stack } from '../test/helpers/stack.js';
import { activatePrompt, allowLlm, homeIds } from '../test/helpers/queue-fixtures.js';
import { until } from '../test/helpers/until.js';
import { launchChromium } from './browser.js';

/**
 * Issue 19's acceptance in a real browser, inside the LMS iframe, with a worker, the OpenAI emulator and the dev
 * LMS's mail catcher: a student submits, the administrator sends the batch, it completes, the instructor approves —
 * and the student's inbox and the LMS's Mail page both show "feedback ready".
 */
describe('feedback ready, from submission to inbox and mailbox', () => {
  let stack: Stack;
  let chrome: Awaited<ReturnType<typeof launchChromium>>;
  const READY = 'Your feedback on “Essay: Causes of the French Revolution” is ready';

  beforeAll(async () => {
    stack = await startStack({
      role: 'all',
      emulator: true,
      mail: true,
      env: { BATCH_MIN_SIZE: '1', BATCH_POLL_MIN_MS: '10', BATCH_POLL_MAX_MS: '50', BATCH_LEASE_MS: '5000', BATCH_SWEEP_MS: '300', JOBS_PROCESS_EVERY_MS: '250' },
    });
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

  const open = async (login: string, query = ''): Promise<{ page: Page; frame: Frame }> => {
    const page = await chrome.context.newPage();
    await page.goto(`${stack.devlmsUrl}/launch/${login}${query}`);
    const frame = (await (await page.waitForSelector('iframe')).contentFrame())!;
    return { page, frame };
  };

  it('student submits, batch completes, instructor approves: the inbox and the mail catcher say so', async () => {
    const student = await open('student1', '?task=1');
    await student.frame.waitForSelector('#student-submit', { timeout: 15_000 });
    await student.frame.getByLabel('Your answer').fill('Royal debt, bad harvests and Enlightenment ideas together brought the Estates-General to Versailles in 1789.');
    await student.frame.getByRole('button', { name: /Submit attempt 1/ }).click();
    await student.frame.waitForSelector('text=Your work was submitted.', { timeout: 15_000 });
    await student.page.close();

    const admin = await open('admin');
    await admin.frame.waitForSelector('text=Administration', { timeout: 15_000 });
    await admin.frame.getByRole('link', { name: 'Queue', exact: true }).click();
    await admin.frame.waitForSelector('#queue-actions', { timeout: 15_000 });
    await admin.frame.getByLabel('Select every item on this page').check();
    await admin.frame.getByRole('button', { name: 'Create batches from the selection' }).click();
    await admin.frame.waitForSelector('text=Waiting for your confirmation', { timeout: 15_000 });
    await admin.frame.getByRole('button', { name: /^Send batch \d+/ }).click();
    await admin.frame.waitForSelector('text=Confirmed, being sent', { timeout: 15_000 });
    await admin.page.close();
    await until('the batch to be graded', async () => ((await stack.db.db.execute(sql`select 1 from assessments where review_status = 'pending_review'`)).rows.length === 1 ? true : undefined));

    const instructor = await open('instructor', '?task=1');
    await instructor.frame.waitForSelector('.badge-instructor', { timeout: 15_000 });
    await instructor.frame.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Review', exact: true }).click();
    await instructor.frame.waitForSelector('#review-queue');
    await instructor.frame.click('#review-queue tr[data-assessment] a');
    await instructor.frame.getByRole('button', { name: 'Approve', exact: true }).click();
    await instructor.frame.waitForSelector('.status-approved', { timeout: 15_000 });
    await instructor.page.close();

    const again = await open('student1', '?task=1');
    await again.frame.waitForSelector('#inbox-link', { timeout: 15_000 });
    expect(await again.frame.textContent('#inbox-link')).toMatch(/Inbox \(\d+ unread\)/);
    await again.frame.click('#inbox-link');
    await again.frame.waitForSelector(`#inbox-list >> text=${READY}`, { timeout: 15_000 });
    await again.page.close();

    // The worker sends the e-mail after the approval; the LMS's Mail page shows it as it arrives.
    const mail = await chrome.context.newPage();
    await until('the e-mail at the mail catcher', async () => {
      await mail.goto(`${stack.devlmsUrl}/mail`);
      return (await mail.textContent('main'))!.includes(READY) ? true : undefined;
    }, 30_000, 250);
    const article = mail.locator('article', { hasText: READY });
    expect(await article.textContent()).toContain('amara.okafor@example.edu');
    expect(await article.textContent()).toContain(`Open it in your LMS: ${stack.devlmsUrl}/`);
    await mail.close();
  }, 120_000);
});
