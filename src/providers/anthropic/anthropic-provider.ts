import { createReadStream } from 'node:fs';
import { measuredCall } from '../measured-call.js';
import Anthropic from '@anthropic-ai/sdk';
import { z } from 'zod';
import type { GradingRequest } from '../../grading/request.js';
import { silentLogger, type Logger } from '../../log.js';
import { ProviderError } from '../errors.js';
import { readLines } from '../jsonl.js';
import type { ProviderMetrics } from '../openai/openai-provider.js';
import type { BatchProvider, BatchResultLine, BatchSnapshot, CreateBatchInput, CreatedBatch, ProviderCapabilities, RealtimeAnswer } from '../provider.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../retry.js';
import { spoolLines } from '../spool.js';
import { retryAfterFrom, toProviderError } from './anthropic-errors.js';
import { messageBatchSchema, toSnapshot } from './batch-snapshot.js';
import { ANTHROPIC_CUSTOM_ID, anthropicMessageParams, buildAnthropicRequestLine } from './request-params.js';
import { messageSchema, parseResultLine, toChatAnswer } from './result-line.js';

export interface AnthropicProviderOptions {
  apiKey: string;
  /** e.g. https://api.anthropic.com, or the emulator's http://127.0.0.1:4010 (the SDK adds /v1/…). */
  baseURL: string;
  retry?: Partial<RetryPolicy>;
  /** Per HTTP request: a create carries every request of the batch (up to 256 MB). */
  timeoutMs?: number;
  logger?: Logger;
  metrics?: ProviderMetrics;
}

/** The calls this adapter makes, under the metric names the OpenAI adapter uses for the same steps. */
type Operation = 'create_batch' | 'find_batch' | 'retrieve_batch' | 'probe' | 'cancel_batch' | 'delete_file' | 'download_file' | 'realtime_completion';

/** Message Batches limits (platform.claude.com batch-processing): 100,000 requests or 256 MB, 24 hours. */
export const ANTHROPIC_CAPABILITIES: ProviderCapabilities = {
  maxRequestsPerBatch: 100_000,
  // The create body: the request lines plus the JSON around them; counted in decimal megabytes, the stricter reading.
  maxBytesPerBatch: 256_000_000,
  oneModelPerBatch: false,
  completionWindowHours: 24,
  resultsInInputOrder: false,
  batchPriceFactor: 0.5,
  customIdPattern: ANTHROPIC_CUSTOM_ID,
};

const deletedSchema = z.object({ id: z.string(), type: z.literal('message_batch_deleted') });

const OPENING = Buffer.from('{"requests":[');
const CLOSING = Buffer.from(']}');
const COMMA = Buffer.from(',');

/** The create body, read from the spooled request lines: {"requests":[line,line,…]}, never whole in memory. */
async function* createBody(spoolPath: string): AsyncGenerator<Uint8Array> {
  yield OPENING;
  let first = true;
  for await (const line of readLines(createReadStream(spoolPath))) {
    if (!first) yield COMMA;
    first = false;
    yield Buffer.from(line);
  }
  yield CLOSING;
}

/**
 * Anthropic Message Batches (and real-time Messages) through the official SDK. The SDK's own retries are off, as in
 * the OpenAI adapter: retries here are bounded, counted and logged.
 *
 * A Message Batch carries no metadata, so a create whose answer was lost cannot be found again
 * (findBatchByMetadata answers null), and a second create would grade, and bill, every request twice. So a create is
 * retried only after an answer that says it was not accepted (429 rate limit, 529 overloaded); after any other
 * failure (a 5xx, a timeout, a dropped connection) it may exist, and the error is permanent and says so.
 */
export class AnthropicBatchProvider implements BatchProvider {
  readonly name = 'anthropic';
  readonly capabilities = ANTHROPIC_CAPABILITIES;
  private readonly client: Anthropic;
  private readonly retry: RetryPolicy;
  private readonly log: Logger;
  private readonly metrics: ProviderMetrics | undefined;

  constructor(options: AnthropicProviderOptions) {
    if (!options.apiKey) throw new Error('The Anthropic provider needs an API key (ANTHROPIC_API_KEY); the emulator accepts any non-empty key.');
    this.client = new Anthropic({ apiKey: options.apiKey, baseURL: options.baseURL, maxRetries: 0, timeout: options.timeoutMs ?? 10 * 60_000 });
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.log = options.logger ?? silentLogger;
    this.metrics = options.metrics;
  }

  buildRequestLine(req: GradingRequest): string {
    return buildAnthropicRequestLine(req);
  }

  requestBody(req: GradingRequest): Record<string, unknown> {
    return { ...anthropicMessageParams(req, '1h') };
  }

  private call<T>(op: Operation, operation: string, fn: (attempt: number) => Promise<T>, retry: RetryPolicy = this.retry): Promise<T> {
    return measuredCall({ provider: this.name, op, operation, retry: retry, metrics: this.metrics, log: this.log, toProviderError, retryAfterFrom }, fn);
  }

