import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { AgsClient } from '../src/lti/ags.client.js';
import { runGradeSync } from '../src/models/grades/grade-sync.service.js';
import { silentLogger } from '../src/log.js';
import { startStack, type Stack } from './helpers/stack.js';
import { homeIds } from './helpers/queue-fixtures.js';
import { seedPendingGrades } from './helpers/grade-fixtures.js';

/**
 * Grade passback at volume (issue 21, item 2): a course's grades go out in one run, several at a time per LMS; an
 * LMS that limits its score rate (429 with Retry-After) is sent only as fast as it allows, its refusals using no
 * try, and every grade reaches it exactly once. Throughput itself is measured in bench/grade-sync.bench.ts.
 */
describe('grade passback at volume', () => {
  let stack: Stack;
  let ags: AgsClient;
  let home: Awaited<ReturnType<typeof homeIds>>;
  const posts = async () => (await stack.db.pool.query<{ user_sub: string; n: number }>(`select user_sub, count(*)::int as n from devlms.scores group by user_sub`)).rows;

  beforeAll(async () => {
    stack = await startStack();
    await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    home = await homeIds(stack);
    ags = new AgsClient(stack.tool.lti.lti, { timeoutMs: 5000 });
  }, 60_000);
  afterAll(async () => {
    stack?.devlms.devlms.setFaults({});
    await stack?.close();
  });

  it('sends every due grade in one run, chunk after chunk, once each', async () => {
    const ids = await seedPendingGrades(stack.db.db, stack.db.pool, home, 120, 'fast');
    const result = await runGradeSync(stack.db.db, ags, stack.config.gradeSync, silentLogger, { pace: { chunk: 50, perLms: 8 } });
    expect(result.synced.sort((a, b) => a - b)).toEqual(ids);
    const sent = await posts();
    expect(sent.filter((p) => p.user_sub.startsWith('fast-'))).toHaveLength(120);
    expect(sent.every((p) => p.n === 1)).toBe(true);
    expect((await runGradeSync(stack.db.db, ags, stack.config.gradeSync, silentLogger)).synced).toEqual([]);
  });

  it('an LMS that limits its score rate gets no more than it allows; its 429s use no try, and nothing is lost or sent twice', async () => {
    const ids = await seedPendingGrades(stack.db.db, stack.db.pool, home, 30, 'limited');
    stack.devlms.devlms.setFaults({ scoreRate: { perSecond: 10 } });
    const synced = new Set<number>();
    for (let run = 0; run < 40 && synced.size < ids.length; run++) {
      // Deferred grades come due again when the LMS's Retry-After has passed.
      await stack.db.db.execute(sql`update assessments set grade_sync_next_at = now() where grade_sync_status = 'pending' and grade_sync_next_at > now() + interval '2 seconds'`);
      for (const id of (await runGradeSync(stack.db.db, ags, stack.config.gradeSync, silentLogger, { pace: { perLms: 8 } })).synced) synced.add(id);
      if (synced.size < ids.length) await new Promise((r) => setTimeout(r, 300));
    }
    expect([...synced].sort((a, b) => a - b)).toEqual(ids);
    const limited = (await posts()).filter((p) => p.user_sub.startsWith('limited-'));
    expect(limited).toHaveLength(30);
    expect(limited.every((p) => p.n === 1)).toBe(true);
    // The LMS did refuse some (eight at a time against ten a second), and none of those counted as a failed try.
    expect(stack.devlms.devlms.scoresRateLimited()).toBeGreaterThan(0);
    const attempts = await stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from assessments where id = any(${sql.param(ids)}::bigint[]) and grade_sync_attempts > 0`);
    expect(attempts.rows[0]!.n).toBe(0);
  }, 60_000);
});
