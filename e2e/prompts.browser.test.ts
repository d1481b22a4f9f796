import { describe, expect, it } from '@jest/globals';
import type { Frame } from 'playwright-core';
import { useBrowserStack } from './browser-stack.js';
import { focusedIdOnceSettled } from './browser.js';

/**
 * The prompt editor as an instructor uses it, inside the dev LMS's iframe: write a prompt with a two-criterion
 * rubric (the variable menu, htmx rubric rows), save, preview, test on a sample, edit, and roll back.
 */
describe('prompt editor in headless Chromium', () => {
  const env = useBrowserStack({ emulator: true });

  const criteria = (frame: Frame) => frame.locator('#prompts-rubric .criterion');

  it('creates a prompt with a two-criterion rubric, previews, tests, edits and rolls back through htmx', async () => {
    const { stack, chrome } = env;
    const page = await chrome.context.newPage();
    const problems: string[] = [];
    // Errors in the page (CSP refusals, failed requests), except the browser asking the dev LMS for a favicon and
    // the 422 the mistake below is answered with on purpose.
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico') && !m.text().includes('status of 422')) problems.push(`${m.text()} ${m.location().url}`);
    });
    await page.goto(`${stack.devlmsUrl}/launch/instructor?task=1`);
    const frame = (await (await page.waitForSelector('iframe')).contentFrame())!;
    await frame.getByRole('link', { name: 'Edit the grading prompt' }).click({ timeout: 15_000 });
    await frame.waitForSelector('#prompts-editor');
    // From here on, every step is an htmx swap: the document is never reloaded.
    await frame.evaluate(() => {
      (globalThis as unknown as { __sameDocument: boolean }).__sameDocument = true;
    });

    // The template, with {student_submission} inserted at the cursor by the variable menu (keyboard: Enter).
    const template = frame.locator('#prompt-template');
    await template.fill('Grade this essay on the French Revolution.\n\nThe essay:\n');
    await frame.locator('button[data-insert="{student_submission}"]').press('Enter');
    await frame.locator('button[data-insert="{task_criteria}"]').click();
    expect(await template.inputValue()).toBe('Grade this essay on the French Revolution.\n\nThe essay:\n{student_submission}{task_criteria}');

    // The essay starter has five criteria: remove three, then name the two left.
    expect(await criteria(frame).count()).toBe(5);
    for (const n of [5, 4, 3]) {
      await frame.getByRole('button', { name: new RegExp(`^Remove criterion ${n}\\b`) }).click();
      await frame.waitForFunction((count) => (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll('#prompts-rubric .criterion').length === count, n - 1);
    }
    // What was typed survives the round trip.
    expect(await template.inputValue()).toContain('{student_submission}{task_criteria}');
    await frame.getByLabel('Criterion 1 name').fill('Argument');
    await frame.locator('#criterion-0-points').fill('6');
    await frame.getByLabel('Criterion 2 name').fill('Evidence');
    await frame.locator('#criterion-1-points').fill('4');
    await frame.getByLabel('Note for this version').fill('Two criteria');

    // A mistake: refused beside its field (422 swapped in by htmx), focus on the field, nothing lost or saved.
    await frame.getByLabel('Max output tokens (1–16,000)').fill('0');
    await frame.getByRole('button', { name: 'Save as a new version' }).click();
    await frame.waitForSelector('#maxOutputTokens-error:has-text("Max output tokens must be a whole number from 1 to 16,000.")');
    expect(await focusedIdOnceSettled(frame, 'prompt-max-tokens')).toBe('prompt-max-tokens');
    expect(await frame.getByLabel('Criterion 2 name').inputValue()).toBe('Evidence');
    await frame.getByLabel('Max output tokens (1–16,000)').fill('1500');
    await frame.getByRole('button', { name: 'Save as a new version' }).click();
    await frame.waitForSelector('#prompts-message:has-text("Saved as version 1")');
    expect(await criteria(frame).count()).toBe(2);

    // Preview with a sample: the messages as sent, the submission delimited, tokens and costs.
    await frame.getByLabel('Sample submission 1').fill('The Estates-General deadlocked in 1789.\n\nBread prices doubled, and Parisians stormed the Bastille.');
    await frame.getByRole('button', { name: 'Preview what is sent' }).click();
    await frame.waitForSelector('#prompts-preview');
    expect(await frame.locator('pre[data-role="user"]').textContent()).toContain('<student_submission>\nThe Estates-General deadlocked');
    expect(Number((await frame.locator('#prompts-input-tokens').textContent())!.replace(/,/g, ''))).toBeGreaterThan(50);
    expect(await frame.locator('#prompts-cost-batch').textContent()).toMatch(/^\$0\.\d+$/);

    // A live test through the provider (the emulator), shown as the student would see it.
    await frame.getByRole('button', { name: 'Test on the samples' }).click();
    await frame.waitForSelector('#prompts-test-results');
    expect(await frame.locator('.test-result .score').textContent()).toMatch(/Score: [\d.]+ \/ 10/);
    expect(await frame.locator('.test-result .test-latency').textContent()).toMatch(/\d+ ms/);

    // Edit: a warmer temperature, saved as version 2.
    await frame.getByLabel('Temperature (0–2; Anthropic models 0–1)').fill('0.5');
    await frame.getByLabel('Note for this version').fill('Warmer');
    await frame.getByRole('button', { name: 'Save as a new version' }).click();
    await frame.waitForSelector('#prompts-message:has-text("Saved as version 2")');

    // Compare, then roll back to version 1 (grading's default temperature, 0): a new version 3 equal to it.
    await frame.getByRole('button', { name: 'Compare' }).click();
    await frame.waitForSelector('#prompts-diff:has-text("Temperature")');
    await frame.getByRole('button', { name: 'Roll back to this (version 1)' }).click();
    await frame.waitForSelector('#prompts-message:has-text("Rolled back: version 3 is a copy of version 1")');
    expect(await frame.locator('#prompt-temperature').inputValue()).toBe('0');
    expect(await frame.locator('#prompts-history .version').count()).toBe(3);
    expect(await frame.evaluate(() => (globalThis as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  }, 90_000);
});