  async createBatch(input: CreateBatchInput): Promise<CreatedBatch> {
    const spooled = await spoolLines(input.lines, {
      maxRequests: this.capabilities.maxRequestsPerBatch,
      maxBytes: this.capabilities.maxBytesPerBatch,
      providerName: 'Anthropic',
    });
    try {
      const batch = await this.call('create_batch', 'create the batch', async () => {
        try {
          const created = await this.client.post('/v1/messages/batches', { body: createBody(spooled.path), headers: { 'content-type': 'application/json' } });
          return messageBatchSchema.parse(created);
        } catch (err) {
          throw createFailure(toProviderError(err, 'create the batch'));
        }
      });
      return { providerBatchId: batch.id, inputFileId: batch.id, requestCount: spooled.requestCount, bytes: spooled.bytes, snapshot: toSnapshot(batch) };
    } finally {
      await spooled.remove();
    }
  }

  /** Message Batches have no metadata to look for (see the class comment): nothing is ever found. */
  async findBatchByMetadata(): Promise<BatchSnapshot | null> {
    return null;
  }

  async getBatch(providerBatchId: string): Promise<BatchSnapshot> {
    return toSnapshot(await this.retrieve(providerBatchId));
  }

  private retrieve(providerBatchId: string) {
    return this.call('retrieve_batch', `read batch ${providerBatchId}`, async () => messageBatchSchema.parse(await this.client.messages.batches.retrieve(providerBatchId)));
  }

  async probe(): Promise<void> {
    await this.call('probe', 'list batches (a probe)', async () => z.object({ data: z.array(z.unknown()) }).parse(await this.client.messages.batches.list({ limit: 1 })));
  }

  async cancelBatch(providerBatchId: string): Promise<BatchSnapshot> {
    try {
      return toSnapshot(await this.call('cancel_batch', `cancel batch ${providerBatchId}`, async () => messageBatchSchema.parse(await this.client.messages.batches.cancel(providerBatchId))));
    } catch (err) {
      // Cancelling a batch that has just ended is refused; it is stopped either way, so say how it ended.
      if (err instanceof ProviderError && (err.code === 'invalid_request' || err.code === 'conflict')) {
        const snapshot = await this.getBatch(providerBatchId);
        if (snapshot.terminal) return snapshot;
      }
      throw err;
    }
  }

  /**
   * Deletes the batch (DELETE /v1/messages/batches/{id}): its requests and results with it. Anthropic deletes only
   * an ended batch; one already gone (404) is what the caller wanted.
   */
  async deleteFile(providerBatchId: string): Promise<void> {
    try {
      await this.call('delete_file', `delete batch ${providerBatchId}`, async () => deletedSchema.parse(await this.client.messages.batches.delete(providerBatchId)));
    } catch (err) {
      if (err instanceof ProviderError && err.code === 'not_found') return;
      throw err;
    }
  }

  /** The batch's results, line by line as they download (results_url, read raw so a bad line is reported, not fatal). */
  async *streamResults(providerBatchId: string): AsyncIterable<BatchResultLine> {
    const batch = await this.retrieve(providerBatchId);
    const url = batch.results_url;
    if (!url) {
      throw new ProviderError(`Batch ${providerBatchId} has no results yet (Anthropic reports it ${batch.processing_status}).`, { code: 'conflict', retryable: true });
    }
    const response = await this.call('download_file', `download the results of batch ${providerBatchId}`, () =>
      this.client.get(url, { headers: { Accept: 'application/binary' } }).asResponse(),
    );
    if (!response.body) return;
    let lineNumber = 0;
    try {
      for await (const text of readLines(response.body)) {
        lineNumber += 1;
        yield parseResultLine(text, lineNumber);
      }
    } catch (err) {
      throw new ProviderError(`The download of the results of batch ${providerBatchId} broke off after ${lineNumber} lines: ${err instanceof Error ? err.message : String(err)}`, {
        code: 'network',
        retryable: true,
        cause: err,
      });
    }
  }

  async realtimeGrade(req: GradingRequest): Promise<RealtimeAnswer> {
    let latencyMs = 0;
    const params = anthropicMessageParams(req, '5m');
    const { message, requestId } = await this.call('realtime_completion', 'grade in real time', async () => {
      const started = performance.now();
      const { data, request_id } = await this.client.messages.create(params as Anthropic.MessageCreateParamsNonStreaming).withResponse();
      latencyMs = Math.round(performance.now() - started);
      return { message: messageSchema.parse(data), requestId: request_id };
    });
    return { ...toChatAnswer(message, params.tool_choice?.name ?? null), requestId: requestId ?? null, latencyMs };
  }
}

/**
 * A failed create, made safe to act on: a 429 or 529 said the batch was not accepted (retry); any other failure
 * may have created it, so it is permanent, and says where to look.
 */
function createFailure(err: ProviderError): ProviderError {
  if (err.httpStatus === 429 || err.httpStatus === 529 || !err.retryable) return err;
  return new ProviderError(
    `${err.message} Anthropic may have created the batch anyway (Message Batches carry no metadata to find it by), so it is not sent again automatically: look for a batch created at this time in the Anthropic console and cancel it, then send the items again.`,
    { code: err.code, retryable: false, httpStatus: err.httpStatus, providerCode: err.providerCode, cause: err },
  );
}
