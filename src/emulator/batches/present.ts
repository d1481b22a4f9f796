import type { BatchRecord } from './batch-record.js';
import type { BatchView } from './lifecycle.js';

const seconds = (ms: number | null) => (ms === null ? null : Math.floor(ms / 1000));

/** The spec's Batch object. Like the live API, fields with no value yet are null rather than absent. */
export function batchObject(b: BatchRecord, view: BatchView) {
  return {
    id: b.id,
    object: 'batch' as const,
    endpoint: b.endpoint,
    model: b.model,
    errors: view.errors ? { object: 'list', data: view.errors } : null,
    input_file_id: b.inputFileId,
    completion_window: b.completionWindow,
    status: view.status,
    output_file_id: view.outputFileId,
    error_file_id: view.errorFileId,
    created_at: Math.floor(b.createdAtMs / 1000),
    in_progress_at: seconds(view.times.inProgressAt),
    expires_at: Math.floor(b.expiresAtMs / 1000),
    finalizing_at: seconds(view.times.finalizingAt),
    completed_at: seconds(view.times.completedAt),
    failed_at: seconds(view.times.failedAt),
    expired_at: seconds(view.times.expiredAt),
    cancelling_at: seconds(view.times.cancellingAt),
    cancelled_at: seconds(view.times.cancelledAt),
    request_counts: view.counts,
    usage: {
      input_tokens: view.usage.input,
      input_tokens_details: { cached_tokens: view.usage.cached },
      output_tokens: view.usage.output,
      output_tokens_details: { reasoning_tokens: view.usage.reasoning },
      total_tokens: view.usage.input + view.usage.output,
    },
    metadata: b.metadata,
  };
}
