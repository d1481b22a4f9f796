import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Config } from '../config.js';
import type { RootDb } from '../db/db.js';
import { actorOf, allow } from '../lti/actor.js';
import { NotFound } from '../errors.js';
import { countBatches, findBatch, listBatches, requestCounts, requestProblems } from '../models/batches/batches.repository.js';
import { createBatches, requestCancel, requestSubmit } from '../models/batches/batches.service.js';
import { queueFilterSchema, queueListSchema } from '../models/queue/queue.filters.js';
import { applyToOne, queuePage, type Admin } from '../models/queue/queue.service.js';
import { parseSelection, type QueueAction } from '../models/queue/queue.schema.js';
import { createOptionsSchema } from '../models/batches/batches.schema.js';
import { parseInput } from '../validation.js';
import { confirmBatchStep } from '../models/batches/batch-kick.js';
import { changeQueue } from '../models/queue/stats-cache.js';
import type { Jobs } from '../job-queue.js';
import { idParam } from './params.js';
import { batchJson, itemJson } from './queue.present.js';
import { withDeps } from './handlers.js';

export interface QueueApiDeps {
  db: RootDb;
  config: Pick<Config, 'batches'>;
  jobs?: Jobs;
}

const priorityBody = z.object({ priority: z.enum(['high', 'normal', 'low'], { error: 'priority must be high, normal or low.' }) });
const notesBody = z.object({ notes: z.string({ error: 'notes must be a string.' }).max(2000, 'Notes have at most 2000 characters.') });
const createBody = z.object({
  scope: z.enum(['selected', 'all']).optional(),
  ids: z.array(z.number().int().positive()).optional(),
  // A misspelt filter must not widen the selection to everything queued: unknown names are refused.
  filter: z
    .record(z.string(), z.unknown())
    .refine((f) => Object.keys(f).every((k) => k in queueFilterSchema.shape), { message: `Unknown filter: the filters are ${Object.keys(queueFilterSchema.shape).join(', ')}.` })
    .optional(),
  maxPerBatch: z.number().int().optional(),
  notes: z.string().optional(),
  providerPolicy: z.string().optional(),
  targetTurnaroundHours: z.number().optional(),
});
const listQuery = z.object({ page: z.coerce.number().int().min(1).max(100_000).default(1), pageSize: z.coerce.number().int().min(1).max(200).default(50) });

const adminOf = (res: Response): Admin => {
  const a = actorOf(res);
  return { platformId: a.platformId, userId: a.userId };
};

/**
 * The queue and batches for scripts: administrators only, their platform only (another platform's ids are not
 * found), bodies checked with zod, the same services as the pages. Documented in openapi/paths/queue.yaml and
 * batches.yaml.
 */
export function queueApiRoutes(deps: QueueApiDeps): Router {
  const on = withDeps(deps);
  const router = Router();
  router.use('/api/admin/llm-queue', allow('administrator'));
  router.use('/api/admin/llm-batches', allow('administrator'));
  router.get('/api/admin/llm-queue/', on(listQueue));
  router.post('/api/admin/llm-queue/:id/priority/', on(setPriority));
  router.post('/api/admin/llm-queue/:id/notes/', on(setNotes));
  router.delete('/api/admin/llm-queue/:id/', on(skipItem));
  router.post('/api/admin/llm-batches/create/', on(createFromQueue));
  router.post('/api/admin/llm-batches/:id/submit/', on(confirmSend));
  router.get('/api/admin/llm-batches/', on(listBatchesJson));
  router.get('/api/admin/llm-batches/:id/status/', on(batchStatus));
  router.post('/api/admin/llm-batches/:id/cancel/', on(cancel));
  return router;
}

async function listQueue(deps: QueueApiDeps, req: Request, res: Response): Promise<void> {
  const admin = adminOf(res);
  const q = parseInput(queueListSchema, req.query);
  const page = await queuePage(deps.db, admin.platformId, q);
  res.json({
    items: page.items.map(itemJson),
    page: page.page,
    pageSize: page.pageSize,
    pages: page.pages,
    total: page.totals.count,
    totals: { estCostMicros: page.totals.estCostMicros, estInputTokens: page.totals.estInputTokens },
    stats: { ...page.stats, oldestQueuedAt: page.stats.oldestQueuedAt?.toISOString() ?? null },
  });
}

