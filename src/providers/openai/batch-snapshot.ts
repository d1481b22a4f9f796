import { z } from 'zod';
import type { BatchSnapshot, ProviderBatchError, ProviderBatchStatus } from '../provider.js';

/**
 * OpenAI's Batch object as it really arrives. Looser than the SDK's types on purpose: the live API sends null
 * for fields the spec calls optional strings, and may one day send a status word this code has never seen.
 */
const ts = z.number().int().nullish();
export const openAIBatchSchema = z.object({
  id: z.string().min(1),
  object: z.literal('batch'),
  endpoint: z.string(),
  model: z.string().nullish(),
  status: z.string().min(1),
  input_file_id: z.string().nullish(),
  output_file_id: z.string().nullish(),
  error_file_id: z.string().nullish(),
  errors: z
    .object({
      data: z
        .array(z.object({ code: z.string().nullish(), message: z.string().nullish(), param: z.string().nullish(), line: z.number().int().nullish() }))
        .nullish(),
    })
    .nullish(),
  created_at: z.number().int(),
  in_progress_at: ts,
  expires_at: ts,
  finalizing_at: ts,
  completed_at: ts,
  failed_at: ts,
  expired_at: ts,
  cancelling_at: ts,
  cancelled_at: ts,
  request_counts: z.object({ total: z.number().int(), completed: z.number().int(), failed: z.number().int() }).nullish(),
  usage: z
    .object({
      input_tokens: z.number().int(),
      input_tokens_details: z.object({ cached_tokens: z.number().int() }).nullish(),
      output_tokens: z.number().int(),
      output_tokens_details: z.object({ reasoning_tokens: z.number().int() }).nullish(),
    })
    .nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
});
export type OpenAIBatch = z.infer<typeof openAIBatchSchema>;

type KnownStatus = 'validating' | 'in_progress' | 'finalizing' | 'cancelling' | 'completed' | 'failed' | 'expired' | 'cancelled';

const STATUS_MAP: Record<KnownStatus, { status: ProviderBatchStatus; since: keyof OpenAIBatch }> = {
  validating: { status: 'submitted', since: 'created_at' },
  in_progress: { status: 'processing', since: 'in_progress_at' },
  finalizing: { status: 'processing', since: 'finalizing_at' },
  cancelling: { status: 'processing', since: 'cancelling_at' },
  completed: { status: 'completed', since: 'completed_at' },
  failed: { status: 'failed', since: 'failed_at' },
  expired: { status: 'expired', since: 'expired_at' },
  cancelled: { status: 'cancelled', since: 'cancelled_at' },
};

function isKnownStatus(s: string): s is KnownStatus {
  return Object.prototype.hasOwnProperty.call(STATUS_MAP, s);
}

function date(seconds: number | null | undefined): Date | null {
  return typeof seconds === 'number' ? new Date(seconds * 1000) : null;
}

function describeErrors(errors: ProviderBatchError[]): string {
  if (errors.length === 0) return 'OpenAI gave no reason.';
  const shown = errors.slice(0, 3).map((e) => `${e.message} (${e.code}${e.line !== null ? `, line ${e.line}` : ''})`);
  const more = errors.length > 3 ? ` …and ${errors.length - 3} more.` : '';
  return `${shown.join('; ')}${more}`;
}

function problemOf(status: string, known: boolean, counts: BatchSnapshot['requestCounts'], errors: ProviderBatchError[]): string | null {
  if (!known) return `OpenAI reports a batch status this version does not know ("${status}"); it is treated as still running.`;
  switch (status) {
    case 'failed':
      return `OpenAI rejected the batch: ${describeErrors(errors)}`;
    case 'expired':
      return `The batch did not finish within OpenAI's 24-hour window: ${counts.completed} of ${counts.total} requests succeeded; the others were not run and can be queued again.`;
    case 'cancelled':
      return `The batch was cancelled: ${counts.completed} of ${counts.total} requests had succeeded; the others were not run.`;
    case 'completed':
      return counts.total > 0 && counts.completed === 0 ? `No request in the batch succeeded: all ${counts.failed} failed (details in the error file).` : null;
    default:
      return null;
  }
}

/** Provider batch → our snapshot. Unknown statuses become "processing" (keep polling) with the raw word kept. */
export function toSnapshot(batch: OpenAIBatch): BatchSnapshot {
  const known = isKnownStatus(batch.status);
  const mapped = known ? STATUS_MAP[batch.status as KnownStatus] : null;
  const status: ProviderBatchStatus = mapped?.status ?? 'processing';
  const terminal = status === 'completed' || status === 'failed' || status === 'expired' || status === 'cancelled';
  const counts = batch.request_counts ?? { total: 0, completed: 0, failed: 0 };
  const errors: ProviderBatchError[] = (batch.errors?.data ?? []).map((e) => ({
    code: e.code ?? 'unknown',
    message: e.message ?? '(no message)',
    param: e.param ?? null,
    line: e.line ?? null,
  }));
  const since = mapped ? batch[mapped.since] : null;
  return {
    providerBatchId: batch.id,
    status,
    providerStatus: batch.status,
    providerStatusKnown: known,
    terminal,
    model: batch.model ?? null,
    requestCounts: { total: counts.total, completed: counts.completed, failed: counts.failed },
    inputFileId: batch.input_file_id ?? null,
    outputFileId: batch.output_file_id ?? null,
    errorFileId: batch.error_file_id ?? null,
    errors,
    problem: problemOf(batch.status, known, counts, errors),
    usage: batch.usage
      ? {
          inputTokens: batch.usage.input_tokens,
          cachedInputTokens: batch.usage.input_tokens_details?.cached_tokens ?? 0,
          outputTokens: batch.usage.output_tokens,
          reasoningTokens: batch.usage.output_tokens_details?.reasoning_tokens ?? 0,
        }
      : null,
    metadata: batch.metadata ?? {},
    createdAt: new Date(batch.created_at * 1000),
    statusSince: date(typeof since === 'number' ? since : null),
    expiresAt: date(batch.expires_at),
    finishedAt: terminal ? date(typeof since === 'number' ? since : null) : null,
  };
}
