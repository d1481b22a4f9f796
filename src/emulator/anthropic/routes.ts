import express, { Router, type Request } from 'express';
import { z } from 'zod';
import type { EmulatorContext } from '../context.js';
import { newId } from '../hash.js';
import { anthropicErrorHandler, anthropicRequestId, AnthropicApiError, internal, invalid, notFound, overloaded, rateLimited, requireAnthropicHeaders, unknownAnthropicRoute } from './api-error.js';
import { answeredAt, outputOrder, runAnthropicBatch, viewBatch, type AnthropicBatchRecord } from './batch.js';
import { completeMessage } from './message.js';
import { validateMessageRequest } from './message-request.js';

/**
 * Anthropic's Messages and Message Batches endpoints, under /v1/messages:
 * POST /v1/messages · POST/GET /v1/messages/batches · GET/DELETE /v1/messages/batches/{id} ·
 * POST /v1/messages/batches/{id}/cancel · GET /v1/messages/batches/{id}/results.
 */

const DAY_MS = 86_400_000;
/** A create body holds every request: Anthropic takes up to 256 MB. */
const MAX_BODY = '256mb';
const CUSTOM_ID = /^[a-zA-Z0-9_-]{1,64}$/;

const createBody = z.strictObject({
  requests: z
    .array(z.strictObject({ custom_id: z.string().regex(CUSTOM_ID, "String should match pattern '^[a-zA-Z0-9_-]{1,64}$'"), params: z.record(z.string(), z.unknown()) }), { error: 'Field required' })
    .min(1, 'List should have at least 1 item after validation, not 0'),
});

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(20),
  before_id: z.string().optional(),
  after_id: z.string().optional(),
});

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function origin(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? '127.0.0.1'}`;
}

/** MessageBatch, as @anthropic-ai/sdk types it (RFC 3339 times; null where nothing happened yet). */
function batchObject(ctx: EmulatorContext, b: AnthropicBatchRecord, base: string) {
  const view = viewBatch(b, ctx.clock());
  return {
    id: b.id,
    type: 'message_batch' as const,
    processing_status: view.status,
    request_counts: view.counts,
    ended_at: iso(view.endedAtMs),
    created_at: iso(b.createdAtMs)!,
    expires_at: iso(b.expiresAtMs)!,
    archived_at: null,
    cancel_initiated_at: iso(view.cancelInitiatedAtMs),
    results_url: view.status === 'ended' ? `${base}/v1/messages/batches/${b.id}/results` : null,
  };
}

function find(ctx: EmulatorContext, id: string): AnthropicBatchRecord {
  const b = ctx.store.anthropicBatches.get(id);
  if (!b) throw notFound(`message_batch_id: no message batch ${id}`);
  return b;
}

function zodProblem(error: z.ZodError): AnthropicApiError {
  const issue = error.issues[0];
  const where = issue?.path.join('.') || 'body';
  const missing = issue?.code === 'invalid_type' && issue.input === undefined;
  if (issue?.code === 'unrecognized_keys') return invalid(`${where ? `${where}.` : ''}${issue.keys[0]}: Extra inputs are not permitted`);
  return invalid(`${where}: ${missing ? 'Field required' : (issue?.message ?? 'invalid')}`);
}

/** The chat-failure fault on the Anthropic side: its statuses (503 becomes Anthropic's 529 overloaded). */
function injectedCallFailure(status: 429 | 500 | 503 | null): AnthropicApiError | null {
  if (status === 429) return rateLimited();
  if (status === 500) return internal();
  if (status === 503) return overloaded();
  return null;
}

export function anthropicRouter(ctx: EmulatorContext): Router {
  const router = Router();
  router.use(anthropicRequestId, requireAnthropicHeaders, express.json({ limit: MAX_BODY }));

  router.post('/', (req, res) => {
    const injected = injectedCallFailure(ctx.faults.takeChatFailure());
    if (injected) throw injected;
    const request = validateMessageRequest(req.body);
    res.json(completeMessage(request, ctx.faults.output(), ctx.store.promptCache, { nowMs: ctx.clock(), tier: 'standard' }));
  });

  router.post('/batches', (req, res) => {
    res.json(batchObject(ctx, createBatch(ctx, req.body), origin(req)));
  });
  router.get('/batches', (req, res) => {
    const injected = injectedCallFailure(ctx.faults.takeListBatchesFailure());
    if (injected) throw injected;
    const query = listQuery.safeParse(req.query);
    if (!query.success) throw zodProblem(query.error);
    const { limit, before_id: before, after_id: after } = query.data;
    const newestFirst = [...ctx.store.anthropicBatches.values()].reverse();
    let start = 0;
    let stop = newestFirst.length;
    if (after) start = newestFirst.findIndex((b) => b.id === after) + 1 || newestFirst.length;
    if (before) stop = Math.max(0, newestFirst.findIndex((b) => b.id === before));
    const page = before && !after ? newestFirst.slice(Math.max(0, stop - limit), stop) : newestFirst.slice(start, Math.min(stop, start + limit));
    const data = page.map((b) => batchObject(ctx, b, origin(req)));
    const hasMore = before && !after ? stop - limit > 0 : start + limit < stop;
    res.json({ data, has_more: hasMore, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null });
  });
  router.get('/batches/:id', (req, res) => {
    res.json(batchObject(ctx, find(ctx, req.params.id), origin(req)));
  });
  router.post('/batches/:id/cancel', (req, res) => {
    const b = find(ctx, req.params.id);
    const now = ctx.clock();
    if (viewBatch(b, now).status === 'ended') throw invalid(`Message batch ${b.id} has already ended and cannot be canceled.`);
    // Requests already answered keep their results; the others will be `canceled`.
    b.cancel ??= { atMs: now, doneCount: answeredAt(b, now) };
    res.json(batchObject(ctx, b, origin(req)));
  });
  router.delete('/batches/:id', (req, res) => {
    const injected = ctx.faults.takeDeleteFileFailure();
    if (injected) throw injectedCallFailure(injected);
    const b = find(ctx, req.params.id);
    if (viewBatch(b, ctx.clock()).status !== 'ended') throw invalid(`Message batch ${b.id} is still being processed: cancel it and wait for it to end before deleting it.`);
    ctx.store.anthropicBatches.delete(b.id);
    res.json({ id: b.id, type: 'message_batch_deleted' });
  });
  router.get('/batches/:id/results', (req, res) => {
    const b = find(ctx, req.params.id);
    const view = viewBatch(b, ctx.clock());
    if (view.status !== 'ended' || !b.ended) throw invalid(`Message batch ${b.id} has not ended yet: its results are available once processing_status is "ended".`);
    res.type('application/binary').send(b.ended.results);
  });

  router.use(unknownAnthropicRoute);
  router.use(anthropicErrorHandler(ctx.logger));
  return router;
}

/**
 * Creates the batch and starts its runner. Only the envelope is checked now (the requests array, custom ids, no
 * duplicates); each request's params are checked as it runs, and a bad one becomes an `errored` result.
 */
function createBatch(ctx: EmulatorContext, rawBody: unknown): AnthropicBatchRecord {
  const injected = ctx.faults.takeCreateBatchFailure();
  const refuse = () => (injected?.status === 429 ? rateLimited() : internal());
  if (injected && !injected.created) throw refuse();
  const body = createBody.safeParse(rawBody ?? {});
  if (!body.success) throw zodProblem(body.error);
  const requests = body.data.requests;
  if (requests.length > ctx.limits.maxRequestsPerBatch) throw invalid(`requests: List should have at most ${ctx.limits.maxRequestsPerBatch} items after validation, not ${requests.length}`);
  const seen = new Set<string>();
  for (const r of requests) {
    if (seen.has(r.custom_id)) throw invalid(`requests: custom_id '${r.custom_id}' is used more than once; each request of a batch needs its own custom_id.`);
    seen.add(r.custom_id);
  }
  const now = ctx.clock();
  const plan = ctx.faults.takeBatchPlan({ canFail: false });
  const ordered = outputOrder(requests.map((r) => ({ customId: r.custom_id, params: r.params })), plan.seed);
  const batch: AnthropicBatchRecord = {
    id: newId('msgbatch_', 24),
    createdAtMs: now,
    expiresAtMs: now + DAY_MS,
    timings: { ...ctx.timings, ...ctx.faults.timingsOverride() },
    plan,
    pending: ordered,
    order: ordered.map((r) => r.customId),
    outcomes: [],
    gradedAtMs: null,
    cancel: null,
    ended: null,
  };
  ctx.store.anthropicBatches.set(batch.id, batch);
  const run = runAnthropicBatch(batch, { clock: ctx.clock, cache: ctx.store.promptCache, stopping: () => ctx.stopping, requestId: () => newId('req_', 24) })
    .catch((err) => {
      ctx.logger.error('emulator Anthropic batch runner failed', { batch: batch.id, err });
      batch.gradedAtMs ??= ctx.clock();
    })
    .finally(() => ctx.runners.delete(run));
  ctx.runners.add(run);
  if (injected) throw refuse();
  return batch;
}
