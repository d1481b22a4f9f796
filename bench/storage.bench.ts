/**
 * What one graded submission costs in database space, for the plan to 1 million submissions a term
 * (bench/README.md): N submissions written as students hand them in (bulk), graded in one batch through the OpenAI
 * emulator, ingested, approved — then each table's size (heap + indexes + TOAST) divided by N, after a VACUUM so
 * dead tuples do not count.
 *
 * `npx tsx bench/storage.bench.ts [--n 5000]`.
 */
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { createDb, createPool, migrateDatabase } from '../src/db/db.js';
import { startEmulator } from '../src/emulator/index.js';
import { ingestBatch } from '../src/models/batches/batch-ingest.service.js';
import { pollBatch } from '../src/models/batches/batch-poll.service.js';
import { sendBatch } from '../src/models/batches/batch-send.service.js';
import { findBatchById } from '../src/models/batches/batches.repository.js';
import { isTerminal } from '../src/models/batches/batch-state.js';
import { createBatches, requestSubmit } from '../src/models/batches/batches.service.js';
import { bulkSubmit, seedTenant } from '../test/helpers/batch-fixtures.js';
import { benchDatabase } from './lib/embedded.js';
import { benchBatchConfig, benchWorker } from './lib/batch-config.js';
import { printTable } from './lib/stats.js';

const TABLES = ['submissions', 'queue_items', 'batch_requests', 'assessments', 'cost_ledger', 'audit_log', 'notifications', 'email_outbox'];

export async function run(options: { n?: number } = {}) {
  const n = options.n ?? 5_000;
  const database = await benchDatabase('storage_bench');
  const pool = createPool(database.url, 10);
  const db = createDb(pool);
  await migrateDatabase(db);
  const emulator = await startEmulator({ port: 0, host: '127.0.0.1', timings: { validatingMs: 0, inProgressMs: 0, finalizingMs: 0 } });
  const config = benchBatchConfig(database.url, emulator.apiBaseUrl, { BATCH_MAX_SIZE: '50000', BATCH_POLL_MIN_MS: '200', BATCH_POLL_MAX_MS: '1000' });
  const w = benchWorker(db, config);
  try {
    const t = await seedTenant(db);
    const items = await bulkSubmit(db, config, t, n);
    const { batches: [batch] } = await db.transaction((tx) => createBatches(tx, config.batches, t.admin, { scope: 'selected', ids: items }, { maxPerBatch: n }));
    await requestSubmit(db, t.admin, batch!.id);
    await sendBatch(w, batch!.id);
    for (;;) {
      await pollBatch(w, batch!.id);
      const b = await findBatchById(db, batch!.id);
      if (b && isTerminal(b.status)) break;
      await sleep(250);
    }
    await ingestBatch(w, batch!.id);
    // Approved, as instructors would, so the decision columns are filled as in a finished term.
    await db.execute(sql`update assessments set review_status = 'approved', reviewed_at = now(), released_at = now()`);
    await pool.query('vacuum');
    const rows = [];
    let total = 0;
    for (const table of TABLES) {
      const r = await db.execute<{ bytes: string; rows: string }>(sql`select pg_total_relation_size(${table}::regclass)::text as bytes, (select count(*) from ${sql.identifier(table)})::text as rows`);
      const bytes = Number(r.rows[0]!.bytes);
      total += bytes;
      rows.push({ table, rows: Number(r.rows[0]!.rows), 'bytes per submission': Math.round(bytes / n) });
    }
    rows.push({ table: 'total', rows: 0, 'bytes per submission': Math.round(total / n) });
    printTable(`Database space per graded submission (${n.toLocaleString('en')} submissions of ~300 characters)`, rows);
    return { n, bytesPerSubmission: Math.round(total / n), tables: rows };
  } finally {
    await emulator.close();
    await pool.end();
    await database.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { n: { type: 'string' } } });
  await run({ n: values.n ? Number(values.n) : undefined });
}
