/**
 * Grade passback at volume (issue 21, item 2): N approved grades of one course posted to the dev LMS by the grade
 * sync (what a worker's `sync-grades` job runs), over real HTTP with the LTI service token, once with no limit at
 * the LMS and once with a score-rate limit (429 + Retry-After past it). Reports scores/s, and checks that every
 * grade reached the LMS exactly once.
 *
 * `npx tsx bench/grade-sync.bench.ts [--n 50000] [--limit 100]`. Target: ≥ 200 scores/s unlimited; the LMS's rate
 * when limited; nothing lost or posted twice.
 */
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { AgsClient } from '../src/lti/ags.client.js';
import { runGradeSync } from '../src/models/grades/grade-sync.service.js';
import { silentLogger } from '../src/log.js';
import { LtiBrowser } from '../test/helpers/lti-browser.js';
import { seedPendingGrades } from '../test/helpers/grade-fixtures.js';
import { startBenchStack } from './lib/stack.js';
import { printTable } from './lib/stats.js';

export async function run(options: { n?: number; limit?: number } = {}) {
  const n = options.n ?? 50_000;
  const limit = options.limit ?? 100;
  const stack = await startBenchStack('gradesync_bench');
  try {
    await new LtiBrowser().launch(stack.lms.url, 'instructor', { task: '1' });
    const target = (await stack.db.execute<{ platform_id: number; course_id: number; task_id: number }>(sql`
      select c.platform_id, c.id as course_id, min(t.id) as task_id from courses c join tasks t on t.course_id = c.id group by c.id`)).rows[0]!;
    const home = { platformId: Number(target.platform_id), courseId: Number(target.course_id), taskId: Number(target.task_id) };
    const ags = new AgsClient(stack.tool.lti.lti, { timeoutMs: 10_000 });
    const settings = { ...stack.config.gradeSync, backoffMs: 1000 };
    const rows: Array<Record<string, string | number>> = [];
    const results: Record<string, unknown> = {};

    const timed = async (label: string, count: number, tag: string, rate?: number) => {
      const ids = await seedPendingGrades(stack.db, stack.pool, home, count, tag);
      stack.lms.devlms.setFaults(rate ? { scoreRate: { perSecond: rate } } : {});
      const t0 = performance.now();
      let synced = 0;
      while (synced < ids.length) {
        synced += (await runGradeSync(stack.db, ags, settings, silentLogger, { pace: { maxRunMs: 60 * 60_000 } })).synced.length;
        if (synced < ids.length) await new Promise((r) => setTimeout(r, 50));
      }
      const seconds = (performance.now() - t0) / 1000;
      const posted = (await stack.pool.query<{ posts: number; people: number }>(`select count(*)::int as posts, count(distinct user_sub)::int as people from devlms.scores where user_sub like $1`, [`${tag}-sub-%`])).rows[0]!;
      const perSecond = Math.round(ids.length / seconds);
      rows.push({ run: label, grades: ids.length, seconds: Math.round(seconds * 10) / 10, 'scores/s': perSecond, 'posts at the LMS': posted.posts, 'refused (429)': stack.lms.devlms.scoresRateLimited() });
      results[tag] = { grades: ids.length, seconds, perSecond, posts: posted.posts, people: posted.people, refused: stack.lms.devlms.scoresRateLimited(), limit: rate ?? null };
    };
    await timed('no limit at the LMS', n, 'free');
    await timed(`LMS limit ${limit}/s`, Math.min(n, limit * 30), 'limited', limit);
    stack.lms.devlms.setFaults({});
    printTable('Grade passback to the dev LMS (8 posts at a time per LMS, one worker)', rows);
    return results;
  } finally {
    await stack.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { n: { type: 'string' }, limit: { type: 'string' } } });
  await run({ n: values.n ? Number(values.n) : undefined, limit: values.limit ? Number(values.limit) : undefined });
}
