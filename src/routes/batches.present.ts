import type { BatchRow } from '../models/batches/batches.repository.js';
import type { FileCleanupProblem } from '../models/batches/batch-steps.repository.js';
import { PROVIDER_CLEANUP_MAX_ATTEMPTS, providerFilesOf } from '../models/batches/provider-cleanup.service.js';
import { formatDateTime } from './present.js';

/** View models of the batch pages' "Files at the provider" (issue 17: what is still stored at the provider). */

const attemptsText = (n: number) => `${n} attempt${n === 1 ? '' : 's'}`;

export interface ProviderFilesView {
  /** deleted | none (nothing uploaded) | kept (results not read yet) | pending (being deleted) | retrying | gave-up */
  state: 'deleted' | 'none' | 'kept' | 'pending' | 'retrying' | 'gave-up';
  /** The sentence after "Files at the provider:". */
  text: string;
  deletedAt: { label: string; iso: string } | null;
  error: string | null;
  /** A failure an administrator should notice (said in words on the page, not by colour). */
  problem: boolean;
  /** Deletion is expected within seconds: the monitor keeps refreshing until it is recorded. */
  imminent: boolean;
}

/** The batch's files at the provider: deleted (when), not yet (why), or none. */
export function presentProviderFiles(b: BatchRow): ProviderFilesView {
  const base = { deletedAt: null, error: null, problem: false, imminent: false };
  if (b.providerFilesDeletedAt) {
    const deletedAt = { label: formatDateTime(b.providerFilesDeletedAt), iso: b.providerFilesDeletedAt.toISOString() };
    return { ...base, state: 'deleted', text: `deleted on ${deletedAt.label}`, deletedAt };
  }
  const files = providerFilesOf(b).length;
  if (!files) return { ...base, state: 'none', text: b.ingestedAt ? 'none (nothing was uploaded)' : 'none yet' };
  const count = `${files} file${files === 1 ? '' : 's'}`;
  if (!b.ingestedAt) return { ...base, state: 'kept', text: `${count}, kept until the results are read, then deleted` };
  const attempts = b.providerFilesDeleteAttempts;
  if (attempts === 0) return { ...base, state: 'pending', text: `${count}, being deleted`, imminent: true };
  const error = b.providerFilesDeleteError;
  if (attempts >= PROVIDER_CLEANUP_MAX_ATTEMPTS) {
    return {
      ...base,
      state: 'gave-up',
      text: `not deleted: ${attemptsText(attempts)} failed, no more retries. Delete the ${count} in the provider's dashboard, or they stay until the provider expires them`,
      error,
      problem: true,
    };
  }
  return { ...base, state: 'retrying', text: `not deleted yet: ${attemptsText(attempts)}, retried automatically`, error, problem: true };
}

/** The notice above the batches list: batches of the platform whose files at the provider failed to delete. */
export function presentCleanupProblems(found: { total: number; batches: FileCleanupProblem[] }) {
  if (!found.total) return null;
  return {
    total: found.total,
    more: found.total - found.batches.length,
    batches: found.batches.map((b) => ({
      id: b.id,
      text: b.attempts >= PROVIDER_CLEANUP_MAX_ATTEMPTS ? `${attemptsText(b.attempts)} failed, no more retries` : `${attemptsText(b.attempts)} failed so far, retried automatically`,
    })),
  };
}
