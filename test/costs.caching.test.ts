import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import type { Config } from '../src/config.js';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.js';
import type { BatchWorker } from '../src/models/batches/batch-worker.js';
import { createBatches, requestSubmit } from '../src/models/batches/batches.service.js';
import { spendReport } from '../src/models/budgets/spend.service.js';
import { presentSpend } from '../src/routes/costs.present.js';
import { anthropicMessageParams } from '../src/providers/anthropic/request-params.js';
import { gradingRequestFor } from '../src/grading/request.js';
import { SUBMISSION_OPEN } from '../src/grading/messages.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { bulkSubmit, seedTenant } from './helpers/batch-fixtures.js';
import { drive, submitSteps, testConfig, testWorker } from './helpers/batch-driver.js';

/**
 * Prompt caching (issue 20, item 5): requests are ordered static first, so the providers' prompt caches apply;
 * cached input comes back in the usage, is charged at the cached price, and the Costs page shows what caching and
 * batch pricing saved against the same tokens at real-time prices without a cache.
 */

let db: TestDatabase;
let emulator: RunningEmulator;
let config: Config;
let w: BatchWorker;

beforeAll(async () => {
  db = await createTestDatabase();
  emulator = await startEmulator({ port: 0, timings: { validatingMs: 0, inProgressMs: 0, finalizingMs: 0 } });
  config = testConfig(db, emulator.apiBaseUrl);
  w = testWorker(db.db, config);
});
afterAll(async () => {
  await emulator.close();
  await db.drop();
});

describe('prompt caching', () => {
  it('puts the static parts first: system, schema and the template before the submission, the submission last, the cache breakpoint on the system block', () => {
    const req = gradingRequestFor(
      {
        version: { template: 'Task: {task_title}\nCriteria:\n{task_criteria}\n\n{student_submission}', systemInstructions: 'Be fair.', graderInstructions: '', rubric: [{ id: 'c1', name: 'Argument', description: 'Clear', maxPoints: 5 }], maxScore: 5, model: 'claude-haiku-4-5', temperature: 0.2, maxOutputTokens: 500, outputSchema: { type: 'object' } },
        task: { title: 'Essay', description: 'Write.' },
      },
      'the student text',
      'qi-1-1',
    );
    expect(req.messages.map((m) => m.role)).toEqual(['system', 'user']);
    const user = req.messages[1]!.content;
    expect(user.indexOf('Criteria:')).toBeLessThan(user.indexOf(SUBMISSION_OPEN));
    expect(user.trimEnd().endsWith('</student_submission>')).toBe(true);
    const params = anthropicMessageParams(req, '1h');
    expect(params.system!.at(-1)!.cache_control).toEqual({ type: 'ephemeral', ttl: '1h' });
    expect(params.messages[0]!.content.at(-1)!.text).toContain('the student text');
  });

  it('charges cached input at the cached price, and the Costs page shows the saving of caching and batch against real time', async () => {
    // A static prefix past Haiku 4.5's 4,096-token minimum: the first request writes the cache, the rest read it.
    const t = await seedTenant(db.db, { provider: 'anthropic', systemInstructions: "Grade short persuasive paragraphs fairly, citing the student's own words. ".repeat(400) });
    const items = await bulkSubmit(db.db, config, t, 4);
    const { batches: [batch] } = await db.db.transaction((tx) => createBatches(tx, config.batches, t.admin, { scope: 'selected', ids: items }, {}));
    await requestSubmit(db.db, t.admin, batch!.id);
    await drive(w, submitSteps([batch!.id]));
    const rows = (
      await db.db.execute<{ input_tokens: number; cached_input_tokens: number; output_tokens: number; actual_cost_micros: number }>(sql`
        select input_tokens, cached_input_tokens, output_tokens, actual_cost_micros from assessments where batch_id = ${batch!.id} order by id`)
    ).rows.map((r) => ({ input: Number(r.input_tokens), cached: Number(r.cached_input_tokens), output: Number(r.output_tokens), cost: Number(r.actual_cost_micros) }));
    const readers = rows.filter((r) => r.cached > 0);
    expect(readers).toHaveLength(3);
    // A reader by hand, at Haiku's batch prices per million tokens: input $0.50, cache read $0.05, output $2.50.
    for (const r of readers) expect(r.cost).toBe(Math.round((r.input - r.cached) * 0.5 + r.cached * 0.05 + r.output * 2.5));

    const report = await spendReport(db.db, t.platformId);
    const s = report.selected.savings!;
    // Real time at Haiku's standard prices ($1 input, $0.10 cache read, $5 output), with and without the cache.
    const round = (x: number) => Math.round(x);
    expect(s.uncachedMicros).toBe(rows.reduce((a, r) => a + round(r.input * 1 + r.output * 5), 0));
    expect(s.standardMicros).toBe(rows.reduce((a, r) => a + round((r.input - r.cached) * 1 + r.cached * 0.1 + r.output * 5), 0));
    expect(s.chargedMicros).toBe(rows.reduce((a, r) => a + r.cost, 0));
    expect(s.uncachedMicros).toBeGreaterThan(s.standardMicros);

    const shown = presentSpend(report).selected.savings!;
    const below = (s.uncachedMicros - s.chargedMicros) / s.uncachedMicros;
    expect(shown.belowRealtime).toBe(`${(below * 100).toFixed(1)} %`);
    expect(shown.kpiReached).toBe(below >= 0.6);
    // Caching and batch pricing together: well past the seed's 60 % on a long shared prefix.
    expect(below).toBeGreaterThan(0.6);
  });
});
