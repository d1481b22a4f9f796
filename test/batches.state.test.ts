import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import type { JobName, Jobs } from '../src/job-queue.js';
import { kickBatch, STEP_JOBS } from '../src/models/batches/batch-kick.js';
import {
  BATCH_STATUSES,
  BATCH_STEPS,
  isRunning,
  isTerminal,
  needs,
  needsSql,
  NEXT_STEP_SQL,
  nextStep,
  RUNNING_SQL,
  TERMINAL_SQL,
  type BatchState,
  type BatchStatus,
  type BatchStep,
} from '../src/models/batches/batch-state.js';
import { dueWork } from '../src/models/batches/batch-work.repository.js';
import { findBatchById } from '../src/models/batches/batches.repository.js';
import { seedTenant } from './helpers/batch-fixtures.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

/**
 * The batch state machine is one rule written twice, in TypeScript (the kick) and in SQL (the sweep and every
 * step's claim): both sides must agree on every combination of the columns they read.
 */

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
}, 60_000);
afterAll(async () => {
  await db?.drop();
});

/** Every combination: status × submit asked × cancel asked × cancel sent × at the provider × ingested. */
const COMBINATIONS = `
  select s as status, sr as submit_requested_at, cr as cancel_requested_at, cs as cancel_sent_at, p as provider_batch_id, i as ingested_at
  from unnest(array[${BATCH_STATUSES.map((s) => `'${s}'`).join(', ')}]) s,
       unnest(array[null, now()]::timestamptz[]) sr, unnest(array[null, now()]::timestamptz[]) cr, unnest(array[null, now()]::timestamptz[]) cs,
       unnest(array[null, 'batch_x']::text[]) p, unnest(array[null, now()]::timestamptz[]) i`;
const COUNT = BATCH_STATUSES.length * 2 ** 5;

type Row = { status: BatchStatus; submit_requested_at: Date | null; cancel_requested_at: Date | null; cancel_sent_at: Date | null; provider_batch_id: string | null; ingested_at: Date | null };
const stateOf = (r: Row): BatchState => ({
  status: r.status,
  submitRequestedAt: r.submit_requested_at,
  cancelRequestedAt: r.cancel_requested_at,
  cancelSentAt: r.cancel_sent_at,
  providerBatchId: r.provider_batch_id,
  ingestedAt: r.ingested_at,
});

describe('the batch state machine', () => {
  it('decides the next step the same in SQL as in code, for every combination', async () => {
    const rows = await db.db.execute<Row & { step: BatchStep | null; terminal: boolean; running: boolean } & Record<`needs_${BatchStep}`, boolean>>(sql`
      with batches as (${sql.raw(COMBINATIONS)})
      select *, ${NEXT_STEP_SQL} as step, ${TERMINAL_SQL} as terminal, ${RUNNING_SQL} as running,
             ${needsSql('cancel')} as needs_cancel, ${needsSql('submit')} as needs_submit, ${needsSql('poll')} as needs_poll, ${needsSql('ingest')} as needs_ingest
      from batches`);
    expect(rows.rows).toHaveLength(COUNT);
    for (const r of rows.rows) {
      const b = stateOf(r);
      const inSql = { step: r.step, terminal: r.terminal, running: r.running, ...Object.fromEntries(BATCH_STEPS.map((s) => [s, r[`needs_${s}`]])) };
      const inCode = { step: nextStep(b), terminal: isTerminal(b.status), running: isRunning(b.status), ...Object.fromEntries(BATCH_STEPS.map((s) => [s, needs(s, b)])) };
      expect([b, inSql]).toEqual([b, inCode]);
    }
    // The shape of the machine, so a rule that quietly stops matching anything fails here too.
    const count = (step: BatchStep | null) => rows.rows.filter((r) => r.step === step).length;
    expect({ cancel: count('cancel'), submit: count('submit'), poll: count('poll'), ingest: count('ingest'), none: count(null) }).toEqual({ cancel: 12, submit: 2, poll: 12, ingest: 32, none: 166 });
  });

  it('nothing is left to do once a batch is ingested, and a finished batch is only ever ingested', () => {
    for (const status of BATCH_STATUSES) {
      for (const flags of Array.from({ length: 16 }, (_, i) => i)) {
        const b: BatchState = {
          status,
          submitRequestedAt: flags & 1 ? new Date() : null,
          cancelRequestedAt: flags & 2 ? new Date() : null,
          cancelSentAt: flags & 4 ? new Date() : null,
          providerBatchId: flags & 8 ? 'batch_x' : null,
          ingestedAt: null,
        };
        expect(nextStep({ ...b, ingestedAt: new Date() })).toBeNull();
        if (isTerminal(status)) expect(nextStep(b)).toBe(b.providerBatchId ? 'ingest' : null);
      }
    }
  });

  it('the sweep hands out, and the kick enqueues, the step nextStep names, over real batch rows', async () => {
    const t = await seedTenant(db.db);
    const inserted = await db.db.execute<{ id: number }>(sql`
      insert into batches (platform_id, provider, model, status, submit_requested_at, cancel_requested_at, cancel_sent_at, provider_batch_id, ingested_at)
      select ${t.platformId}, 'openai', 'gpt-4o-mini', c.status, c.submit_requested_at, c.cancel_requested_at, c.cancel_sent_at,
             c.provider_batch_id || '_' || row_number() over (), c.ingested_at
      from (${sql.raw(COMBINATIONS)}) c
      returning id`);
    const ids = inserted.rows.map((r) => Number(r.id));
    expect(ids).toHaveLength(COUNT);
    const expected = new Map<number, BatchStep | null>();
    for (const id of ids) expected.set(id, nextStep((await findBatchById(db.db, id))!));

    const kicked: Array<{ name: JobName; batchId: number }> = [];
    const jobs: Jobs = { enqueue: async (name, payload) => void kicked.push({ name, batchId: (payload as { batchId: number }).batchId }) };
    for (const id of ids) await kickBatch(db.db, jobs, id);
    const wanted = ids.filter((id) => expected.get(id)).map((id) => ({ name: STEP_JOBS[expected.get(id)!], batchId: id }));
    expect(kicked).toEqual(wanted);

    // No poll is scheduled yet (next_poll_at is null), so everything with a step is due now.
    const due = await dueWork(db.db, 60_000, 1000);
    expect(new Map(due.filter((d) => expected.has(d.id)).map((d) => [d.id, d.step]))).toEqual(new Map(ids.filter((id) => expected.get(id)).map((id) => [id, expected.get(id)])));
  });

  it('the sweep waits for a poll\'s time, but not for a cancel', async () => {
    const t = await seedTenant(db.db);
    const row = async (cancel: boolean) =>
      Number(
        (
          await db.db.execute<{ id: number }>(sql`
            insert into batches (platform_id, provider, model, status, provider_batch_id, next_poll_at, cancel_requested_at)
            values (${t.platformId}, 'openai', 'gpt-4o-mini', 'processing', ${`batch_later_${cancel}_${t.platformId}`}, now() + interval '1 hour', ${cancel ? sql`now()` : sql`null`})
            returning id`)
        ).rows[0]!.id,
      );
    const later = await row(false);
    const cancelling = await row(true);
    const due = await dueWork(db.db, 60_000, 1000);
    expect(due.filter((d) => d.id === later || d.id === cancelling)).toEqual([{ id: cancelling, step: 'cancel' }]);
  });
});
