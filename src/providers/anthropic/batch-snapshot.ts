import { z } from 'zod';
import type { BatchSnapshot, ProviderBatchStatus } from '../provider.js';

/**
 * Anthropic's MessageBatch as it arrives (@anthropic-ai/sdk `MessageBatch`; times are RFC 3339 strings), looser
 * than the SDK's type where the API may one day say something new (a processing_status this code does not know).
 */
const time = z.string().min(1);
export const messageBatchSchema = z.object({
  id: z.string().min(1),
  type: z.literal('message_batch'),
  processing_status: z.string().min(1),
  request_counts: z.object({
    processing: z.number().int().min(0),
    succeeded: z.number().int().min(0),
    errored: z.number().int().min(0),
    canceled: z.number().int().min(0),
    expired: z.number().int().min(0),
  }),
  created_at: time,
  expires_at: time,
  ended_at: time.nullish(),
  cancel_initiated_at: time.nullish(),
  archived_at: time.nullish(),
  results_url: z.string().nullish(),
});
export type MessageBatch = z.infer<typeof messageBatchSchema>;

const KNOWN = new Set(['in_progress', 'canceling', 'ended']);

/**
 * How an ended batch ended. Anthropic has one word, "ended", for all of them: the counts tell. Requests canceled →
 * cancelled (a cancel that came after every request had finished changed nothing: completed); requests expired →
 * expired; otherwise completed, however many errored. A Message Batch never fails as a whole: a request the API
 * refuses is an errored result.
 */
function endedAs(b: MessageBatch): ProviderBatchStatus {
  if (b.cancel_initiated_at && b.request_counts.canceled > 0) return 'cancelled';
  if (b.request_counts.expired > 0) return 'expired';
  return 'completed';
}

function date(text: string | null | undefined): Date | null {
  if (!text) return null;
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? null : d;
}

function problemOf(b: MessageBatch, status: ProviderBatchStatus, known: boolean): string | null {
  const c = b.request_counts;
  const total = c.processing + c.succeeded + c.errored + c.canceled + c.expired;
  if (!known) return `Anthropic reports a batch status this version does not know ("${b.processing_status}"); it is treated as still running.`;
  switch (status) {
    case 'expired':
      return `The batch did not finish within Anthropic's 24-hour window: ${c.succeeded} of ${total} requests succeeded; the ${c.expired} expired were not run and can be queued again.`;
    case 'cancelled':
      return `The batch was canceled: ${c.succeeded} of ${total} requests had succeeded; the ${c.canceled} canceled were not run.`;
    case 'completed':
      return total > 0 && c.succeeded === 0 ? `No request in the batch succeeded: all ${c.errored} errored (details in the results).` : null;
    default:
      return null;
  }
}

/**
 * Anthropic batch → our snapshot. A Message Batch has no files: its requests travel in the create call, and its
 * results are read from the batch (`results_url`, once it ended). So the batch id stands for both the "input file"
 * (deleting the batch deletes its requests) and the "output file" (whose lines hold every result, succeeded,
 * errored, canceled and expired alike: there is no separate error file).
 */
export function toSnapshot(b: MessageBatch): BatchSnapshot {
  const known = KNOWN.has(b.processing_status);
  const status: ProviderBatchStatus = b.processing_status === 'ended' ? endedAs(b) : 'processing';
  const terminal = status !== 'processing';
  const c = b.request_counts;
  const since = b.processing_status === 'ended' ? b.ended_at : b.processing_status === 'canceling' ? b.cancel_initiated_at : b.created_at;
  return {
    providerBatchId: b.id,
    status,
    providerStatus: b.processing_status,
    providerStatusKnown: known,
    terminal,
    model: null,
    requestCounts: { total: c.processing + c.succeeded + c.errored + c.canceled + c.expired, completed: c.succeeded, failed: c.errored + c.canceled + c.expired },
    inputFileId: b.id,
    outputFileId: terminal && b.results_url ? b.id : null,
    errorFileId: null,
    errors: [],
    problem: problemOf(b, status, known),
    // Message Batches report no token totals; each result's usage is exact.
    usage: null,
    metadata: {},
    createdAt: date(b.created_at) ?? new Date(0),
    statusSince: date(since),
    expiresAt: date(b.expires_at),
    finishedAt: terminal ? date(b.ended_at) : null,
  };
}
