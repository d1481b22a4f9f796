import { Router } from 'express';
import { z } from 'zod';
import { invalidRequest, notFound } from '../api-error.js';
import type { BatchRecord } from '../batches/batch-record.js';
import { viewBatch } from '../batches/lifecycle.js';
import { batchObject } from '../batches/present.js';
import { runBatch } from '../batches/runner.js';
import type { EmulatorContext } from '../context.js';
import { newId } from '../hash.js';
import type { StoredFile } from '../store.js';
import { listPage, rateLimited, serverError, zodProblem } from './shared.js';

/** POST/GET /v1/batches, GET /v1/batches/{id}, POST /v1/batches/{id}/cancel */

const DAY_MS = 86_400_000;
const ENDPOINTS = ['/v1/responses', '/v1/chat/completions', '/v1/embeddings', '/v1/completions', '/v1/moderations', '/v1/images/generations', '/v1/images/edits', '/v1/videos'] as const;

const missing = (name: string) => ({ error: `Missing required parameter: '${name}'.` });

const createBody = z.object({
  input_file_id: z.string(missing('input_file_id')).min(1),
  endpoint: z.string(missing('endpoint')).refine((e) => (ENDPOINTS as readonly string[]).includes(e), `must be one of ${ENDPOINTS.join(', ')}`),
  completion_window: z.string(missing('completion_window')).refine((w) => w === '24h', "only '24h' is supported"),
  metadata: z
    .record(z.string().max(64, 'metadata keys are at most 64 characters'), z.string().max(512, 'metadata values are at most 512 characters'))
    .refine((m) => Object.keys(m).length <= 16, 'at most 16 metadata pairs')
    .nullish(),
  output_expires_after: z.object({ anchor: z.literal('created_at'), seconds: z.number().int().min(3600).max(2_592_000) }).optional(),
});

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  after: z.string().optional(),
});

function outputTtlMs(b: BatchRecord): number {
  return b.outputTtlSeconds !== null ? b.outputTtlSeconds * 1000 : 30 * DAY_MS;
}

export function batchesRouter(ctx: EmulatorContext): Router {
  const router = Router();
  router.post('/batches', (req, res) => {
    res.json(presentBatch(ctx, createBatch(ctx, req.body)));
  });
  router.get('/batches', (req, res) => {
    const injected = ctx.faults.takeListBatchesFailure();
    if (injected === 429) throw rateLimited('Rate limit reached for requests in organization org-emulator. Please try again in 1s.');
    if (injected === 500) throw serverError();
    const query = listQuery.safeParse(req.query);
    if (!query.success) throw zodProblem(query.error);
    const newestFirst = [...ctx.store.batches.values()].reverse();
    res.json(listPage(newestFirst, query.data.limit, query.data.after, (b) => presentBatch(ctx, b)));
  });
  router.get('/batches/:id', (req, res) => {
    res.json(presentBatch(ctx, findBatch(ctx, req.params.id)));
  });
  router.post('/batches/:id/cancel', (req, res) => {
    res.json(presentBatch(ctx, cancelBatch(ctx, req.params.id)));
  });
  return router;
}

/**
 * Creates the batch and starts its runner. An injected failure with `created: true` is thrown only after the
 * batch exists: the answer is lost, not the batch (a timeout, as a client sees it).
 */