/** One queue item changed by one action (read from the body once the id is known good), answered with the item as it is now. */
async function changeItem(deps: QueueApiDeps, req: Request, res: Response, actionOf: () => QueueAction): Promise<void> {
  const admin = adminOf(res);
  const id = idParam(req.params.id, 'The queue item');
  const action = actionOf();
  const item = await changeQueue(deps.db, admin.platformId, (tx) => applyToOne(tx, admin, id, action));
  res.json({ item: itemJson(item) });
}

async function setPriority(deps: QueueApiDeps, req: Request, res: Response): Promise<void> {
  await changeItem(deps, req, res, () => ({ action: 'priority', priority: parseInput(priorityBody, req.body).priority }));
}

async function setNotes(deps: QueueApiDeps, req: Request, res: Response): Promise<void> {
  await changeItem(deps, req, res, () => ({ action: 'notes', notes: parseInput(notesBody, req.body).notes }));
}

/** Removes an item from the queue (it becomes `skipped`; the submission and its history stay). */
async function skipItem(deps: QueueApiDeps, req: Request, res: Response): Promise<void> {
  await changeItem(deps, req, res, () => ({ action: 'skip' }));
}

async function createFromQueue(deps: QueueApiDeps, req: Request, res: Response): Promise<void> {
  const admin = adminOf(res);
  const body = parseInput(createBody, req.body);
  const selection = parseSelection({ scope: body.scope ?? (body.ids ? 'selected' : 'all'), ids: body.ids ?? [] }, body.filter ?? {});
  const options = parseInput(createOptionsSchema, { maxPerBatch: body.maxPerBatch, notes: body.notes ?? '', providerPolicy: body.providerPolicy, targetTurnaroundHours: body.targetTurnaroundHours });
  const created = await changeQueue(deps.db, admin.platformId, (tx) => createBatches(tx, deps.config.batches, admin, selection, options));
  res.status(201).json({ batches: created.batches.map(batchJson), leftQueued: created.leftQueued });
}

const confirmSend = (deps: QueueApiDeps, req: Request, res: Response) => stepBatch(deps, req, res, requestSubmit);
const cancel = (deps: QueueApiDeps, req: Request, res: Response) => stepBatch(deps, req, res, requestCancel);

/** A send or cancel: recorded, a worker woken to carry it out; 202 with the batch as it is now. */
async function stepBatch(deps: QueueApiDeps, req: Request, res: Response, request: typeof requestSubmit): Promise<void> {
  const admin = adminOf(res);
  const id = idParam(req.params.id, 'The batch');
  const batch = await confirmBatchStep(deps.db, deps.jobs, admin, id, request);
  res.status(202).json({ batch: batchJson((await findBatch(deps.db, batch.platformId, id)) ?? batch) });
}

async function listBatchesJson(deps: QueueApiDeps, req: Request, res: Response): Promise<void> {
  const admin = adminOf(res);
  const q = parseInput(listQuery, req.query);
  const [rows, total] = await Promise.all([listBatches(deps.db, admin.platformId, q.pageSize, (q.page - 1) * q.pageSize), countBatches(deps.db, admin.platformId)]);
  res.json({ batches: rows.map(batchJson), page: q.page, pageSize: q.pageSize, total });
}

async function batchStatus(deps: QueueApiDeps, req: Request, res: Response): Promise<void> {
  const admin = adminOf(res);
  const id = idParam(req.params.id, 'The batch');
  const batch = await findBatch(deps.db, admin.platformId, id);
  if (!batch) throw NotFound('The batch');
  const [counts, problems] = await Promise.all([requestCounts(deps.db, id), requestProblems(deps.db, id, 100)]);
  res.json({ batch: batchJson(batch), requests: counts, problems });
}
