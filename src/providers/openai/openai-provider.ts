import { createReadStream } from 'node:fs';
import { measuredCall } from '../measured-call.js';
import OpenAI from 'openai';
import { z } from 'zod';
import { silentLogger, type Logger } from '../../log.js';
import type { Metrics } from '../../metrics/registry.js';
import { ProviderError } from '../errors.js';
import { readLines } from '../jsonl.js';
import type {
  BatchProvider,
  BatchResultLine,
  BatchSnapshot,
  CreateBatchInput,
  CreatedBatch,
  ProviderCapabilities,
  RealtimeAnswer,
} from '../provider.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../retry.js';
import { spoolLines } from '../spool.js';
import { openAIBatchSchema, toSnapshot } from './batch-snapshot.js';
import { retryAfterFrom, toProviderError } from './openai-errors.js';
import { buildOpenAIRequestLine, CHAT_COMPLETIONS_ENDPOINT, chatCompletionBody } from './request-line.js';
import { chatCompletionSchema, parseResultLine, toChatAnswer } from './result-line.js';
import type { GradingRequest } from '../../grading/request.js';

export interface OpenAIProviderOptions {
  apiKey: string;
  /** e.g. https://api.openai.com/v1, or the emulator's http://127.0.0.1:4010/v1 */
  baseURL: string;
  retry?: Partial<RetryPolicy>;
  /** Per HTTP request. Uploads of large files need minutes. */
  timeoutMs?: number;
  /**
   * How long OpenAI keeps an uploaded request file (it holds student work). Batches finish within 24 h, so a
   * week is ample; null keeps OpenAI's default (30 days).
   */
  inputFileTtlSeconds?: number | null;
  logger?: Logger;
  /** Each attempt's latency and each failed attempt, by operation. */
  metrics?: ProviderMetrics;
}

export type ProviderMetrics = Pick<Metrics, 'providerDuration' | 'providerErrors'>;

/** The calls this adapter makes, as metrics name them: a fixed set, never an id. */
type Operation = 'upload_file' | 'create_batch' | 'find_batch' | 'retrieve_batch' | 'probe' | 'cancel_batch' | 'delete_file' | 'download_file' | 'realtime_completion';

/** Metadata key carrying our batch id: from OpenAI's dashboard an admin can find the batch in our tool. */
export const LOCAL_BATCH_ID_KEY = 'llm_assess_batch_id';

export const OPENAI_CAPABILITIES: ProviderCapabilities = {
  maxRequestsPerBatch: 50_000,
  // "200 MB" in OpenAI's docs; counted in decimal megabytes, the stricter reading, so we never cross the line.
  maxBytesPerBatch: 200_000_000,
  oneModelPerBatch: true,
  completionWindowHours: 24,
  resultsInInputOrder: false,
  batchPriceFactor: 0.5,
  customIdPattern: /^[a-zA-Z0-9_-]{1,64}$/,
};

const fileObjectSchema = z.object({ id: z.string().min(1), bytes: z.number().int().optional() });
/** DeleteFileResponse: {id, object: "file", deleted}. */
const fileDeletedSchema = z.object({ id: z.string(), deleted: z.boolean() });

const metadataSchema = z
  .record(z.string().min(1).max(64), z.string().max(512))
  .refine((m) => Object.keys(m).length <= 16, 'at most 16 metadata pairs');

/**
 * The OpenAI Batch API (Files + Batches + chat completions) through the official SDK. The SDK's own retries are
 * off: retries here are bounded and visible, and a file upload must be re-read from disk on every attempt.
 */
export class OpenAIBatchProvider implements BatchProvider {
  readonly name = 'openai';
  readonly capabilities = OPENAI_CAPABILITIES;
  private readonly client: OpenAI;
  private readonly retry: RetryPolicy;
  private readonly inputFileTtlSeconds: number | null;
  private readonly log: Logger;
  private readonly metrics: ProviderMetrics | undefined;

