import { sql } from 'drizzle-orm';
import { decryptContent } from '../../crypto/content.js';
import type { Db } from '../../db/db.js';
import { scanSubmission, type SubmissionScan } from '../../grading/injection.js';
import { LOCAL_BATCH_ID_KEY, ProviderError, type BatchSnapshot } from '../../providers/index.js';
import { recordAudit } from '../audit/audit.repository.js';
import { recordInjectionScans, sendRows, versionsForRequests, type VersionForRequest } from './batch-work.repository.js';
import { keepLease, pollDelayMs, later, type BatchWorker, type NextStep } from './batch-worker.js';
import { claimLease, renewLease, type BatchRow } from './batches.repository.js';
import { returnUnsentItems } from './batches.service.js';
import { needsSql } from './batch-state.js';
import { requestForSubmission } from '../../grading/request.js';

const PAGE = 500;
/** Metadata pairs that identify our batch at the provider (the id alone could repeat across installations). */
function batchMetadata(batch: BatchRow): Record<string, string> {
  return { [LOCAL_BATCH_ID_KEY]: String(batch.id), llm_assess_created: batch.createdAt.toISOString() };
}

/**
 * The request lines of a batch, made as they stream out: decrypted, anonymized when the course asks, and built
 * exactly as they were estimated at submit time. Pages of 500 requests: memory stays flat for 50,000. Each text is
 * scanned for prompt injection here, where it is plaintext anyway, and a page's findings are recorded before its
 * lines go out, so no line reaches the provider without its scan stored for ingestion.
 */
async function* requestLines(w: BatchWorker, batch: BatchRow): AsyncGenerator<string> {
  const versions = new Map<number, VersionForRequest>();
  let after = 0;
  for (;;) {
    const rows = await sendRows(w.db, batch.id, after, PAGE);
    if (!rows.length) return;
    const missing = [...new Set(rows.map((r) => r.prompt_version_id))].filter((id) => !versions.has(id));
    for (const v of await versionsForRequests(w.db, missing)) versions.set(v.id, v);
    const lines: string[] = [];
    const scans: Array<{ requestId: number; scan: SubmissionScan }> = [];
    for (const r of rows) {
      const v = versions.get(r.prompt_version_id)!;
      if (!r.content) throw new ProviderError(`The submission of queue item ${r.queue_item_id} was erased (retention) before it was sent.`, { code: 'invalid_request', retryable: false });
      let text: string;
      try {
        text = decryptContent(w.encryptionKey, r.content, { taskId: r.task_id, studentId: r.student_id, attempt: r.attempt });
      } catch (err) {
        // A wrong key or a changed value will not get better by retrying: fail the batch with the reason.
        throw new ProviderError(`The submission of queue item ${r.queue_item_id} cannot be read: ${(err as Error).message}`, { code: 'invalid_request', retryable: false });
      }
      // The text as the student wrote it: anonymizing may rewrite a word of an attack (a name inside a fake tag), and
      // the scan keeps no text, only what it found.
      const scan = scanSubmission(text);
      if (scan.risk > 0) scans.push({ requestId: r.request_id, scan });
      const req = requestForSubmission(
        {
          version: {
            template: v.template,
            systemInstructions: v.system_instructions,
            graderInstructions: v.grader_instructions,
            rubric: v.rubric,
            maxScore: v.max_score,
            model: v.model,
            temperature: v.temperature,
            maxOutputTokens: v.max_output_tokens,
            outputSchema: v.output_schema,
          },
          task: { title: v.task_title, description: v.task_description },
        },
        // No privacy row means the course's defaults, which anonymize.
        { text, author: { name: r.name, givenName: r.given_name, familyName: r.family_name, email: r.email }, anonymize: r.anonymize !== false },
        r.custom_id,
      );
      lines.push(w.provider.buildRequestLine(req));
    }
    await recordInjectionScans(w.db, scans);
    yield* lines;
    after = rows[rows.length - 1]!.request_id;
  }
}

/** Marks the batch failed without it ever running: its items go back to the queue, reservations are released. */
async function failUnsent(w: BatchWorker, batch: BatchRow, reason: string): Promise<void> {
  await w.db.transaction(async (tx) => {
    const rows = await tx.execute(sql`
      update batches set status = 'failed', error = ${reason}, finished_at = now(), ingested_at = now(), submit_attempts = submit_attempts + 1,
        lease_owner = null, lease_expires_at = null, updated_at = now()
      where id = ${batch.id} and status = 'created' and provider_batch_id is null and lease_owner = ${w.name}
      returning id`);
    if (!rows.rows.length) return;
    await returnUnsentItems(tx, batch.id, 'cancelled', `Not sent: ${reason}`);
    await recordAudit(tx, { platformId: batch.platformId, actorKind: 'system', action: 'batch.failed', entityType: 'batch', entityId: batch.id, details: { sent: false, reason } });
  });
}

