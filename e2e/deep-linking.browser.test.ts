import { describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { useBrowserStack } from './browser-stack.js';

/**
 * Issue 15, item 8: Moodle shows content selection in a modal about 600 px high, and with more than one task the
 * picker's "Add to the course" button was cut off at its bottom. The dev LMS frames deep linking the same way.
 */
describe('the activity picker in a 600 px content-selection modal', () => {
  const env = useBrowserStack();

  it('keeps "Add to the course" in view with many tasks, and adds one from there', async () => {
    const { stack, chrome } = env;
    // A course with a dozen tasks: two launched from the LMS, the rest made in the tool.
    await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '2' });
    await stack.db.db.execute(sql`
      insert into tasks (course_id, title, max_score)
      select course_id, 'Weekly reflection ' || n, 10 from tasks, generate_series(1, 10) as n where id = (select min(id) from tasks)`);

    const page = await chrome.context.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${stack.devlmsUrl}/launch/instructor?message=deep_linking`);
    const frameElement = await page.waitForSelector('iframe.tool.modal');
    const frame = (await frameElement.contentFrame())!;
    const button = frame.getByRole('button', { name: 'Add to the course' });
    await button.waitFor({ timeout: 15_000 });
    expect(await frame.locator('input[name="taskId"]').count()).toBe(13);

    const modal = (await frameElement.boundingBox())!;
    expect(Math.round(modal.height)).toBe(602); // 600 px and its border
    const box = (await button.boundingBox())!;
    expect(box.y).toBeGreaterThanOrEqual(modal.y);
    expect(box.y + box.height).toBeLessThanOrEqual(modal.y + modal.height);

    // The last task of the list can be reached and chosen (the list scrolls inside the modal).
    const last = frame.getByLabel(/Weekly reflection 10/);
    await last.scrollIntoViewIfNeeded();
    await last.check();
    await button.click();
    // The tool's answer posts itself to the LMS inside the modal, which lists the activity it added.
    await frame.waitForURL(/\/deep_link_return/, { timeout: 15_000 });
    expect(await frame.textContent('body')).toContain('Weekly reflection 10');
    await page.close();
  }, 60_000);
});
