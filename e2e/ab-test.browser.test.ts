import { describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import axe from 'axe-core';
import { useBrowserStack } from './browser-stack.js';
import { activatePrompt, allowLlm, homeIds, submitMany, userIdOf } from '../test/helpers/queue-fixtures.js';
import { drive, FAST_BATCH_ENV, submitSteps, testWorker } from '../test/helpers/batch-driver.js';
import { createBatches, requestSubmit } from '../src/models/batches/batches.service.js';
import { findActiveVersion } from '../src/models/prompts/prompts.repository.js';
import { savePrompt } from '../src/models/prompts/prompts.service.js';
import { builtinTemplates } from '../src/models/prompts/library.js';
import { findTaskInCourse } from '../src/models/tasks/tasks.repository.js';
import type { PromptDraft } from '../src/models/prompts/prompt-draft.js';

/**
 * A prompt A/B test as an instructor runs it inside the dev LMS's iframe: start it from the task page (version 1
 * against the active version 2), see the comparison once graded work has been decided, grade the items with the other
 * version too (its cost shown on the button), and end it, making version 1 the active prompt — all through htmx.
 */
describe('prompt A/B test in headless Chromium', () => {
  const env = useBrowserStack({ emulator: true, env: FAST_BATCH_ENV });

  it('starts a test, shows the comparison, runs a paired grading and promotes a version', async () => {
    const { stack, chrome } = env;
    const page = await chrome.context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico') && !m.text().includes('status of 422')) problems.push(`${m.text()} ${m.location().url}`);
    });
    await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
    const home = await homeIds(stack);
    const db = stack.db.db;
    await allowLlm(db, home.courseId, home.instructorId);
    await activatePrompt(db, home, home.taskId);
    // Version 2, a stricter wording of version 1, is the active one.
    const task = (await findTaskInCourse(db, home.courseId, home.taskId))!;
    const tpl = builtinTemplates().find((t) => t.key === 'builtin:short-answer') ?? builtinTemplates()[0]!;
    const stricter = { ...tpl.content, systemInstructions: `${tpl.content.systemInstructions} Be strict.`, provider: 'openai', maxScoreMode: 'sum' } as PromptDraft;
    await db.transaction((tx) => savePrompt(tx, { platformId: home.platformId, courseId: home.courseId, userId: home.instructorId }, task, stricter, { note: 'stricter' }));

    await page.goto(`${stack.devlmsUrl}/launch/instructor?task=1`);
    const frame = (await (await page.waitForSelector('iframe')).contentFrame())!;
    await frame.getByRole('link', { name: 'Prompt A/B test' }).click({ timeout: 15_000 });
    await frame.waitForSelector('#prompts-ab-test');
    await frame.getByLabel('Version B').selectOption('1');
    // A share out of range is answered beside the field; nothing starts.
    await frame.getByLabel('Share of new submissions graded by B (%)').fill('0');
    await frame.getByRole('button', { name: 'Start the A/B test' }).press('Enter');
    await frame.waitForSelector('#ab-share-b-error:has-text("from 1 to 99")');
    await frame.getByLabel('Share of new submissions graded by B (%)').fill('50');
    await frame.getByRole('button', { name: 'Start the A/B test' }).press('Enter');
    await frame.waitForSelector('#ab-message:has-text("A/B test started")');
    expect(await frame.locator('#ab-verdict').textContent()).toContain('Not enough reviewed items yet');

    // Work arrives, is graded in a batch and decided: each submission went to its arm.
    const student = await userIdOf(stack, '5e02');
    const ids = await submitMany(stack, home, home.taskId, student, 8, 'The Boston Tea Party was a protest against the Tea Act, which let the East India Company sell tea cheaply');
    const admin = { platformId: home.platformId, userId: home.instructorId };
    const { batches } = await db.transaction((tx) => createBatches(tx, stack.config.batches, admin, { scope: 'selected', ids }, {}));
    for (const b of batches) await requestSubmit(db, admin, b.id);
    await drive(testWorker(db, stack.config), submitSteps(batches.map((b) => b.id)));
    await db.execute(sql`update assessments set review_status = 'approved', reviewed_at = now(), decision_seq = 1 where task_id = ${home.taskId}`);

    await page.goto(`${stack.devlmsUrl}/launch/instructor?task=1`);
    const again = (await (await page.waitForSelector('iframe')).contentFrame())!;
    await again.getByRole('link', { name: 'Prompt A/B test' }).click({ timeout: 15_000 });
    await again.waitForSelector('#ab-figures');
    const figures = (await again.locator('#ab-figures').textContent())!;
    expect(figures).toContain('Wilson score interval');
    expect(figures).toContain('bootstrap percentile interval');
    expect(await again.locator('#ab-chart-approval svg[role="img"]').count()).toBe(1);
    expect(await again.locator('#ab-paired-cost').textContent()).toMatch(/8 graded items .* at most \$/);
    // The results (charts, tables, forms) pass axe-core as every tool page does (axe.browser.test.ts, same rules).
    await again.evaluate(axe.source);
    const violations = await again.evaluate(async () => {
      type Axe = { axe: { run(c: unknown, o: unknown): Promise<{ violations: Array<{ id: string }> }> } };
      const g = globalThis as unknown as Axe & { document: unknown };
      return (await g.axe.run(g.document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] }, resultTypes: ['violations'] })).violations.map((v) => v.id);
    });
    expect(violations).toEqual([]);

    await again.getByRole('button', { name: /^Grade 8 with the other version/ }).click();
    await again.waitForSelector('#ab-message:has-text("Graded 8 items with the other version too")');
    expect(await again.locator('#ab-paired-verdict').count()).toBe(1);

    await again.getByRole('radio', { name: 'Version B (v1)' }).check();
    await again.getByRole('button', { name: 'End the test and make it active' }).click();
    await again.waitForSelector('#ab-message:has-text("is now the task\'s active prompt version")');
    expect((await findActiveVersion(db, home.taskId))!.version).toBe(1);
    expect(await again.locator('#ab-start-title').count()).toBe(1);
    expect(problems).toEqual([]);
  }, 25_000);
});