function createBatch(ctx: EmulatorContext, rawBody: unknown): BatchRecord {
  const injected = ctx.faults.takeCreateBatchFailure();
  if (injected && !injected.created) throw injectedCreateError(injected.status);
  const body = createBody.safeParse(rawBody ?? {});
  if (!body.success) throw zodProblem(body.error);
  const { input_file_id: inputFileId, endpoint, metadata } = body.data;
  if (endpoint !== '/v1/chat/completions') {
    throw invalidRequest(`The emulator runs /v1/chat/completions batches only (got '${endpoint}').`, 'endpoint', 'unsupported_value');
  }
  const file = batchInputFile(ctx, inputFileId);
  const now = ctx.clock();
  const batch: BatchRecord = {
    id: newId('batch_', 32),
    inputFileId,
    endpoint,
    completionWindow: '24h',
    metadata: metadata ?? null,
    outputTtlSeconds: body.data.output_expires_after?.seconds ?? null,
    createdAtMs: now,
    expiresAtMs: now + DAY_MS,
    timings: { ...ctx.timings, ...ctx.faults.timingsOverride() },
    plan: ctx.faults.takeBatchPlan(),
    validation: null,
    model: null,
    pending: [],
    order: [],
    outcomes: [],
    gradedAtMs: null,
    cancel: null,
    final: null,
  };
  ctx.store.batches.set(batch.id, batch);
  startRunner(ctx, batch, file);
  if (injected) throw injectedCreateError(injected.status);
  return batch;
}

function injectedCreateError(status: 429 | 500) {
  return status === 429 ? rateLimited('Rate limit reached for batch creation in organization org-emulator. Please try again in 1s.') : serverError();
}

function batchInputFile(ctx: EmulatorContext, inputFileId: string): StoredFile {
  const file = ctx.store.files.get(inputFileId);
  if (!file) throw invalidRequest(`Cannot find file ${inputFileId}, or project proj_emulator does not have access to it.`, 'input_file_id');
  if (file.purpose !== 'batch') {
    throw invalidRequest(`The input file must be uploaded with purpose 'batch' (file ${inputFileId} has purpose '${file.purpose}').`, 'input_file_id');
  }
  return file;
}

/** Runs the batch in the background; the context keeps the run so closing the emulator can wait for it. */
function startRunner(ctx: EmulatorContext, batch: BatchRecord, file: StoredFile): void {
  const run = runBatch(batch, {
    clock: ctx.clock,
    content: file.content,
    maxRequests: ctx.limits.maxRequestsPerBatch,
    stopping: () => ctx.stopping,
  })
    .catch((err) => {
      ctx.logger.error('emulator batch runner failed', { batch: batch.id, err });
      batch.validation ??= { atMs: ctx.clock(), ok: false, errors: [{ code: 'server_error', message: 'The emulator failed while running this batch.', param: null, line: null }] };
    })
    .finally(() => ctx.runners.delete(run));
  ctx.runners.add(run);
}

function cancelBatch(ctx: EmulatorContext, id: string): BatchRecord {
  const batch = findBatch(ctx, id);
  const now = ctx.clock();
  const view = viewAt(ctx, batch, now);
  if (['completed', 'failed', 'expired', 'cancelled'].includes(view.status)) {
    throw invalidRequest(`Cannot cancel a batch with status '${view.status}'.`, null, 'batch_not_cancellable');
  }
  // Lines already answered keep their results; the others will be reported as batch_cancelled.
  batch.cancel ??= { atMs: now, doneCount: view.counts.completed + view.counts.failed };
  return batch;
}

function findBatch(ctx: EmulatorContext, id: string): BatchRecord {
  const b = ctx.store.batches.get(id);
  if (!b) throw notFound(`No such Batch object: ${id}`, 'id');
  return b;
}

/** The batch as of `now`; a batch that has just finished writes its output and error files here. */
function viewAt(ctx: EmulatorContext, b: BatchRecord, now: number) {
  return viewBatch(b, now, (batch, kind, lines, atMs) => writeResultFile(ctx, batch, kind, lines, atMs), () => newId('batch_req_', 32));
}

function presentBatch(ctx: EmulatorContext, b: BatchRecord) {
  return batchObject(b, viewAt(ctx, b, ctx.clock()));
}

function writeResultFile(ctx: EmulatorContext, b: BatchRecord, kind: 'output' | 'error', lines: string[], atMs: number): string {
  return ctx.store.addFile({
    createdAtMs: atMs,
    expiresAtMs: atMs + outputTtlMs(b),
    filename: `batch_${b.id}_${kind}.jsonl`,
    purpose: 'batch_output',
    content: Buffer.from(`${lines.join('\n')}\n`),
  }).id;
}
