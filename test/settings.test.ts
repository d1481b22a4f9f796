import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { launchWith, OTHER_COURSE } from './helpers/launches.js';

describe('course privacy settings', () => {
  let stack: Stack;
  let instructor: ToolSession;
  beforeAll(async () => {
    stack = await startStack();
    instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: 'nav' });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('start with LLM assessment off and anonymization on', async () => {
    const page = await instructor.get('/instructor/settings');
    expect(page.html).toMatch(/id="llm-allowed" name="llmAllowed" value="on" aria-describedby/);
    expect(page.html).toMatch(/id="anonymize" name="anonymize" value="on" checked/);
  });

  it('are saved for the instructor\'s own course only, and audited', async () => {
    const saved = await instructor.post('/instructor/settings', { llmAllowed: 'on', anonymize: 'on', retentionDays: '365' }, { htmx: true });
    expect(saved.status).toBe(200);
    expect(saved.html).toContain('Settings saved.');
    expect(saved.html).not.toContain('<html'); // the form fragment only
    const rows = await stack.db.db.execute<{ context_id: string; llm_allowed: boolean; retention_days: number }>(sql`
      select c.context_id, p.llm_allowed, p.retention_days from course_privacy p join courses c on c.id = p.course_id`);
    expect(rows.rows).toEqual([{ context_id: 'course-101', llm_allowed: true, retention_days: 365 }]);
    const audit = await stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from audit_log where action = 'course.privacy_updated'`);
    expect(audit.rows[0]!.n).toBe(1);

    const other = await launchWith(stack, stack.browser(), 'instructor', { task: '1' }, OTHER_COURSE);
    const otherPage = await other.get('/instructor/settings');
    expect(otherPage.html).toMatch(/id="llm-allowed" name="llmAllowed" value="on" aria-describedby/);
  });

  it('refuse a bad retention period with a message beside the field, changing nothing', async () => {
    const bad = await instructor.post('/instructor/settings', { llmAllowed: '', retentionDays: 'forever' }, { htmx: true });
    expect(bad.status).toBe(422);
    expect(bad.html).toContain('Enter whole days from 1 to 3650');
    expect(bad.html).toContain('aria-invalid="true"');
    const rows = await stack.db.db.execute<{ llm_allowed: boolean; retention_days: number }>(sql`select llm_allowed, retention_days from course_privacy`);
    expect(rows.rows).toEqual([{ llm_allowed: true, retention_days: 365 }]);
  });

  it('work as a plain form post without htmx (full page)', async () => {
    const page = await instructor.post('/instructor/settings', { llmAllowed: 'on', anonymize: 'on', retentionDays: '' });
    expect(page.status).toBe(200);
    expect(page.html).toContain('<html');
    expect(page.html).toContain('Settings saved.');
  });
});
