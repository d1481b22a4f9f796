import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { textOf } from './helpers/html.js';
import { createAssessment, homeIds, SUBS } from './helpers/assessments.js';
import { activatePrompt, allowLlm } from './helpers/queue-fixtures.js';
import { categoryCounts, feedbackDistribution } from '../src/models/metrics/monitoring.service.js';

/**
 * The administrator's monitoring page (issue 19, item 5): KPI tiles against the seed's targets, computed here on a
 * known data set, charts with tables, a CSV; periods checked.
 */
describe('monitoring', () => {
  let stack: Stack;
  let admin: ToolSession;
  let instructor: ToolSession;
  let ids: Awaited<ReturnType<typeof homeIds>>;

  beforeAll(async () => {
    stack = await startStack();
    admin = await stack.browser().launch(stack.devlmsUrl, 'admin');
    instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '2' });
    for (const s of ['student1', 'student2', 'student3']) await stack.browser().launch(stack.devlmsUrl, s, { task: '1' });
    ids = await homeIds(stack);
    const db = stack.db.db;
    await allowLlm(db, ids.courseId, ids.instructorId);
    await activatePrompt(db, { ...ids }, ids.taskId);
    // Four LLM results: the last waited 5 hours in the queue, and its student handed in 7 hours ago.
    const a = [];
    for (const sub of [SUBS.student1, SUBS.student2, SUBS.student3, SUBS.student1]) a.push(await createAssessment(stack, { taskId: ids.taskId, studentSub: sub }));
    await db.execute(sql`update queue_items set created_at = now() - interval '5 hours' where id = ${a[3]!.queueItemId}`);
    await db.execute(sql`update submissions set created_at = now() - interval '7 hours' where id = ${a[3]!.submissionId}`);
    // Two approved, two overridden as too lenient (worded each its own way).
    for (const x of [a[0]!, a[1]!]) expect((await instructor.post(`/instructor/review/${x.id}/approve`, { decisionSeq: '0' }, { htmx: true })).status).toBe(200);
    expect((await instructor.post(`/instructor/review/${a[2]!.id}/override`, { decisionSeq: '0', score: '5', category: 'too_lenient', reason: 'Too generous.' }, { htmx: true })).status).toBe(200);
    expect((await instructor.post(`/instructor/review/${a[3]!.id}/override`, { decisionSeq: '0', score: '5.5', category: 'too_lenient', reason: 'Gave points for the thesis it lacks' }, { htmx: true })).status).toBe(200);
    // Batches: one completed, one failed, today.
    const batch = (status: string) => sql`
      insert into batches (platform_id, provider, model, status, finished_at) values (${ids.platformId}, 'openai', 'gpt-4o-mini', ${status}, now())`;
    await db.execute(batch('completed'));
    await db.execute(batch('failed'));
    // Two ratings: 5 and 4.
    for (const [x, r] of [[a[0]!, 5], [a[1]!, 4]] as const) {
      await db.execute(sql`insert into feedback_ratings (platform_id, course_id, submission_id, student_id, rating)
        select ${ids.platformId}, ${ids.courseId}, s.id, s.student_id, ${r} from submissions s where s.id = ${x.submissionId}`);
    }
  }, 90_000);
  afterAll(async () => {
    await stack?.close();
  });

  const tile = (html: string, key: string) => textOf(html.match(new RegExp(`<li class="kpi kpi-\\w+" data-kpi="${key}">([\\s\\S]*?)</li>`))?.[1] ?? '');

  it('computes the KPI tiles on a known data set, each against its target', async () => {
    const page = await admin.get('/admin/monitoring');
    expect(page.status).toBe(200);
    expect(tile(page.html, 'queue_4h')).toBe('Through the queue in under 4 hours 75.0% target ≥ 95% · below target 4 LLM results');
    expect(tile(page.html, 'batch_success')).toBe('Batches that succeeded 50.0% target ≥ 98% · below target 2 finished batches');
    expect(tile(page.html, 'approval')).toBe('LLM results approved as they were 50.0% target ≥ 85% · below target 4 decisions');
    expect(tile(page.html, 'feedback_6h')).toBe('Feedback within 6 hours of hand-in 75.0% target ≥ 90% · below target 4 released results');
    // Tasks 1 and 2 are active; only task 1 has a prompt (and the course allows LLM assessment).
    expect(tile(page.html, 'adoption')).toBe('Tasks using LLM assessment 50.0% target ≥ 70% · below target 2 active tasks');
    expect(tile(page.html, 'satisfaction')).toBe('Students satisfied with feedback timing 4.50 / 5 target > 4.0 · on target 2 ratings');
  });

  it('draws the charts with their tables: queue peaks, time to feedback, overrides by category', async () => {
    const page = await admin.get('/admin/monitoring');
    const reasons = page.html.match(/<figure class="chart" id="mon-reasons">[\s\S]*?<\/figure>/)![0];
    expect(reasons).toContain('role="img"');
    expect(textOf(reasons)).toContain('Override reasons (2 overrides)');
    const table = textOf(reasons.slice(reasons.indexOf('<table')));
    expect(table).toContain('Too lenient 2');
    expect(table).toContain('Too harsh 0');
    expect(table).not.toContain('Not categorized');
    const feedback = textOf(page.html.match(/<figure class="chart" id="mon-feedback">[\s\S]*?<\/figure>/)![0]);
    expect(feedback).toContain('under 1 h 3');
    expect(feedback).toContain('6–12 h 1');
    const weekday = new Date().toLocaleDateString('en-GB', { weekday: 'long', timeZone: 'UTC' });
    expect(textOf(page.html.match(/<figure class="chart" id="mon-weekdays">[\s\S]*?<\/figure>/)![0])).toMatch(new RegExp(`${weekday} \\d+`));
  });

  it('gives every tile and chart as CSV', async () => {
    const res = await admin.get('/admin/monitoring.csv');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    const lines = res.html.replace(/^\uFEFF/, '').trim().split('\r\n');
    expect(lines[0]).toBe('section,label,value');
    expect(lines).toContain('kpi,Batches that succeeded,0.5000');
    expect(lines).toContain('Override reasons (2 overrides),Too lenient,2');
  });

  it('refuses a period that is not one (422, the reason given)', async () => {
    const backwards = await admin.get('/admin/monitoring?from=2026-12-10&to=2026-12-01');
    expect(backwards.status).toBe(422);
    expect(textOf(backwards.html)).toContain('The end is before the start.');
    expect((await admin.get('/admin/monitoring?from=2026-02-30')).status).toBe(422);
    expect((await admin.get('/admin/monitoring?from=yesterday')).status).toBe(422);
    expect(textOf((await admin.get('/admin/monitoring?from=2020-01-01&to=2026-01-01')).html)).toContain('Choose at most a year.');
    // An empty period: no tile turns green on no data.
    const empty = await admin.get('/admin/monitoring?from=2001-01-01&to=2001-01-31');
    expect(tile(empty.html, 'approval')).toContain('— target ≥ 85% · no data 0 decisions');
  });

  it('queues the period\'s past days to be computed again', async () => {
    const res = await admin.post('/admin/monitoring/rollup?from=2026-11-01&to=2026-11-03', {}, { htmx: false });
    expect(res.status).toBe(200);
    expect(textOf(res.html)).toContain('3 days will be computed again');
    const jobs = await stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from agenda_jobs where name = 'rollup-daily-metrics' and data->>'day' between '2026-11-01' and '2026-11-03'`);
    expect(jobs.rows[0]!.n).toBe(3);
  });

  it('counts overrides by category and buckets times as documented', () => {
    expect(categoryCounts([{ category: 'misread', n: 2 }, { category: null, n: 3 }, { category: 'other', n: 1 }])).toEqual([
      { reason: 'Too harsh', n: 0 },
      { reason: 'Too lenient', n: 0 },
      { reason: 'Missed a criterion', n: 0 },
      { reason: 'Misread the work', n: 2 },
      { reason: 'Off-topic feedback', n: 0 },
      { reason: 'Other', n: 1 },
      { reason: 'Not categorized (decided before categories)', n: 3 },
    ]);
    expect(feedbackDistribution([0.5, 3.9, 4, 5.99, 30, 100]).map((b) => b.n)).toEqual([1, 1, 2, 0, 0, 1, 1]);
  });
});
