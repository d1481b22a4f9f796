import { recordAudit } from '../audit/audit.repository.js';
import { ProviderError } from '../../providers/errors.js';
import { keepLease, providerOf, type BatchWorker } from './batch-worker.js';
import { claimLease, renewLease, type BatchRow } from './batches.repository.js';
import { markProviderFilesDeleted, needsFileCleanupSql, recordFileCleanupFailure, releaseLease } from './batch-steps.repository.js';

/**
 * Data minimisation at the provider (issue 17): once a batch's results are read — or it ended without any
 * (failed, expired, cancelled) — its request file (student work), output file (the model's answers) and error file
 * are deleted there. The deletion is recorded on the batch (`provider_files_deleted_at`) and in the audit log; a
 * failure is counted with its reason, shown to administrators, and retried by the worker's sweep with a growing
 * pause, up to PROVIDER_CLEANUP_MAX_ATTEMPTS tries.
 */

/** Tries in all. After the last, the batch stays listed as failed: its files then go when the provider expires them. */
export const PROVIDER_CLEANUP_MAX_ATTEMPTS = 10;

/** The longest pause between two tries: ten tries then span about eight hours at the default sweep of 30 s. */
const MAX_RETRY_DELAY_MS = 6 * 3_600_000;

/** Longest error text kept on the batch: the provider's sentence, never anything of the files' content. */
const MAX_ERROR_CHARS = 500;

/**
 * The pause after the `failures`-th failed try: two sweeps, then four, eight, … — counted in sweeps so a test's
 * fast sweep retries fast — up to six hours.
 */
export function cleanupRetryDelayMs(sweepMs: number, failures: number): number {
  return Math.min(MAX_RETRY_DELAY_MS, sweepMs * 2 ** Math.min(failures, 30));
}

type FileKind = 'input' | 'output' | 'error';

/** The batch's files the provider may still hold, by kind. */
export function providerFilesOf(b: Pick<BatchRow, 'inputFileId' | 'outputFileId' | 'errorFileId'>): Array<{ kind: FileKind; id: string }> {
  const files: Array<{ kind: FileKind; id: string | null }> = [
    { kind: 'input', id: b.inputFileId },
    { kind: 'output', id: b.outputFileId },
    { kind: 'error', id: b.errorFileId },
  ];
  return files.filter((f): f is { kind: FileKind; id: string } => f.id !== null);
}

/** What happened: deleted now; failed (counted, retried later or given up); nothing to do or another worker has it. */
export type CleanupOutcome = 'deleted' | 'failed' | 'skipped';

function describeFailure(kind: FileKind, fileId: string, err: unknown): string {
  // A ProviderError's message is the provider's own sentence about the call; an unexpected error is named by kind.
  const why = err instanceof ProviderError ? err.message : `unexpected ${err instanceof Error ? err.name : 'error'}: ${err instanceof Error ? err.message : String(err)}`;
  return `${kind} file ${fileId}: ${why}`;
}

function shorten(text: string): string {
  return text.length <= MAX_ERROR_CHARS ? text : `${text.slice(0, MAX_ERROR_CHARS - 1)}…`;
}

/**
 * Deletes a finished batch's files at the provider, once: under the batch's lease (taken only while the cleanup
 * is needed and due), so of two workers one deletes; the deletion is recorded conditionally on that lease and on
 * not being recorded yet. Every file is tried even when one fails (each deleted file is one less copy); a file the
 * provider no longer has counts as deleted, so a retry after a partial failure simply goes through them again.
 * A provider failure never throws: it is counted on the batch. Database errors do (the job fails, the lease runs
 * out, the sweep tries again).
 */
export async function cleanUpProviderFiles(w: BatchWorker, batchId: number): Promise<CleanupOutcome> {
  const batch = await claimLease(w.db, batchId, w.name, w.settings.leaseMs, needsFileCleanupSql(PROVIDER_CLEANUP_MAX_ATTEMPTS));
  if (!batch) return 'skipped';
  const files = providerFilesOf(batch);
  const stopRenewing = keepLease(w, batchId, renewLease);
  try {
    const failures: string[] = [];
    for (const file of files) {
      try {
        await providerOf(w, batch).deleteFile(file.id);
      } catch (err) {
        failures.push(describeFailure(file.kind, file.id, err));
      }
    }
    stopRenewing();
    const details = { provider: batch.provider, providerBatchId: batch.providerBatchId, inputFileId: batch.inputFileId, outputFileId: batch.outputFileId, errorFileId: batch.errorFileId };
    if (!failures.length) {
      const recorded = await w.db.transaction(async (tx) => {
        if (!(await markProviderFilesDeleted(tx, batchId, w.name))) return false;
        await recordAudit(tx, { platformId: batch.platformId, actorKind: 'system', action: 'provider.files_deleted', entityType: 'batch', entityId: batchId, details });
        return true;
      });
      if (!recorded) {
        // Our lease ran out mid-way and another worker took the batch: it records the deletion (its deletes find the files gone).
        w.logger.warn('lost the lease on a batch while deleting its provider files', { batchId });
        return 'skipped';
      }
      w.logger.info('deleted the batch files at the provider', { batchId, files: files.length });
      return 'deleted';
    }
    const attempt = batch.providerFilesDeleteAttempts + 1;
    const last = attempt >= PROVIDER_CLEANUP_MAX_ATTEMPTS;
    const reason = shorten(`Could not delete ${failures.length} of ${files.length} file${files.length === 1 ? '' : 's'} at the provider: ${failures.join('; ')}`);
    const attempts = await w.db.transaction(async (tx) => {
      const counted = await recordFileCleanupFailure(tx, batchId, w.name, reason, last ? null : cleanupRetryDelayMs(w.settings.sweepMs, attempt));
      // Given up: said once in the audit log, beside the deletions that did happen.
      if (counted !== null && last) {
        await recordAudit(tx, { platformId: batch.platformId, actorKind: 'system', action: 'provider.files_delete_failed', entityType: 'batch', entityId: batchId, details: { ...details, attempts: counted, error: reason } });
      }
      return counted;
    });
    if (attempts === null) {
      w.logger.warn('lost the lease on a batch while deleting its provider files', { batchId });
      return 'skipped';
    }
    w.logger.warn(last ? 'gave up deleting the batch files at the provider' : 'could not delete the batch files at the provider; the sweep retries', { batchId, attempts, error: reason });
    return 'failed';
  } catch (err) {
    stopRenewing();
    await releaseLease(w.db, batchId, w.name);
    throw err;
  }
}
