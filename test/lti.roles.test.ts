import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { textOf } from './helpers/html.js';

/**
 * Issue 15, item 5: a Moodle site administrator who teaches a course launches with Administrator and Instructor
 * roles, and got only the admin pages. The dev LMS's `siteadmin` launches as Moodle's does: both roles at once.
 */
describe('a person holding two roles', () => {
  let stack: Stack;
  let session: ToolSession;
  beforeAll(async () => {
    stack = await startStack();
    session = await stack.browser().launch(stack.devlmsUrl, 'siteadmin', { task: '1' });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('lands on the task they launched, as the course instructor, with a way to the admin panel', async () => {
    expect(new URL(session.home.url).pathname).toMatch(/^\/instructor\/tasks\/\d+$/);
    expect(session.home.html).toContain('badge-instructor');
    expect(session.home.html).toMatch(/switch to <a href="\/admin\?ltik=[^"]+">Administration<\/a>/);
  });

  it('opens the instructor pages and the admin panel from the same launch, each with its own navigation', async () => {
    for (const path of ['/instructor', '/instructor/review', '/instructor/analytics', '/instructor/settings']) {
      const page = await session.get(path);
      expect([path, page.status]).toEqual([path, 200]);
      expect(page.html).toContain('badge-instructor');
    }
    for (const path of ['/admin', '/admin/queue', '/admin/batches', '/admin/costs', '/admin/platforms']) {
      const page = await session.get(path);
      expect([path, page.status]).toEqual([path, 200]);
      expect(page.html).toContain('badge-administrator');
      expect(page.html).toMatch(/switch to <a href="\/instructor\?ltik=[^"]+">This course as instructor<\/a>/);
    }
    // Not a student of the course: the student pages stay closed.
    const student = await session.get('/student');
    expect(student.status).toBe(403);
    expect(textOf(student.html)).toContain('This page is for students');
  });

  it('is the course instructor in the records that say who teaches (copy targets, queue filters)', async () => {
    const row = await stack.db.db.execute<{ role: string }>(sql`
      select m.role from memberships m join users u on u.id = m.user_id where u.sub = '8f6b2c1e-4d3a-4b5c-9e7f-1a2b3c4d5e06'`);
    expect(row.rows).toEqual([{ role: 'instructor' }]);
  });

  it('keeps a plain instructor out of the admin panel, and an administrator without a course on the admin panel only', async () => {
    const instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    expect(instructor.home.html).not.toContain('switch to');
    expect((await instructor.get('/admin')).status).toBe(403);
    const admin = await stack.browser().launch(stack.devlmsUrl, 'admin');
    expect(new URL(admin.home.url).pathname).toBe('/admin');
    expect(admin.home.html).not.toContain('switch to');
    expect((await admin.get('/instructor')).status).toBe(403);
  });
});
