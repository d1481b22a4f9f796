import { describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { estimateAccuracy, findBatchById } from '../src/models/batches/batches.repository.js';
import { createBatches, requestSubmit } from '../src/models/batches/batches.service.js';
import { estimateCostMicros } from '../src/providers/index.js';
import { ANSWER_BASE_TOKENS, ANSWER_TOKENS_PER_CRITERION } from '../src/providers/tokens.js';
import { presentAccuracy } from '../src/routes/queue.present.js';
import { bulkSubmit, seedTenant } from './helpers/batch-fixtures.js';
import { drive, submitSteps, useEmulatedBatches } from './helpers/batch-driver.js';

/**
 * Issue 16, item 7: estimates that learn. Items queued before their prompt version had results carry the answer's
 * shape as their estimate; when a batch is made they are estimated again from the version's results so far, and
 * that is what the budgets reserve. A finished batch says how right its estimates were.
 */

const env = useEmulatedBatches();

type Item = { id: number; est_input_tokens: number; est_output_tokens: number; est_cost_micros: number };
const itemsOf = async (ids: number[]) =>
  (await env.db.db.execute<Item>(sql`select id, est_input_tokens, est_output_tokens, est_cost_micros::int8 as est_cost_micros from queue_items where id = any(${sql.param(ids)}::bigint[]) order by id`)).rows.map(
    (r) => ({ id: Number(r.id), est_input_tokens: Number(r.est_input_tokens), est_output_tokens: Number(r.est_output_tokens), est_cost_micros: Number(r.est_cost_micros) }),
  );

describe('estimate calibration', () => {
  it('estimates a first batch from the rubric, later ones from the results so far, and reserves the calibrated estimate', async () => {
    const t = await seedTenant(env.db.db);
    const first = await bulkSubmit(env.db.db, env.config, t, 20);
    const shape = ANSWER_BASE_TOKENS + ANSWER_TOKENS_PER_CRITERION * t.version.rubric.length;
    expect((await itemsOf(first)).every((i) => i.est_output_tokens === Math.min(shape, t.version.maxOutputTokens))).toBe(true);

    const { batches: [b1] } = await env.db.db.transaction((tx) => createBatches(tx, env.config.batches, t.admin, { scope: 'selected', ids: first }, {}));
    await requestSubmit(env.db.db, t.admin, b1!.id);
    await drive(env.worker, submitSteps([b1!.id]));
    expect((await findBatchById(env.db.db, b1!.id))!.ingestedAt).not.toBeNull();

    // Queued before the first results: they still carry the shape's guess.
    const second = await bulkSubmit(env.db.db, env.config, t, 20);
    const before = await itemsOf(second);
    expect(before.every((i) => i.est_output_tokens === Math.min(shape, t.version.maxOutputTokens))).toBe(true);
    const mean = Number((await env.db.db.execute<{ m: number }>(sql`select avg(output_tokens)::float8 as m from assessments where prompt_version_id = ${t.version.id}`)).rows[0]!.m);
    const expected = Math.ceil(mean);

    const { batches: [b2] } = await env.db.db.transaction((tx) => createBatches(tx, env.config.batches, t.admin, { scope: 'selected', ids: second }, {}));
    const after = await itemsOf(second);
    for (const [k, i] of after.entries()) {
      expect(i.est_input_tokens).toBe(before[k]!.est_input_tokens); // counted exactly, unchanged
      expect(i.est_output_tokens).toBe(expected);
      expect(i.est_cost_micros).toBe(estimateCostMicros({ inputTokens: i.est_input_tokens, outputTokens: expected }, t.version.model, 'batch'));
    }
    expect(b2!.estCostMicros).toBe(after.reduce((a, i) => a + i.est_cost_micros, 0));
    const reserved = await env.db.db.execute<{ total: number }>(sql`select sum(amount_micros)::int8 as total from cost_ledger where batch_id = ${b2!.id} and kind = 'reservation'`);
    expect(Number(reserved.rows[0]!.total)).toBe(b2!.estCostMicros);

    // The first batch's report: estimate against actual over its 20 charged results.
    const accuracy = await estimateAccuracy(env.db.db, b1!.id);
    const ledger = await env.db.db.execute<{ est: number; act: number }>(sql`
      select sum(amount_micros) filter (where kind = 'reservation')::int8 as est, sum(amount_micros) filter (where kind = 'charge')::int8 as act from cost_ledger where batch_id = ${b1!.id}`);
    expect(accuracy).toMatchObject({ charged: 20, estimatedMicros: Number(ledger.rows[0]!.est), actualMicros: Number(ledger.rows[0]!.act) });
    expect(accuracy.medianAbsError).toBeGreaterThanOrEqual(0);
    expect(presentAccuracy(accuracy)).toMatchObject({ charged: 20, median: expect.stringMatching(/^\d+(\.\d)?%$/), overall: expect.stringMatching(/^[+−]\d+(\.\d)?%$/) });

    // The second batch, calibrated, once run.
    await requestSubmit(env.db.db, t.admin, b2!.id);
    await drive(env.worker, submitSteps([b2!.id]));
    const calibrated = await estimateAccuracy(env.db.db, b2!.id);
    expect(calibrated.charged).toBe(20);
  }, 60_000);

  it('says nothing of accuracy for a batch without charged results', async () => {
    const t = await seedTenant(env.db.db);
    const items = await bulkSubmit(env.db.db, env.config, t, 2);
    const { batches: [b] } = await env.db.db.transaction((tx) => createBatches(tx, env.config.batches, t.admin, { scope: 'selected', ids: items }, {}));
    const accuracy = await estimateAccuracy(env.db.db, b!.id);
    expect(accuracy).toEqual({ charged: 0, estimatedMicros: 0, actualMicros: 0, medianAbsError: null });
    expect(presentAccuracy(accuracy)).toBeNull();
  });
});
