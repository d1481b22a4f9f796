/**
 * How right cost estimates are (issue 16, item 7), on the OpenAI emulator: the median absolute error of each
 * request's estimate (its reservation when the batch was made) against its actual charge.
 *
 * Per scenario (a prompt version's max output tokens), 20 submissions are queued with no history and sent as a
 * first batch; 20 more are queued before those results arrive and sent as a second batch, made after them (so
 * calibrated from 20 results). Compared in the same run: the old first estimate (the messages' tokens without the
 * response format's schema, and 60 % of max output tokens), the answer's shape for the rubric with the schema
 * counted (what a first batch now reserves), and the calibrated estimate.
 *
 * The emulator writes answers of a realistic shape, but its lengths are its own: the figures say how the
 * estimator tracks a model's lengths, not what a real model writes. `npx tsx bench/estimates.bench.ts`.
 */
import { sql } from 'drizzle-orm';
import type { Config } from '../src/config.js';
import type { BatchWorker } from '../src/models/batches/batch-worker.js';
import { createDb, createPool, migrateDatabase, type RootDb } from '../src/db/db.js';
import { startEmulator } from '../src/emulator/index.js';
import { countSchemaTokens, estimateCostMicros } from '../src/providers/index.js';
import { gradingJsonSchema } from '../src/grading/result.schema.js';
import { DEFAULT_OUTPUT_FRACTION } from '../src/providers/tokens.js';
import { ingestBatch } from '../src/models/batches/batch-ingest.service.js';
import { pollBatch } from '../src/models/batches/batch-poll.service.js';
import { sendBatch } from '../src/models/batches/batch-send.service.js';
import { findBatchById } from '../src/models/batches/batches.repository.js';
import { createBatches, requestSubmit } from '../src/models/batches/batches.service.js';
import { bulkSubmit, seedTenant } from '../test/helpers/batch-fixtures.js';
import { benchDatabase } from './lib/embedded.js';
import { benchBatchConfig, benchWorker } from './lib/batch-config.js';
import { percentile, printTable } from './lib/stats.js';

const PER_BATCH = 20;

async function runBatch(db: RootDb, w: BatchWorker, config: Config, admin: { platformId: number; userId: number }, ids: number[]): Promise<number> {
  const { batches: [batch] } = await db.transaction((tx) => createBatches(tx, config.batches, admin, { scope: 'selected', ids }, {}));
  await requestSubmit(db, admin, batch!.id);
  await sendBatch(w, batch!.id);
  for (;;) {
    await db.execute(sql`update batches set next_poll_at = now() where id = ${batch!.id}`);
    await pollBatch(w, batch!.id);
    if ((await findBatchById(db, batch!.id))!.ingestedAt) break;
    await ingestBatch(w, batch!.id);
    if ((await findBatchById(db, batch!.id))!.ingestedAt) break;
  }
  return batch!.id;
}

/** Each charged request of a batch: its estimate (reservation), its actual charge, its input tokens. */
async function requestsOf(db: RootDb, batchId: number) {
  const rows = await db.execute<{ est: number; act: number; input: number }>(sql`
    select r.amount_micros::int8 as est, c.amount_micros::int8 as act, q.est_input_tokens as input
    from batch_requests br
    join cost_ledger c on c.idempotency_key = 'charge:' || br.custom_id
    join cost_ledger r on r.idempotency_key = 'reserve:' || br.custom_id
    join queue_items q on q.id = br.queue_item_id
    where br.batch_id = ${batchId}`);
  return rows.rows.map((r) => ({ est: Number(r.est), act: Number(r.act), input: Number(r.input) }));
}

const medianError = (pairs: Array<{ est: number; act: number }>) => Math.round(percentile(pairs.map((p) => Math.abs(p.est - p.act) / p.act), 50) * 1000) / 10;

async function scenario(db: RootDb, w: BatchWorker, config: Config, maxOutputTokens: number) {
  const t = await seedTenant(db);
  await db.execute(sql`update prompt_versions set max_output_tokens = ${maxOutputTokens} where id = ${t.version.id}`);
  t.version.maxOutputTokens = maxOutputTokens;
  const first = await bulkSubmit(db, config, t, PER_BATCH);
  const second = await bulkSubmit(db, config, t, PER_BATCH); // queued before any result: the same first estimate
  const b1 = await runBatch(db, w, config, t.admin, first);
  const b2 = await runBatch(db, w, config, t.admin, second);
  const one = await requestsOf(db, b1);
  const two = await requestsOf(db, b2);
  // The estimator before this change: the messages' tokens only (no response-format schema) and 60 % of max tokens.
  const fraction = Math.ceil(maxOutputTokens * DEFAULT_OUTPUT_FRACTION);
  const schemaTokens = countSchemaTokens(t.version.model, gradingJsonSchema(t.version.rubric, Number(t.version.maxScore)));
  const old = one.map((r) => ({ est: estimateCostMicros({ inputTokens: r.input - schemaTokens, outputTokens: fraction }, t.version.model, 'batch'), act: r.act }));
  const meanActual = one.reduce((a, r) => a + r.act, 0) / one.length;
  const tokens = (await db.execute<{ est_in: number; act_in: number; act_out: number; est_out2: number }>(sql`
    select avg(q.est_input_tokens)::float8 as est_in, avg(a.input_tokens)::float8 as act_in, avg(a.output_tokens)::float8 as act_out,
           (select avg(est_output_tokens)::float8 from queue_items where id = any(${sql.param(second)}::bigint[])) as est_out2
    from assessments a join queue_items q on q.id = a.queue_item_id where a.prompt_version_id = ${t.version.id}`)).rows[0]!;
  return {
    maxOutputTokens,
    rubricCriteria: t.version.rubric.length,
    meanActualMicros: Math.round(meanActual),
    meanTokens: { estimatedInput: Math.round(tokens.est_in), actualInput: Math.round(tokens.act_in), actualOutput: Math.round(tokens.act_out), calibratedOutput: Math.round(tokens.est_out2) },
    medianAbsErrorPct: {
      oldFirstEstimate: medianError(old),
      rubricShapeFirstBatch: medianError(one),
      calibratedAfter20Results: medianError(two),
    },
    meanEstimateMicros: {
      oldFirstEstimate: Math.round(old.reduce((a, r) => a + r.est, 0) / old.length),
      rubricShapeFirstBatch: Math.round(one.reduce((a, r) => a + r.est, 0) / one.length),
      calibratedAfter20Results: Math.round(two.reduce((a, r) => a + r.est, 0) / two.length),
    },
  };
}

export async function run() {
  const database = await benchDatabase('estimates_bench');
  const pool = createPool(database.url, 5);
  const db = createDb(pool);
  await migrateDatabase(db);
  const emulator = await startEmulator({ port: 0, timings: { validatingMs: 0, inProgressMs: 0, finalizingMs: 0 } });
  const config = benchBatchConfig(database.url, emulator.apiBaseUrl);
  const w = benchWorker(db, config);
  try {
    const results = [];
    for (const max of [600, 4000]) results.push(await scenario(db, w, config, max));
    printTable(
      'Median absolute error of per-request estimates (%)',
      results.map((r) => ({ 'max tokens': r.maxOutputTokens, 'old (60 % of max)': r.medianAbsErrorPct.oldFirstEstimate, 'rubric shape': r.medianAbsErrorPct.rubricShapeFirstBatch, 'calibrated (20 results)': r.medianAbsErrorPct.calibratedAfter20Results })),
    );
    return { perBatch: PER_BATCH, scenarios: results };
  } finally {
    await emulator.close();
    await pool.end();
    await database.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await run(), null, 2));
}