  constructor(options: OpenAIProviderOptions) {
    if (!options.apiKey) throw new Error('The OpenAI provider needs an API key (OPENAI_API_KEY); the emulator accepts any non-empty key.');
    this.client = new OpenAI({ apiKey: options.apiKey, baseURL: options.baseURL, maxRetries: 0, timeout: options.timeoutMs ?? 10 * 60_000 });
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.inputFileTtlSeconds = options.inputFileTtlSeconds === undefined ? 7 * 86_400 : options.inputFileTtlSeconds;
    this.log = options.logger ?? silentLogger;
    this.metrics = options.metrics;
  }

  buildRequestLine(req: GradingRequest): string {
    return buildOpenAIRequestLine(req);
  }

  requestBody(req: GradingRequest): Record<string, unknown> {
    return chatCompletionBody(req);
  }

  /**
   * Runs one SDK call with bounded retries, turning every failure into a ProviderError. Every attempt is timed, and
   * every failed one counted, under `op`; `operation` says which (with its ids) in messages.
   */
  private call<T>(op: Operation, operation: string, fn: (attempt: number) => Promise<T>): Promise<T> {
    return measuredCall({ provider: this.name, op, operation, retry: this.retry, metrics: this.metrics, log: this.log, toProviderError, retryAfterFrom }, fn);
  }

