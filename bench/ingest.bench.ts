/**
 * Ingestion of a 50,000-line batch: results/s and resident memory (peak after 5,000 and after 50,000 lines), with
 * the same rows loaded by raw `COPY` into the same database in the same run as the bound.
 *
 * The batch is made as in production: 50,000 submissions (written in bulk), one batch created and confirmed, sent
 * by the send step to the OpenAI emulator (in a child process, so its memory is not ours), graded there, polled
 * until complete. Then the ingest step is timed alone: stream the output file, validate each answer with the
 * grading schema, insert the assessments, complete the items, charge the ledger, in chunks of BATCH_INGEST_CHUNK.
 * COPY then loads exactly those assessment rows into a table with the same columns and indexes.
 *
 * `npx tsx bench/ingest.bench.ts [--lines 50000] [--chunk 1000]`. Target: ingest ≥ 25% of COPY's rows/s, memory flat.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';
import { sql } from 'drizzle-orm';
import { createDb, createPool, migrateDatabase } from '../src/db/db.js';
import { ingestBatch } from '../src/models/batches/batch-ingest.service.js';
import { pollBatch } from '../src/models/batches/batch-poll.service.js';
import { sendBatch } from '../src/models/batches/batch-send.service.js';
import { findBatchById } from '../src/models/batches/batches.repository.js';
import { isTerminal } from '../src/models/batches/batch-state.js';
import { createBatches, requestSubmit } from '../src/models/batches/batches.service.js';
import { bulkSubmit, seedTenant } from '../test/helpers/batch-fixtures.js';
import { freePort } from '../test/helpers/ports.js';
import { benchDatabase } from './lib/embedded.js';
import { benchBatchConfig, benchWorker } from './lib/batch-config.js';
import { printTable } from './lib/stats.js';

const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;

// A full collection before reading the live heap (two calls in a run: at 5,000 lines and at the end).
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const liveHeap = () => {
  gc();
  return process.memoryUsage().heapUsed;
};

async function startEmulatorProcess(port: number): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/emulator/main.ts'], {
    env: { ...process.env, EMULATOR_PORT: String(port), EMULATOR_VALIDATING_MS: '0', EMULATOR_IN_PROGRESS_MS: '0', EMULATOR_FINALIZING_MS: '0', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  for (let i = 0; i < 300 && !/OpenAI base URL: (\S+)/.test(out); i += 1) await sleep(50);
  const url = /OpenAI base URL: (\S+)/.exec(out)?.[1];
  if (!url) throw new Error(`the emulator did not start: ${out}`);
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

export async function run(options: { lines?: number; chunk?: number } = {}) {
  const lines = options.lines ?? 50_000;
  // No autovacuum: after the setup's 50,000 inserts (and again after the ingest's writes) it starts at a moment of
  // its own choosing and shares the two cores with whichever timing is running, the ingest or a COPY. Measured with
  // it on, the same code gave 22.5–26.9 % of COPY from run to run; off, the two are compared on equal terms.
  const database = await benchDatabase('ingest_bench', { autovacuum: 'off' });
  const pool = createPool(database.url, 10);
  const db = createDb(pool);
  await migrateDatabase(db);
  const emulator = await startEmulatorProcess(await freePort());
  const config = benchBatchConfig(database.url, emulator.url, {
    BATCH_MAX_SIZE: '50000',
    BATCH_POLL_MIN_MS: '200',
    BATCH_POLL_MAX_MS: '1000',
    ...(options.chunk ? { BATCH_INGEST_CHUNK: String(options.chunk) } : {}),
  });
  const w = benchWorker(db, config);
  try {
    const t = await seedTenant(db);
    let t0 = performance.now();
    const items = await bulkSubmit(db, config, t, lines);
    const seedSeconds = (performance.now() - t0) / 1000;
    const { batches: [batch] } = await db.transaction((tx) => createBatches(tx, config.batches, t.admin, { scope: 'selected', ids: items }, { maxPerBatch: lines }));
    await requestSubmit(db, t.admin, batch!.id);
    t0 = performance.now();
    await sendBatch(w, batch!.id);
    const sendSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    for (;;) {
      await pollBatch(w, batch!.id);
      const b = await findBatchById(db, batch!.id);
      if (b && isTerminal(b.status)) break;
      await sleep(250);
    }
    const gradeSeconds = (performance.now() - t0) / 1000;

    // Ingest, sampling resident memory every 20 ms; after a checkpoint, as each COPY below, so it does not pay for
    // the writes of the setup.
    await db.execute(sql`checkpoint`);
    const heapBefore = liveHeap();
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    // Also the peak of each window of 5,000 lines: does resident memory keep growing with the lines, or level off?
    let windowPeak = rssBefore;
    const windows: number[] = [];
    const sample = () => {
      const rss = process.memoryUsage().rss;
      peak = Math.max(peak, rss);
      windowPeak = Math.max(windowPeak, rss);
    };
    const sampler = setInterval(sample, 20);
    let peakAt5k = 0;
    let secondsAt5k = 0;
    let heapAt5k = 0;
    t0 = performance.now();
    await ingestBatch(w, batch!.id, {
      onProgress: (n) => {
        sample();
        if (n >= (windows.length + 1) * 5000) {
          windows.push(mb(windowPeak));
          windowPeak = process.memoryUsage().rss;
        }
        if (!peakAt5k && n >= 5000) {
          peakAt5k = peak;
          secondsAt5k = (performance.now() - t0) / 1000;
          heapAt5k = liveHeap();
        }
      },
    });
    const ingestSeconds = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    const peakAt50k = Math.max(peak, process.memoryUsage().rss);
    const heapAtEnd = liveHeap();
    const ingested = (await findBatchById(db, batch!.id))!;
    const assessments = Number((await db.execute<{ n: number }>(sql`select count(*)::int as n from assessments where batch_id = ${batch!.id}`)).rows[0]!.n);

    // The bound: the same rows, by COPY (server-side file: no client library in the way), into a table like
    // assessments with the same indexes.
    const file = path.join(tmpdir(), `ingest-bench-${process.pid}.copy`);
    await db.execute(sql.raw(`copy (select * from assessments where batch_id = ${batch!.id}) to '${file}'`));
    // Three loads into a fresh table each (this machine is noisy; the median is the bound), after a checkpoint so
    // none pays for the writes of the one before.
    const copyRuns: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      await db.execute(sql`drop table if exists assessments_copy`);
      await db.execute(sql`create table assessments_copy (like assessments including defaults including indexes including constraints)`);
      await db.execute(sql`checkpoint`);
      t0 = performance.now();
      await db.execute(sql.raw(`copy assessments_copy from '${file}'`));
      copyRuns.push((performance.now() - t0) / 1000);
    }
    const copySeconds = [...copyRuns].sort((a, b) => a - b)[1]!;
    // The same again into a table that also has assessments' foreign keys (which every ingested row is checked against).
    await db.execute(sql`create table assessments_copy_fk (like assessments including defaults including indexes including constraints)`);
    const fks = await db.execute<{ def: string }>(sql`select pg_get_constraintdef(oid) as def from pg_constraint where conrelid = 'assessments'::regclass and contype = 'f'`);
    for (const fk of fks.rows) await db.execute(sql.raw(`alter table assessments_copy_fk add ${fk.def}`));
    t0 = performance.now();
    await db.execute(sql.raw(`copy assessments_copy_fk from '${file}'`));
    const copyFkSeconds = (performance.now() - t0) / 1000;
    rmSync(file, { force: true });

    const ingestRate = Math.round(assessments / ingestSeconds);
    const copyRate = Math.round(assessments / copySeconds);
    const copyFkRate = Math.round(assessments / copyFkSeconds);
    return {
      lines,
      batchStatus: ingested.status,
      ingestedLines: ingested.ingestedLines,
      assessments,
      chunk: config.batches.ingestChunk,
      setup: { seedSeconds: Math.round(seedSeconds * 10) / 10, sendSeconds: Math.round(sendSeconds * 10) / 10, providerGradeSeconds: Math.round(gradeSeconds * 10) / 10 },
      ingest: { seconds: Math.round(ingestSeconds * 100) / 100, resultsPerSecond: ingestRate, secondsAt5k: Math.round(secondsAt5k * 100) / 100 },
      copy: { seconds: Math.round(copySeconds * 100) / 100, rowsPerSecond: copyRate, runsSeconds: copyRuns.map((x) => Math.round(x * 100) / 100) },
      copyWithForeignKeys: { seconds: Math.round(copyFkSeconds * 100) / 100, rowsPerSecond: copyFkRate },
      ingestShareOfCopy: Math.round((ingestRate / copyRate) * 1000) / 1000,
      ingestShareOfCopyWithForeignKeys: Math.round((ingestRate / copyFkRate) * 1000) / 1000,
      rssMB: { beforeIngest: mb(rssBefore), peakAt5k: mb(peakAt5k), peakAtEnd: mb(peakAt50k), growth5kToEnd: Math.round((mb(peakAt50k) - mb(peakAt5k)) * 10) / 10, peakPer5kLines: windows },
      liveHeapMB: { beforeIngest: mb(heapBefore), at5k: mb(heapAt5k), atEnd: mb(heapAtEnd) },
    };
  } finally {
    await emulator.stop();
    await pool.end();
    await database.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { lines: { type: 'string', default: '50000' }, chunk: { type: 'string' } } });
  const r = await run({ lines: Number(values.lines), chunk: values.chunk ? Number(values.chunk) : undefined });
  console.log(JSON.stringify(r, null, 2));
  printTable(`Ingest of ${r.lines.toLocaleString('en')} result lines vs COPY of the same rows`, [
    { method: 'ingest (stream, validate, insert, complete, charge)', seconds: r.ingest.seconds, 'rows/s': r.ingest.resultsPerSecond },
    { method: 'COPY (same rows, same indexes; median of 3)', seconds: r.copy.seconds, 'rows/s': r.copy.rowsPerSecond },
    { method: 'COPY (same rows, same indexes and foreign keys)', seconds: r.copyWithForeignKeys.seconds, 'rows/s': r.copyWithForeignKeys.rowsPerSecond },
  ]);
  console.log(`\nRSS peak per 5,000 lines: ${r.rssMB.peakPer5kLines.join(', ')} MB`);
  console.log(`\ningest = ${(r.ingestShareOfCopy * 100).toFixed(1)}% of COPY (${(r.ingestShareOfCopyWithForeignKeys * 100).toFixed(1)}% with foreign keys); RSS peak ${r.rssMB.peakAt5k} MB after 5k lines, ${r.rssMB.peakAtEnd} MB at the end; live heap ${r.liveHeapMB.at5k} → ${r.liveHeapMB.atEnd} MB`);
  process.exit(0);
}
