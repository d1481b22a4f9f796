import type { GradingRequest } from '../grading/request.js';
import type { TokenUsage } from './pricing.js';

/**
 * The provider interface callers program against. It speaks our vocabulary (statuses, result kinds, normalized
 * usage), never a provider's wire format: the OpenAI Batch API (providers/openai/) and Anthropic Message Batches
 * (providers/anthropic/) implement it, and jobs, services and views pick one by a batch's or prompt's provider.
 */

export interface ProviderCapabilities {
  maxRequestsPerBatch: number;
  /** Bytes of the uploaded request file (or request body) per batch. */
  maxBytesPerBatch: number;
  /** All requests of a batch must name the same model. */
  oneModelPerBatch: boolean;
  /** How long the provider may take before the batch expires. */
  completionWindowHours: number;
  /** Result lines come back in any order: match them by custom id, never by position. */
  resultsInInputOrder: boolean;
  /** Batch price as a share of the real-time price (0.5 = half price). */
  batchPriceFactor: number;
  /** custom ids the provider accepts. */
  customIdPattern: RegExp;
}

/**
 * Our batch vocabulary (the `batches.status` column): submitted = accepted, still being validated;
 * processing = running, finishing or being cancelled; the rest are terminal (src/models/batches/batch-state.ts
 * holds the state machine; a snapshot says whether it is terminal in `terminal`).
 */
export type ProviderBatchStatus = 'submitted' | 'processing' | 'completed' | 'failed' | 'cancelled' | 'expired';

export interface ProviderBatchError {
  code: string;
  message: string;
  param: string | null;
  /** 1-based line of the request file, when the error is about one line. */
  line: number | null;
}

/** A provider batch as it is now, in our terms, with the provider's own words kept beside them. */
export interface BatchSnapshot {
  providerBatchId: string;
  status: ProviderBatchStatus;
  /** The provider's status word, verbatim (e.g. "finalizing", or a value this code has never seen). */
  providerStatus: string;
  /** False when providerStatus is a value we do not know: status is then "processing" (keep polling). */
  providerStatusKnown: boolean;
  terminal: boolean;
  model: string | null;
  requestCounts: { total: number; completed: number; failed: number };
  inputFileId: string | null;
  /** Null when no request succeeded (or none finished yet). */
  outputFileId: string | null;
  /** Null when no request failed. Holds failed lines and lines never run (expired, cancelled). */
  errorFileId: string | null;
  /** Batch-level errors (why a batch failed validation or was refused), in the provider's words. */
  errors: ProviderBatchError[];
  /** A sentence an administrator can read when the batch failed, expired or was cancelled; else null. */
  problem: string | null;
  /** Tokens used so far, when the provider reports them. */
  usage: TokenUsage | null;
  metadata: Record<string, string>;
  createdAt: Date;
  /** When the current provider status began (for "finalizing for 3 hours" warnings); null when unknown. */
  statusSince: Date | null;
  expiresAt: Date | null;
  finishedAt: Date | null;
}

export interface ChatAnswer {
  /** The model's text (the JSON answer), or null when it refused or produced nothing. */
  content: string | null;
  refusal: string | null;
  /** Why the model stopped: "stop", "length" (cut off by max tokens: the JSON is likely incomplete), … */
  finishReason: string;
  /** The model that answered, as the provider reports it (often a dated snapshot of the requested one). */
  model: string;
  usage: TokenUsage;
}

/** One line of a batch's results, in our terms. */
export type BatchResultLine =
  | ({ kind: 'succeeded'; customId: string; requestId: string | null; lineNumber: number } & ChatAnswer)
  | {
      /** The request ran and the provider answered it with an HTTP error (it is in the error file). */
      kind: 'errored';
      customId: string;
      requestId: string | null;
      lineNumber: number;
      /** HTTP status of the failed request; null for a failure reported without one. */
      statusCode: number | null;
      code: string | null;
      message: string;
      /** Worth sending again (rate limit, server error) rather than a request that will fail again. */
      retryable: boolean;
    }
  | {
      /** The request never ran: the batch expired or was cancelled first. Send it again in a later batch. */
      kind: 'not_run';
      customId: string;
      lineNumber: number;
      code: string;
      message: string;
    }
  | {
      /** A line we could not read. Never silently dropped: the caller logs it and the item stays unresolved. */
      kind: 'unreadable';
      customId: string | null;
      lineNumber: number;
      message: string;
    };

export interface RealtimeAnswer extends ChatAnswer {
  requestId: string | null;
  /** Wall-clock time of the successful call, retries excluded. */
  latencyMs: number;
}

export interface CreateBatchInput {
  /** Request lines from buildRequestLine(), one per request, streamed: they are spooled to disk, never held. */
  lines: AsyncIterable<string> | Iterable<string>;
  /** Sent with the batch: our batch id (to find our row from the provider's dashboard), plus any extra pairs. */
  metadata: { localBatchId: string | number } & Record<string, string | number>;
}

export interface CreatedBatch {
  providerBatchId: string;
  inputFileId: string;
  requestCount: number;
  bytes: number;
  snapshot: BatchSnapshot;
}

export interface BatchProvider {
  readonly name: string;
  readonly capabilities: ProviderCapabilities;
  /** One request as one line of the provider's batch format (no trailing newline). */
  buildRequestLine(req: GradingRequest): string;
  /** The body the provider's model receives for one request of a batch (the line without its envelope), for previews. */
  requestBody(req: GradingRequest): Record<string, unknown>;
  /** Uploads the lines and starts a batch. Throws ProviderError (retryable or permanent). */
  createBatch(input: CreateBatchInput): Promise<CreatedBatch>;
  getBatch(providerBatchId: string): Promise<BatchSnapshot>;
  /**
   * The provider batch created with all these metadata pairs since `createdAfter`, or null: how a retried send
   * finds the batch an earlier try created (and whose answer was lost) instead of creating a twin.
   */
  findBatchByMetadata(metadata: Record<string, string>, createdAfter: Date): Promise<BatchSnapshot | null>;
  /** Reads a result file (output or error) line by line as it downloads; never the whole file in memory. */
  streamResults(fileId: string): AsyncIterable<BatchResultLine>;
  cancelBatch(providerBatchId: string): Promise<BatchSnapshot>;
  /** Deletes a request or result file at the provider (retention). A file already gone is not an error. */
  deleteFile(fileId: string): Promise<void>;
  /**
   * The smallest real call that shows the provider answers with our key (it lists one batch; nothing is sent or
   * billed): how a provider marked unhealthy after a failover is found healthy again. Throws ProviderError.
   */
  probe(): Promise<void>;
  /** One real-time request, at the standard (not batch) price: prompt tests and urgent items. */
  realtimeGrade(req: GradingRequest): Promise<RealtimeAnswer>;
}
