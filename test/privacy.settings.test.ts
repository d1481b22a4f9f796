import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { applyRetention } from '../src/models/privacy/retention.service.js';
import { getCoursePrivacy } from '../src/models/privacy/privacy.repository.js';
import { startStack, type Stack } from './helpers/stack.js';
import { useEmulatedBatches } from './helpers/batch-driver.js';
import { addStudents, seedTenant } from './helpers/batch-fixtures.js';
import { sendBatch } from '../src/models/batches/batch-send.service.js';
import { createBatches, requestSubmit } from '../src/models/batches/batches.service.js';
import { submitWork } from '../src/models/submissions/submissions.service.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { textOf } from './helpers/html.js';
import { launchWith, OTHER_COURSE } from './helpers/launches.js';
import { createAssessment, SUBS } from './helpers/assessments.js';
import { activatePrompt, allowLlm, homeIds, submitMany, userIdOf, type Home } from './helpers/queue-fixtures.js';

const DAY = 24 * 60 * 60 * 1000;

/**
 * Issue 17, item 5: privacy settings with effect. The institution's limits (providers allowed at all, the longest
 * retention) bind every course; a course's approved providers and real-time-only mode decide what may go into a
 * batch; a new course starts with the institution's defaults.
 */
describe('privacy settings with effect', () => {
  let stack: Stack;
  let admin: ToolSession;
  let instructor: ToolSession;
  let home: Home;
  const db = () => stack.db.db;

  beforeAll(async () => {
    stack = await startStack({ env: { BATCH_MIN_SIZE: '1' } });
    admin = await stack.browser().launch(stack.devlmsUrl, 'admin');
    instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
    home = await homeIds(stack);
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('refuses institution settings that do not hold together (422 beside the field), changing nothing', async () => {
    for (const [form, field, message] of [
      [{ maxRetentionDays: '60', defaultRetentionDays: '90', allowedProviders: 'openai' }, 'default-retention-error', 'New courses must start within the longest retention allowed.'],
      [{ maxRetentionDays: '60', defaultRetentionDays: '', allowedProviders: 'openai' }, 'default-retention-error', 'New courses must start within the longest retention allowed.'],
      [{ maxRetentionDays: 'soon', defaultRetentionDays: '30', allowedProviders: 'openai' }, 'max-retention-error', 'Enter whole days from 1 to 3650, or leave empty for no limit.'],
      [{ maxRetentionDays: '', defaultRetentionDays: '30' }, 'allowed-providers-error', 'Allow at least one provider'],
      [{ maxRetentionDays: '', defaultRetentionDays: '30', allowedProviders: 'mistral' }, 'allowed-providers-error', 'Choose providers from the list.'],
    ] as const) {
      const res = await admin.post('/admin/privacy', form as Record<string, string>, { htmx: true });
      expect(res.status).toBe(422);
      expect(res.html).toContain(`id="${field}"`);
      expect(textOf(res.html)).toContain(message);
    }
    expect(Number((await db().execute<{ n: number }>(sql`select count(*)::int as n from platform_privacy`)).rows[0]!.n)).toBe(0);
  });

  it('saves the institution\'s limits and defaults, audited; a new course starts with them', async () => {
    const res = await admin.post('/admin/privacy', { allowedProviders: 'openai', maxRetentionDays: '60', defaultRetentionDays: '20', defaultConsentRequired: 'on' }, { htmx: true });
    expect(res.status).toBe(200);
    expect(textOf(res.html)).toContain('Privacy settings saved.');
    const audit = (await db().execute<{ details: { after: Record<string, unknown> } }>(sql`select details from audit_log where action = 'platform.privacy_updated'`)).rows[0]!;
    expect(audit.details.after).toMatchObject({ allowedProviders: ['openai'], maxRetentionDays: 60, defaultRetentionDays: 20, defaultAnonymize: false, defaultConsentRequired: true });
    await launchWith(stack, stack.browser(), 'instructor', { task: '1' }, OTHER_COURSE);
    const other = await homeIds(stack, 'course-202');
    expect(await getCoursePrivacy(db(), other.courseId)).toMatchObject({ retentionDays: 20, consentRequired: true, anonymize: false, llmAllowed: false });
  });

  it('holds each course within the limits: no provider the institution refuses, no retention beyond its longest', async () => {
    const page = await instructor.get('/instructor/settings');
    expect(page.html).toMatch(/id="provider-anthropic" name="approvedProviders" value="anthropic" disabled aria-describedby="provider-anthropic-off"/);
    expect(textOf(page.html)).toContain('Your institution allows at most 60 days.');
    const base = { llmAllowed: 'on', anonymize: 'on', providersShown: '1' };
    for (const [form, field, message] of [
      [{ ...base, approvedProviders: 'anthropic', retentionDays: '30' }, 'approvedProviders', 'Your institution does not allow anthropic.'],
      [{ ...base, approvedProviders: 'openai', retentionDays: '90' }, 'retentionDays', 'Your institution keeps submissions at most 60 days'],
      [{ ...base, approvedProviders: 'openai', retentionDays: '' }, 'retentionDays', 'Your institution keeps submissions at most 60 days'],
      [{ ...base, retentionDays: '30' }, 'approvedProviders', 'Approve at least one provider'],
    ] as const) {
      const res = await instructor.post('/instructor/settings', form as Record<string, string>, { htmx: true });
      expect(res.status).toBe(422);
      expect(textOf(res.html)).toContain(message);
      expect(res.html).toContain(field);
    }
    const ok = await instructor.post('/instructor/settings', { ...base, approvedProviders: 'openai', retentionDays: '45' }, { htmx: true });
    expect(ok.status).toBe(200);
    expect(await getCoursePrivacy(db(), home.courseId)).toMatchObject({ retentionDays: 45, approvedProviders: ['openai'] });
  });

  it('applies the institution\'s longest retention to a course that kept submissions before the limit', async () => {
    await db().execute(sql`update course_privacy set retention_days = null where course_id = ${home.courseId}`);
    const a = await createAssessment(stack, { taskId: home.taskId, studentSub: SUBS.student1 });
    const at = new Date(Date.now() - 61 * DAY).toISOString();
    await db().execute(sql`update submissions set created_at = ${at}::timestamptz where id = ${a.submissionId}`);
    await db().execute(sql`update queue_items set updated_at = ${at}::timestamptz where id = ${a.queueItemId}`);
    await db().execute(sql`update assessments set created_at = ${at}::timestamptz, review_status = 'approved', reviewed_at = ${at}::timestamptz, decision_seq = 1 where id = ${a.id}`);
    const run = await applyRetention(db());
    expect(run.courses.get(home.courseId)).toEqual({ submissions: 1, assessments: 1 });
  });

  it('keeps a real-time-only course\'s work, and work of a course that does not approve the batch provider, out of batches', async () => {
    await allowLlm(db(), home.courseId, home.instructorId);
    await activatePrompt(db(), home, home.taskId);
    await submitMany(stack, home, home.taskId, await userIdOf(stack, '5e02'), 2);
    await db().execute(sql`update course_privacy set llm_allowed = false where course_id = ${home.courseId}`);
    const off = await admin.post('/admin/batches', { scope: 'all' }, { htmx: true });
    expect(off.status).toBe(409);
    expect(textOf(off.html)).toContain('These courses no longer allow LLM assessment, so their items cannot be sent: History 101');
    await db().execute(sql`update course_privacy set llm_allowed = true, realtime_only = true where course_id = ${home.courseId}`);
    const realtime = await admin.post('/admin/batches', { scope: 'all' }, { htmx: true });
    expect(realtime.status).toBe(409);
    expect(textOf(realtime.html)).toContain('These courses are set to real time only, so their work never goes into a batch: History 101');
    await db().execute(sql`update course_privacy set realtime_only = false, approved_providers = '{anthropic}' where course_id = ${home.courseId}`);
    const unapproved = await admin.post('/admin/batches', { scope: 'all' }, { htmx: true });
    expect(unapproved.status).toBe(409);
    expect(textOf(unapproved.html)).toContain('Their prompts send these items to OpenAI, which these courses (or your institution\'s settings) do not approve: History 101');
    await db().execute(sql`update course_privacy set approved_providers = '{openai}' where course_id = ${home.courseId}`);
    await db().execute(sql`update platform_privacy set allowed_providers = '{anthropic}' where platform_id = ${home.platformId}`);
    const institution = await admin.post('/admin/batches', { scope: 'all' }, { htmx: true });
    expect(institution.status).toBe(409);
    await db().execute(sql`update platform_privacy set allowed_providers = '{openai,anthropic}' where platform_id = ${home.platformId}`);
    const queued = Number((await db().execute<{ n: number }>(sql`select count(*)::int as n from queue_items where course_id = ${home.courseId} and status = 'queued'`)).rows[0]!.n);
    expect(queued).toBeGreaterThanOrEqual(2);
    const made = await admin.post('/admin/batches', { scope: 'all' }, { htmx: true });
    expect(made.status).toBe(201);
    expect(Number((await db().execute<{ n: number }>(sql`select count(*)::int as n from queue_items where course_id = ${home.courseId} and status = 'selected'`)).rows[0]!.n)).toBe(queued);
  });
});

describe('privacy settings changed between a batch\'s making and its sending', () => {
  const env = useEmulatedBatches();

  it('sends nothing, fails the batch with the reason and puts its items back in the queue', async () => {
    const db = env.db.db;
    const t = await seedTenant(db);
    const [student] = await addStudents(db, t, 1);
    const { queueItem } = await db.transaction((tx) => submitWork(tx, env.config, { platformId: t.platformId, courseId: t.courseId, userId: student! }, t.taskId, { body: { text: 'Uniforms save money.', format: 'text' } }));
    const { batches: [batch] } = await db.transaction((tx) => createBatches(tx, env.config.batches, t.admin, { scope: 'selected', ids: [queueItem!.id] }, {}));
    await requestSubmit(db, t.admin, batch!.id);
    await db.execute(sql`update course_privacy set realtime_only = true where course_id = ${t.courseId}`);
    const filesBefore = env.emulator.emulator.context.store.files.size;
    expect(await sendBatch(env.worker, batch!.id)).toEqual([]);
    expect(env.emulator.emulator.context.store.files.size).toBe(filesBefore);
    const row = (await db.execute<{ status: string; error: string }>(sql`select status, error from batches where id = ${batch!.id}`)).rows[0]!;
    expect(row.status).toBe('failed');
    expect(row.error).toContain(`the privacy settings changed after the batch was made (Course`);
    expect(row.error).toContain(': real time only)');
    const item = (await db.execute<{ status: string }>(sql`select status from queue_items where id = ${queueItem!.id}`)).rows[0]!;
    expect(item.status).toBe('queued');
  });
});
