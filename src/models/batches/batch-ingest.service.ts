import { notifyDeadLetters, notifyFeedbackReady } from '../notifications/notices.service.js';
import type { Db } from '../../db/db.js';
import { parseCustomId } from '../../providers/index.js';
import { recordAudit } from '../audit/audit.repository.js';
import { raiseBudgetAlerts } from '../budgets/budget-alerts.service.js';
import { releaseReservations } from '../budgets/budgets.service.js';
import {
  failRequests,
  pendingCustomIds,
  recordChunk,
  recordResults,
  requestTargets,
  returnNotRun,
} from './batch-work.repository.js';
import { keepLease, LeaseLostError, providerOf, type BatchWorker, type NextStep } from './batch-worker.js';
import { claimLease, renewLease, type BatchRow } from './batches.repository.js';
import { needsSql } from './batch-state.js';
import { commitWithoutWaitingForDisk, markIngested, releaseLease, rubricsOf } from './batch-steps.repository.js';
import type { ResultChunk } from './result-chunk.js';
import { failOverFinishedBatch } from '../failover/failover.service.js';
import { ChunkPipeline } from './chunk-pipeline.js';
import { insertedTotals, sortChunkLines, type Rubric } from './chunk-outcomes.js';

/**
 * Lines per transaction: large enough that SQL round trips do not dominate, small enough to keep memory bounded.
 * Measured (bench/ingest.bench.ts, 50,000 lines, chunks holding their answers off the heap): 500 / 1000 / 2000
 * lines gave about 11.9k / 12.3–13.3k / 13.7k results/s and an RSS peak of 210 / 236–240 / 240 MB, from one run to
 * the next about as far apart as from one size to the next.
 */
export const INGEST_CHUNK = 1000;

/** Chunks applied at once (see ChunkPipeline). Measured with 2 cores: 3 is no faster than 2, and holds more memory. */
const IN_FLIGHT = 2;

export interface IngestOptions {
  chunkSize?: number;
  /** Called after each chunk is committed, with the lines read so far (benchmarks, progress). */
  onProgress?: (lines: number) => void | Promise<void>;
}

async function rubricsFor(db: Db, cache: Map<number, Rubric>, ids: number[]): Promise<void> {
  const missing = [...new Set(ids)].filter((id) => !cache.has(id));
  if (!missing.length) return;
  for (const r of await rubricsOf(db, missing)) cache.set(r.id, { rubric: r.rubric, maxScore: r.maxScore });
}

/**
 * One chunk of result lines (consumed: emptied once they are evaluated), in one transaction: usable
 * answers become assessments (validated, clamped, flagged), with usage and actual cost, their items completed and
 * their cost charged; error and unreadable lines count as a failed send (retried until QUEUE_MAX_ATTEMPTS, then a
 * dead letter); lines of requests that never ran send the item back to the queue; lines naming no request of this
 * batch are counted. Progress and totals are recorded in the same transaction, conditional on the lease and on the
 * previous position: a chunk is applied once.
 */
async function applyChunk(w: BatchWorker, batch: BatchRow, chunk: ResultChunk, position: number, rubrics: Map<number, Rubric>, previousChunk: Promise<void>): Promise<void> {
  await w.db.transaction(async (tx) => {
    await commitWithoutWaitingForDisk(tx);
    const lines = chunk.lines;
    const count = lines.length;
    const ids = lines.map((l) => l.customId).filter((c): c is string => c !== null && parseCustomId(c) !== null);
    const targets = await requestTargets(tx, batch.id, ids);
    await rubricsFor(tx, rubrics, [...targets.values()].map((t) => t.prompt_version_id));

    const { doc, results, failures, notRun, unmatched } = sortChunkLines(batch, chunk, targets, rubrics, (m, d) => w.logger.warn(m, d), w.encryptionKey);

    const inserted = new Set(await recordResults(tx, batch.platformId, batch.id, doc));
    // Results released at once (the task's policy): their students are told, once each.
    await notifyFeedbackReady(tx, { customIds: [...inserted] });
    const released: string[] = [];
    // A result for an item that already has its assessment (it cannot be graded twice): resolve the request only.
    const duplicates = results.filter((r) => !inserted.has(r.customId));
    if (duplicates.length) {
      released.push(...(await failRequests(tx, batch.id, duplicates.map((d) => ({ customId: d.customId, code: 'duplicate_result', message: 'This item already has an assessment.' })))));
    }
    const failed = await failRequests(tx, batch.id, failures);
    await notifyDeadLetters(tx, batch.id, failed);
    released.push(...failed);
    released.push(...(await returnNotRun(tx, batch.id, batch.status === 'cancelled' ? 'cancelled' : 'expired', notRun)));
    await releaseReservations(tx, released, 'batch result');

    const totals = insertedTotals(results, inserted);
    // Commit in order: the chunk before this one (applied at the same time) must have committed first; if it
    // failed, this one is rolled back too (throws), so the recorded position never skips lines.
    await previousChunk;
    const ok = await recordChunk(tx, batch.id, w.name, w.settings.leaseMs, { position, previous: position - count, unmatched, ...totals });
    if (!ok) throw new LeaseLostError(batch.id);
  });
}

