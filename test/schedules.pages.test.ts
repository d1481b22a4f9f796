import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { textOf } from './helpers/html.js';

/** The Schedules page (issue 20): list, create and change with field messages, pause and resume, and the queue page's "next run". */
describe('the Schedules page', () => {
  let stack: Stack;
  let admin: ToolSession;
  let platformId: number;
  const FORM = { name: 'Nightly', trigger: 'cron', cron: '0 2 * * *', minItems: '1', maxItems: '500', sending: 'confirm' };
  const rows = async () =>
    (await stack.db.db.execute<{ id: number; name: string; cron: string | null; interval_minutes: number | null; paused_at: Date | null }>(sql`
      select id, name, cron, interval_minutes, paused_at from batch_schedules where platform_id = ${platformId} order by id`)).rows;

  beforeAll(async () => {
    stack = await startStack();
    admin = await stack.browser().launch(stack.devlmsUrl, 'admin');
    platformId = Number((await stack.db.db.execute<{ platform_id: number }>(sql`select platform_id from users order by id desc limit 1`)).rows[0]!.platform_id);
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('starts empty, with the form and the queue page saying batches are made by hand', async () => {
    const page = await admin.get('/admin/schedules');
    expect(page.status).toBe(200);
    expect(textOf(page.html)).toContain('No schedules');
    expect(page.html).toContain('id="schedule-form"');
    expect(textOf((await admin.get('/admin/queue')).html)).toContain('No active schedule: batches are made by hand from this page.');
  });

  it('refuses a bad cron expression with the message beside the field, keeping what was typed, and creates nothing', async () => {
    const page = await admin.post('/admin/schedules', { ...FORM, cron: '61 * * * *' }, { htmx: true });
    expect(page.status).toBe(422);
    expect(page.html).toMatch(/<p id="schedule-cron-error" class="field-error">This cron expression is not valid: /);
    expect(page.html).toContain('value="61 * * * *"');
    expect(page.html).toContain('aria-describedby="schedule-cron-error"');
    const missing = await admin.post('/admin/schedules', { ...FORM, name: '', maxItems: '0' }, { htmx: true });
    expect(missing.status).toBe(422);
    expect(textOf(missing.html)).toContain('Give the schedule a name.');
    expect(textOf(missing.html)).toContain('Enter a maximum of at least 1.');
    expect(await rows()).toEqual([]);
  });

  it('creates a schedule, shows its next run here and on the queue page, and escapes its name', async () => {
    const created = await admin.post('/admin/schedules', { ...FORM, name: 'Nightly <b>run</b>' });
    expect(created.status).toBe(200);
    expect(created.url).toContain('/admin/schedules');
    expect(created.html).toContain('Nightly &lt;b&gt;run&lt;/b&gt;');
    expect(textOf(created.html)).toContain('cron "0 2 * * *" (UTC)');
    const [row] = await rows();
    expect(row).toMatchObject({ name: 'Nightly <b>run</b>', cron: '0 2 * * *' });
    const queue = textOf((await admin.get('/admin/queue')).html);
    expect(queue).toMatch(/Next run of Nightly <b>run<\/b> at .*02:00/);
  });

  it('changes a schedule, refusing bad input beside the field with nothing changed', async () => {
    const [row] = await rows();
    const bad = await admin.post(`/admin/schedules/${row!.id}`, { ...FORM, trigger: 'interval', intervalMinutes: 'soon' }, { htmx: true });
    expect(bad.status).toBe(422);
    expect(bad.html).toContain('<p id="schedule-intervalMinutes-error" class="field-error">Enter an interval in minutes.</p>');
    expect((await rows())[0]).toMatchObject({ cron: '0 2 * * *', interval_minutes: null });
    const good = await admin.post(`/admin/schedules/${row!.id}`, { ...FORM, name: 'Hourly', trigger: 'interval', intervalMinutes: '60' }, { htmx: true });
    expect(good.status).toBe(200);
    expect(textOf(good.html)).toContain('Schedule saved; its next run is counted from now.');
    expect((await rows())[0]).toMatchObject({ name: 'Hourly', cron: null, interval_minutes: 60 });
    expect((await admin.get(`/admin/schedules/${row!.id + 1000}`)).status).toBe(404);
  });

  it('pauses and resumes, refusing to pause twice', async () => {
    const [row] = await rows();
    const paused = await admin.post(`/admin/schedules/${row!.id}/pause`, {}, { htmx: true });
    expect(paused.status).toBe(200);
    expect(textOf(paused.html)).toContain('Schedule paused.');
    expect((await rows())[0]!.paused_at).not.toBeNull();
    expect(textOf((await admin.get('/admin/queue')).html)).toContain('No active schedule');
    const again = await admin.post(`/admin/schedules/${row!.id}/pause`, {}, { htmx: true });
    expect(again.status).toBe(409);
    expect(textOf(again.html)).toContain('The schedule "Hourly" is already paused.');
    expect((await admin.post(`/admin/schedules/${row!.id}/resume`, {}, { htmx: true })).status).toBe(200);
    expect((await rows())[0]!.paused_at).toBeNull();
  });
});
