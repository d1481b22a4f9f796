import { describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { useBrowserStack } from './browser-stack.js';
import { focusedIdOnceSettled } from './browser.js';
import { activatePrompt, allowLlm, homeIds, submitMany, userIdOf } from '../test/helpers/queue-fixtures.js';
import { FAST_BATCH_ENV, testWorker } from '../test/helpers/batch-driver.js';
import { createBatches, requestSubmit } from '../src/models/batches/batches.service.js';
import { sendBatch } from '../src/models/batches/batch-send.service.js';

/**
 * The Costs page as an administrator uses it inside the dev LMS's iframe: a mistake in the budget form is
 * answered beside the field with focus on it, then a budget is set (its 75 % warning shown), frozen — a batch
 * confirmed after it is held, one already at the provider listed with a cancel button — and removed, all through
 * htmx swaps.
 */
describe('costs page in headless Chromium', () => {
  const env = useBrowserStack({ emulator: true, env: FAST_BATCH_ENV });

  it('sets, freezes and removes a budget with the keyboard, and shows usage against it', async () => {
    const { stack, chrome } = env;
    const page = await chrome.context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico') && !m.text().includes('status of 422')) problems.push(`${m.text()} ${m.location().url}`);
    });
    // Something spent this month in the home course, so the budget has usage to show.
    await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
    const home = await homeIds(stack);
    await allowLlm(stack.db.db, home.courseId, home.instructorId);
    await activatePrompt(stack.db.db, home, home.taskId);
    const student = await userIdOf(stack, '5e02');
    const admin = { platformId: home.platformId, userId: home.instructorId };
    const worker = testWorker(stack.db.db, stack.config);
    /** A batch of two new submissions, confirmed (not sent yet). */
    const confirmedBatch = async () => {
      const ids = await submitMany(stack, home, home.taskId, student, 2);
      const { batches: [b] } = await stack.db.db.transaction((tx) => createBatches(tx, stack.config.batches, admin, { scope: 'selected', ids }, {}));
      await requestSubmit(stack.db.db, admin, b!.id);
      return b!.id;
    };
    await stack.db.db.execute(sql`
      insert into cost_ledger (platform_id, course_id, month, kind, amount_micros, idempotency_key)
      select c.platform_id, c.id, date_trunc('month', now())::date, 'charge', 4_250_000, 'charge:browser'
      from courses c where c.context_id = 'course-101'`);

    await page.goto(`${stack.devlmsUrl}/launch/admin`);
    const frame = (await (await page.waitForSelector('iframe')).contentFrame())!;
    await frame.getByRole('link', { name: 'Costs', exact: true }).click({ timeout: 15_000 });
    await frame.waitForSelector('#costs-budgets');
    expect(await frame.locator('#costs-by-course').textContent()).toContain('$4.25');
    await frame.evaluate(() => {
      (globalThis as unknown as { __sameDocument: boolean }).__sameDocument = true;
    });

    await frame.getByLabel('Scope').selectOption({ label: (await frame.locator('#budget-scope option').nth(1).textContent())! });
    await frame.getByLabel('Limit in US dollars').fill('5,00');
    await frame.getByLabel('Limit in US dollars').press('Enter');
    await frame.waitForSelector('#budget-limit-error:has-text("no thousands separators")');
    expect(await focusedIdOnceSettled(frame, 'budget-limit')).toBe('budget-limit');

    await frame.getByLabel('Limit in US dollars').fill('5');
    await frame.getByLabel('Limit in US dollars').press('Enter');
    await frame.waitForSelector('#costs-budgets .alert-success:has-text("Budget set.")');
    const row = frame.locator('#costs-budgets tbody tr').first();
    expect(await row.textContent()).toContain('$4.25 of $5.00 (85%)');
    expect(await row.textContent()).toContain('Warning: 75% or more of the limit is used');
    expect(await frame.locator('meter').getAttribute('aria-label')).toMatch(/85% of the limit used$/);

    // A batch sent before the freeze is at the provider; one confirmed but not sent yet is held by it.
    const running = await confirmedBatch();
    await sendBatch(worker, running);
    const held = await confirmedBatch();
    await frame.getByRole('button', { name: /^Freeze the budget of/ }).press('Enter');
    await frame.waitForSelector('#costs-budgets .alert-success:has-text("Budget frozen")');
    expect(await frame.locator('#costs-budgets tbody tr').first().textContent()).toContain('Frozen');
    await sendBatch(worker, held);
    await frame.getByRole('link', { name: 'Costs', exact: true }).click();
    await frame.waitForSelector(`#costs-open-${held}`);
    expect(await frame.locator(`#costs-open-${held}`).textContent()).toContain('Held by a freeze');
    expect(await frame.locator(`#costs-open-${running}`).textContent()).toContain('At the provider');
    expect(await frame.locator('#costs-open-summary').textContent()).toContain('1 held by a freeze');
    page.once('dialog', (d) => void d.accept());
    await frame.getByRole('button', { name: `Cancel batch ${running}` }).click();
    await frame.waitForSelector(`#costs-budgets .alert-success:has-text("Batch ${running}: the provider is asked to cancel it.")`);
    expect(await frame.locator(`#costs-open-${running}`).textContent()).toContain('Being cancelled');
    await frame.evaluate(() => {
      (globalThis as unknown as { __sameDocument: boolean }).__sameDocument = true;
    });

    page.once('dialog', (d) => void d.accept());
    await frame.getByRole('button', { name: /^Remove the budget of/ }).click();
    await frame.waitForSelector('#costs-budgets .alert-success:has-text("Budget removed.")');
    expect(await frame.evaluate(() => (globalThis as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
    expect(problems).toEqual([]);
  });
});