/**
 * After the last line: requests with no line at all. In a batch that expired, was cancelled or failed they never
 * ran (back to the queue); in a completed batch a missing result is a failed send. Then the batch is ingested.
 * Returns the failover batch made for what it never ran, if any.
 */
async function finishIngestion(w: BatchWorker, batch: BatchRow): Promise<number | null> {
  return w.db.transaction(async (tx) => {
    const pending = await pendingCustomIds(tx, batch.id);
    let released: string[] = [];
    if (batch.status === 'completed') {
      released = await failRequests(tx, batch.id, pending.map((customId) => ({ customId, code: 'missing_result', message: 'The provider returned no result for this request.' })));
      await notifyDeadLetters(tx, batch.id, released);
    } else {
      const why = batch.status === 'failed' ? `The batch failed at the provider${batch.error ? `: ${batch.error}` : ''}` : batch.status === 'expired' ? 'The batch expired before this request ran' : 'The batch was cancelled before this request ran';
      released = await returnNotRun(tx, batch.id, batch.status === 'cancelled' ? 'cancelled' : 'expired', pending.map((customId) => ({ customId, code: `batch_${batch.status}`, message: `Not run: ${why}.` })));
    }
    await releaseReservations(tx, released, 'batch result');
    const totals = await markIngested(tx, batch.id, w.name);
    if (!totals) throw new LeaseLostError(batch.id);
    // Results can cost more than their estimates: the charges may have taken a budget past a threshold.
    await raiseBudgetAlerts(tx, batch.platformId);
    await recordAudit(tx, {
      platformId: batch.platformId,
      actorKind: 'system',
      action: 'batch.ingested',
      entityType: 'batch',
      entityId: batch.id,
      details: { status: batch.status, ...totals },
    });
    // Failover: what a failed, expired or overdue batch never ran may move to the next provider, in this same
    // transaction, so no result of this batch can come after its items were sent again (failover.service.ts).
    return (await failOverFinishedBatch(tx, batch, w.providers.names)).batchId;
  });
}

/**
 * Streams the output file, then the error file, into chunks of `size` lines, skipping the lines a previous worker
 * applied already. Returns the number of lines read.
 */
async function readResults(w: BatchWorker, batch: BatchRow, size: number, pipeline: ChunkPipeline): Promise<number> {
  let position = 0;
  for (const fileId of [batch.outputFileId, batch.errorFileId]) {
    if (!fileId) continue;
    let chunk = pipeline.newChunk();
    let lines = 0;
    for await (const line of providerOf(w, batch).streamResults(fileId)) {
      position += 1;
      lines += 1;
      if (position <= batch.ingestedLines) continue;
      chunk.add(line);
      if (chunk.length >= size) {
        await pipeline.apply(chunk, position);
        chunk = pipeline.newChunk();
      }
    }
    if (chunk.length) await pipeline.apply(chunk, position);
    // Every exchange with a provider is in the audit log (a resumed ingest downloads the file again: logged again).
    await recordAudit(w.db, { platformId: batch.platformId, actorKind: 'system', action: 'provider.file_downloaded', entityType: 'batch', entityId: batch.id, details: { provider: batch.provider, fileId, lines } });
  }
  return position;
}

/**
 * The ingest step, for a batch in a terminal state: streams its output file, then its error file, line by line
 * (never a whole file in memory), in chunks applied once each. A worker that dies mid-way leaves a lease that runs
 * out and a recorded position: the next worker skips the lines already applied and goes on from there. An
 * expired or cancelled batch keeps what finished; the rest goes back to the queue. The batch's files at the
 * provider are deleted after this (cleanUpProviderFiles, provider-cleanup.service.ts, which the ingest job runs next).
 */
export async function ingestBatch(w: BatchWorker, batchId: number, options: IngestOptions = {}): Promise<NextStep[]> {
  const batch = await claimLease(w.db, batchId, w.name, w.settings.leaseMs, needsSql('ingest'));
  if (!batch) return [];
  const size = options.chunkSize ?? w.settings.ingestChunk ?? INGEST_CHUNK;
  const rubrics = new Map<number, Rubric>();
  const release = keepLease(w, batchId, renewLease);
  try {
    const pipeline = new ChunkPipeline(IN_FLIGHT, (chunk, at, previous) => applyChunk(w, batch, chunk, at, rubrics, previous).then(() => options.onProgress?.(at)));
    let position: number;
    try {
      position = await readResults(w, batch, size, pipeline);
      await pipeline.drain();
    } catch (err) {
      // Nothing may still be writing when the lease is given up below.
      await pipeline.settle();
      throw err;
    }
    const failover = await finishIngestion(w, batch);
    w.logger.info('batch ingested', { batchId, lines: position, ...(failover ? { failover } : {}) });
    return failover ? [{ step: 'submit', batchId: failover }] : [];
  } catch (err) {
    if (err instanceof LeaseLostError) {
      w.logger.warn(err.message, { batchId });
      return [];
    }
    await releaseLease(w.db, batchId, w.name);
    throw err;
  } finally {
    release();
  }
}
