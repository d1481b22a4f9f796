import { describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { HttpError } from '../src/errors.js';
import { compareModes } from '../src/analytics/mode-compare.js';
import { createBatches, requestSubmit } from '../src/models/batches/batches.service.js';
import { checkBatchAgainstRealtime } from '../src/models/prompts/mode-check.service.js';
import { findTaskById } from '../src/models/tasks/tasks.repository.js';
import { createProviders } from '../src/providers/index.js';
import { seedTenant, submitThroughService } from './helpers/batch-fixtures.js';
import { drive, submitSteps, useEmulatedBatches } from './helpers/batch-driver.js';

/**
 * Issue 22, item 2: the batch-versus-real-time check. Its figures against a hand computation, and the check over the
 * emulator: batch results graded again through the real-time call with the same request, charged through the
 * spending gate (refused while the budget is frozen, nothing sent), compared.
 */

const env = useEmulatedBatches();
const db = () => env.db.db;

describe('batch against real-time', () => {
  it('figures: identical share, mean difference with a normal CI, the distribution, agreement with the batch', () => {
    // real-time − batch: 0, 0, +1, −1, +3 → mean .6; sd = √((.36+.36+.16+2.56+5.76)/4) = √2.3 = 1.516575; se = .678233;
    // CI .6 ± 1.959964·.678233 = −.729312 to 1.929312. |d| mean = 1.0. Buckets: ≤−2 0, −1 1, 0 2, +1 1, ≥+2 1.
    const c = compareModes([{ batch: 5, realtime: 5 }, { batch: 7, realtime: 7 }, { batch: 4, realtime: 5 }, { batch: 6, realtime: 5 }, { batch: 2, realtime: 5 }], 10);
    expect(c.n).toBe(5);
    expect(c.identical).toBeCloseTo(0.4, 12);
    expect(c.meanDifference!.estimate).toBeCloseTo(0.6, 12);
    expect(c.meanDifference!.lo).toBeCloseTo(-0.729312, 5);
    expect(c.meanDifference!.hi).toBeCloseTo(1.929312, 5);
    expect(c.meanAbsoluteDifference).toBeCloseTo(1, 12);
    expect(c.distribution.map((b) => b.count)).toEqual([0, 1, 2, 1, 1]);
    expect(c.agreement).toMatchObject({ n: 5, mae: 1, exact: 0.4, adjacent: 0.8 });
    expect(compareModes([], 10)).toMatchObject({ n: 0, identical: null, meanDifference: null });
  });

  it('grades a sample of batch results again in real time, through the spending gate', async () => {
    const t = await seedTenant(db());
    const items = await submitThroughService(db(), env.config, t, 6);
    const task = (await findTaskById(db(), t.taskId))!;
    const providers = createProviders(env.config, { retry: { maxAttempts: 1 } });
    const check = (n: number) => checkBatchAgainstRealtime(db(), env.config.encryptionKey, () => providers.get('openai'), task, n);
    const none = await check(5).then(() => null, (e: unknown) => e);
    expect(none).toBeInstanceOf(HttpError);
    expect((none as HttpError).message).toMatch(/no batch results/);

    const { batches } = await db().transaction((tx) => createBatches(tx, env.config.batches, t.admin, { scope: 'selected', ids: items }, {}));
    for (const b of batches) await requestSubmit(db(), t.admin, b.id);
    await drive(env.worker, submitSteps(batches.map((b) => b.id)));

    const month = new Date().toISOString().slice(0, 7) + '-01';
    await db().execute(sql`insert into budgets (platform_id, course_id, month, limit_micros, frozen) values (${t.platformId}, ${t.courseId}, ${month}, 100000000, true)`);
    const frozen = await check(4).then(() => null, (e: unknown) => e);
    expect((frozen as HttpError).status).toBe(409);
    await db().execute(sql`update budgets set frozen = false where course_id = ${t.courseId}`);

    // A call the provider refuses counts as unusable, not as a difference.
    env.emulator.setFaults({ chatFailures: { count: 1, status: 500 } });
    const result = await check(4);
    env.emulator.setFaults({});
    expect(result.unusable).toBe(1);
    expect(result.comparison.n).toBe(3);
    expect(result.comparison.distribution.reduce((s, b) => s + b.count, 0)).toBe(result.comparison.n);
    // The emulator grades a request the same way whichever API it came by: the same request, the same score.
    expect(result.comparison.identical).toBe(1);
    const charged = (await db().execute<{ micros: number }>(sql`select coalesce(sum(amount_micros), 0)::int8 as micros from cost_ledger where course_id = ${t.courseId} and mode = 'realtime' and kind = 'charge'`)).rows[0]!;
    expect(Number(charged.micros)).toBe(result.costMicros);
    expect(result.costMicros).toBeGreaterThan(0);
  });
});