  async createBatch(input: CreateBatchInput): Promise<CreatedBatch> {
    const { localBatchId, ...extra } = input.metadata;
    const metadata = metadataSchema.safeParse({
      ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, String(v)])),
      [LOCAL_BATCH_ID_KEY]: String(localBatchId),
    });
    if (!metadata.success) {
      throw new ProviderError(`Batch metadata is not accepted by OpenAI: ${metadata.error.issues.map((i) => i.message).join('; ')}`, {
        code: 'invalid_request',
        retryable: false,
      });
    }
    const spooled = await spoolLines(input.lines, {
      maxRequests: this.capabilities.maxRequestsPerBatch,
      maxBytes: this.capabilities.maxBytesPerBatch,
      providerName: 'OpenAI',
    });
    try {
      const file = await this.call('upload_file', 'upload the batch file', async () => {
        // A fresh stream per attempt: a failed attempt has consumed (part of) the previous one.
        const stream = createReadStream(spooled.path);
        try {
          const created = await this.client.files.create({
            file: stream,
            purpose: 'batch',
            ...(this.inputFileTtlSeconds !== null ? { expires_after: { anchor: 'created_at' as const, seconds: this.inputFileTtlSeconds } } : {}),
          });
          return fileObjectSchema.parse(created);
        } finally {
          stream.destroy();
        }
      });
      let batch;
      try {
        batch = await this.call('create_batch', 'create the batch', async (attempt) => {
          // A create that timed out or got a 5xx may still have created the batch: adopt it rather than start a
          // second one (which would grade, and bill, every request twice).
          if (attempt > 1) {
            const existing = await this.findBatchForFile(file.id);
            if (existing) return existing;
          }
          const created = await this.client.batches.create({
            input_file_id: file.id,
            endpoint: CHAT_COMPLETIONS_ENDPOINT,
            completion_window: '24h',
            metadata: metadata.data,
          });
          return openAIBatchSchema.parse(created);
        });
      } catch (err) {
        await this.deleteFile(file.id).catch(() => undefined);
        throw err;
      }
      return { providerBatchId: batch.id, inputFileId: file.id, requestCount: spooled.requestCount, bytes: spooled.bytes, snapshot: toSnapshot(batch) };
    } finally {
      await spooled.remove();
    }
  }

  private async findBatchForFile(fileId: string) {
    const page = await this.client.batches.list({ limit: 20 });
    for (const raw of page.data) {
      const batch = openAIBatchSchema.safeParse(raw);
      if (batch.success && batch.data.input_file_id === fileId) return batch.data;
    }
    return null;
  }

  async findBatchByMetadata(metadata: Record<string, string>, createdAfter: Date): Promise<BatchSnapshot | null> {
    // Newest first: stop at the first batch older than the window (minus a margin for clock differences).
    const since = Math.floor(createdAfter.getTime() / 1000) - 300;
    const found = await this.call('find_batch', 'look for an earlier batch', async () => {
      for await (const raw of this.client.batches.list({ limit: 100 })) {
        const batch = openAIBatchSchema.safeParse(raw);
        if (!batch.success) continue;
        if (batch.data.created_at < since) return null;
        const meta = batch.data.metadata ?? {};
        if (Object.entries(metadata).every(([k, v]) => meta[k] === v)) return batch.data;
      }
      return null;
    });
    return found ? toSnapshot(found) : null;
  }

  async getBatch(providerBatchId: string): Promise<BatchSnapshot> {
    const batch = await this.call('retrieve_batch', `read batch ${providerBatchId}`, async () => openAIBatchSchema.parse(await this.client.batches.retrieve(providerBatchId)));
    return toSnapshot(batch);
  }

  async probe(): Promise<void> {
    await this.call('probe', 'list batches (a probe)', async () => {
      const page = await this.client.batches.list({ limit: 1 });
      z.array(z.unknown()).parse(page.data);
    });
  }

  async cancelBatch(providerBatchId: string): Promise<BatchSnapshot> {
    try {
      const batch = await this.call('cancel_batch', `cancel batch ${providerBatchId}`, async () => openAIBatchSchema.parse(await this.client.batches.cancel(providerBatchId)));
      return toSnapshot(batch);
    } catch (err) {
      // Cancelling a batch that has just finished is refused; the batch is stopped either way, so say how it ended.
      if (err instanceof ProviderError && (err.code === 'invalid_request' || err.code === 'conflict')) {
        const snapshot = await this.getBatch(providerBatchId);
        if (snapshot.terminal) return snapshot;
      }
      throw err;
    }
  }

  /**
   * DELETE /v1/files/{id}. A 404 is a file already gone (deleted by an earlier try whose answer was lost, or expired
   * at the provider): what the caller wanted, so not an error. An answer that says it did not delete is one.
   */
  async deleteFile(fileId: string): Promise<void> {
    let answer: z.infer<typeof fileDeletedSchema>;
    try {
      answer = await this.call('delete_file', `delete file ${fileId}`, async () => fileDeletedSchema.parse(await this.client.files.delete(fileId)));
    } catch (err) {
      if (err instanceof ProviderError && err.code === 'not_found') return;
      throw err;
    }
    if (!answer.deleted) {
      throw new ProviderError(`OpenAI did not delete file ${fileId}: it answered "deleted": false.`, { code: 'invalid_response', retryable: true });
    }
  }

  async *streamResults(fileId: string): AsyncIterable<BatchResultLine> {
    const response = await this.call('download_file', `download file ${fileId}`, () => this.client.files.content(fileId));
    if (!response.body) return;
    let lineNumber = 0;
    try {
      for await (const text of readLines(response.body)) {
        lineNumber += 1;
        yield parseResultLine(text, lineNumber);
      }
    } catch (err) {
      throw new ProviderError(`The download of file ${fileId} broke off after ${lineNumber} lines: ${err instanceof Error ? err.message : String(err)}`, {
        code: 'network',
        retryable: true,
        cause: err,
      });
    }
  }

  async realtimeGrade(req: GradingRequest): Promise<RealtimeAnswer> {
    let latencyMs = 0;
    const { body, requestId } = await this.call('realtime_completion', 'grade in real time', async () => {
      const started = performance.now();
      const { data, request_id } = await this.client.chat.completions.create(chatCompletionBody(req)).withResponse();
      latencyMs = Math.round(performance.now() - started);
      return { body: chatCompletionSchema.parse(data), requestId: request_id };
    });
    return { ...toChatAnswer(body), requestId: requestId ?? null, latencyMs };
  }
}