/** Records that the provider has the batch: created → submitted, items selected → processing. Once. */
async function recordSubmitted(db: Db, w: BatchWorker, batch: BatchRow, snapshot: BatchSnapshot, inputFileId: string | null, adopted: boolean): Promise<boolean> {
  const rows = await db.execute(sql`
    update batches set status = 'submitted', provider_batch_id = ${snapshot.providerBatchId}, input_file_id = ${inputFileId ?? snapshot.inputFileId},
      provider_status = ${snapshot.providerStatus}, submitted_at = now(), error = null,
      next_poll_at = now() + ${pollDelayMs(w.settings, 0)} * interval '1 millisecond',
      lease_owner = null, lease_expires_at = null, updated_at = now()
    where id = ${batch.id} and status = 'created' and provider_batch_id is null and lease_owner = ${w.name}
    returning id`);
  if (!rows.rows.length) return false;
  await db.execute(sql`update queue_items set status = 'processing', updated_at = now() where batch_id = ${batch.id} and status = 'selected'`);
  await recordAudit(db, {
    platformId: batch.platformId,
    actorKind: 'system',
    action: 'batch.submitted',
    entityType: 'batch',
    entityId: batch.id,
    details: { providerBatchId: snapshot.providerBatchId, adopted, requests: batch.requestTotal },
  });
  return true;
}

/**
 * The send step: uploads the request file and creates the provider batch, once. It runs under the batch's lease,
 * and first asks the provider for a batch already carrying our metadata — a try that created the batch and then
 * lost the answer (or a worker that died right after) is adopted, never sent a second time. Retryable failures
 * (429, 5xx, network) are retried with backoff up to BATCH_SUBMIT_MAX_TRIES; then, or on a permanent failure, the
 * batch is failed with the reason and its items go back to the queue.
 */
export async function sendBatch(w: BatchWorker, batchId: number): Promise<NextStep[]> {
  const batch = await claimLease(w.db, batchId, w.name, w.settings.leaseMs, needsSql('submit'));
  if (!batch) return [];
  let snapshot: BatchSnapshot | null = null;
  let inputFileId: string | null = null;
  const release = keepLease(w, batchId, renewLease);
  try {
    snapshot = await w.provider.findBatchByMetadata(batchMetadata(batch), batch.createdAt);
    const adopted = snapshot !== null;
    if (!snapshot) {
      const meta = batchMetadata(batch);
      const created = await w.provider.createBatch({ lines: requestLines(w, batch), metadata: { localBatchId: batch.id, llm_assess_created: meta.llm_assess_created! } });
      snapshot = created.snapshot;
      inputFileId = created.inputFileId;
    }
    const recorded = await w.db.transaction((tx) => recordSubmitted(tx, w, batch, snapshot!, inputFileId, adopted));
    if (!recorded) {
      w.logger.warn('a batch was sent but another worker had taken it over; it will adopt the provider batch', { batchId });
      return [];
    }
    w.logger.info('batch sent', { batchId, providerBatchId: snapshot.providerBatchId, adopted });
    return [{ step: 'poll', batchId, at: later(pollDelayMs(w.settings, 0)) }];
  } catch (err) {
    if (err instanceof ProviderError) {
      const tries = batch.submitAttempts + 1;
      if (err.retryable && tries < w.settings.submitMaxTries) {
        const hold = pollDelayMs(w.settings, 3 * (tries - 1));
        // The retry must not arrive before the hold ends, or its claim is refused and the batch waits for the
        // sweep. The hold ends on the database's clock, at microseconds; the retry is timed on ours, at whole
        // milliseconds. So the database says how long is left, and the retry comes a millisecond after that.
        const held = await w.db.execute<{ left_ms: number }>(sql`
          update batches set submit_attempts = ${tries}, error = ${`Sending failed (try ${tries} of ${w.settings.submitMaxTries}), will retry: ${err.message}`},
            lease_owner = 'backoff', lease_expires_at = now() + ${hold} * interval '1 millisecond', updated_at = now()
          where id = ${batchId} and lease_owner = ${w.name}
          returning ceil(extract(epoch from lease_expires_at - clock_timestamp()) * 1000)::int as left_ms`);
        if (!held.rows.length) return [];
        w.logger.warn('sending a batch failed; retrying later', { batchId, tries, error: err.message });
        return [{ step: 'submit', batchId, at: later(Math.max(0, Number(held.rows[0]!.left_ms)) + 1) }];
      }
      const reason = err.retryable ? `The provider kept refusing the batch (${tries} tries): ${err.message}` : `The provider refused the batch: ${err.message}`;
      await failUnsent(w, batch, reason);
      w.logger.warn('a batch could not be sent', { batchId, reason });
      return [];
    }
    // Our own failure (database, decryption): give the lease back so the sweep tries again, and say why.
    await w.db.execute(sql`update batches set lease_owner = null, lease_expires_at = null where id = ${batchId} and lease_owner = ${w.name}`).catch(() => undefined);
    throw err;
  } finally {
    release();
  }
}
