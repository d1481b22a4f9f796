import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Config } from '../config.js';
import type { RootDb } from '../db/db.js';
import { actorOf, allow, type Actor } from '../lti/actor.js';
import { HttpError, NotFound } from '../errors.js';
import { isFragmentRequest, linkWith, render } from '../http/render.js';
import { batchCourses, countBatches, findBatch, listBatches, requestCounts, requestProblems, leftQueuedWhenCreated, estimateAccuracy } from '../models/batches/batches.repository.js';
import { createBatches, requestCancel, requestSubmit, setBatchNotes } from '../models/batches/batches.service.js';
import { parseSelection } from '../models/queue/queue.schema.js';
import { batchNotesSchema, createOptionsSchema } from '../models/batches/batches.schema.js';
import { parseInput } from '../validation.js';
import { confirmBatchStep } from '../models/batches/batch-kick.js';
import { changeQueue } from '../models/queue/stats-cache.js';
import type { Jobs } from '../job-queue.js';
import { idParam } from './params.js';
import { formatCount, formatUsd, presentAccuracy, presentBatch, presentLeftQueued } from './queue.present.js';
import { presentCleanupProblems, presentProviderFiles } from './batches.present.js';
import { fileCleanupProblems } from '../models/batches/batch-steps.repository.js';
import { filterFromBody, showQueueBoard, stringValues } from './queue.page.js';
import { withDeps } from './handlers.js';
import { failoverLinks, healthMarks, recentFailovers } from '../models/failover/failover.repository.js';
import { presentFailover, presentFailoverEvent, presentUnhealthy } from './providers.present.js';
import { optimizerExplanationOf } from '../models/batches/optimizer.repository.js';
import { formatDollars, formatHours, PROVIDER_NAMES } from '../models/batches/optimizer-explain.js';

export interface BatchRouteDeps {
  db: RootDb;
  config: Pick<Config, 'batches'>;
  /** Wakes a worker at once after a confirmed send or cancel (without it, the worker's sweep finds the batch). */
  jobs?: Jobs;
}

const PAGE_SIZE = 50;
const pageQuery = z.object({
  page: z.coerce.number().int().min(1).max(100_000).catch(1).default(1),
  /** The batches just made from the queue (comma-separated ids): named in a message above the list. */
  created: z
    .string()
    .regex(/^\d+(,\d+)*$/)
    .transform((v) => v.split(',').map(Number))
    .optional()
    .catch(undefined),
});

/** Answers a state change: the monitor fragment for htmx, a redirect to the monitor for a plain form. */
function toMonitor(req: Request, res: Response, actor: Actor, batchId: number, show: () => Promise<void>): Promise<void> | void {
  if (!isFragmentRequest(req)) return res.redirect(303, linkWith(actor.ltik)(`/admin/batches/${batchId}`));
  return show();
}

/** Batches: made from the queue, confirmed after their estimate, watched live until their results are in. */
export function batchesRoutes(deps: BatchRouteDeps): Router {
  const on = withDeps(deps);
  const router = Router();
  router.use('/admin/batches', allow('administrator'));
  router.get('/admin/batches', on(listPage));
  router.post('/admin/batches', on(createFromQueue));
  router.get('/admin/batches/:batchId', on((d, req, res) => showMonitor(d, req, res, idParam(req.params.batchId, 'The batch'))));
  router.post('/admin/batches/:batchId/submit', on(confirmSend));
  router.post('/admin/batches/:batchId/cancel', on(cancel));
  router.post('/admin/batches/:batchId/notes', on(saveNotes));
  return router;
}

async function listPage(deps: BatchRouteDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const { page, created } = pageQuery.parse(req.query);
  const [rows, total, cleanupProblems, marks, failovers] = await Promise.all([
    listBatches(deps.db, actor.platformId, PAGE_SIZE, (page - 1) * PAGE_SIZE),
    countBatches(deps.db, actor.platformId),
    fileCleanupProblems(deps.db, actor.platformId),
    healthMarks(deps.db, actor.platformId),
    recentFailovers(deps.db, actor.platformId),
  ]);
  const list = rows.map(presentBatch);
  const createdIds = created ? list.filter((b) => created.includes(b.id)).map((b) => b.id) : [];
  render(req, res, 'pages/admin/batches', {
    title: 'Batches',
    waiting: list.filter((b) => b.awaitingConfirmation),
    created: createdIds,
    leftQueued: presentLeftQueued(await leftQueuedWhenCreated(deps.db, actor.platformId, createdIds)),
    batches: list,
    // Batches whose files (student work, answers) are still at the provider because deleting them failed.
    providerFiles: presentCleanupProblems(cleanupProblems),
    // Providers marked unhealthy after a failover: new batches avoid them (the Providers page says more).
    unhealthy: presentUnhealthy(marks),
    // "12 items moved from OpenAI to Anthropic after the batch expired", each linked to both batches.
    failovers: failovers.map(presentFailoverEvent),
    paging: { page, pages: Math.max(1, Math.ceil(total / PAGE_SIZE)), total },
  });
}

/** From the queue's selection: batches in state `created`; nothing is sent before an administrator confirms. */
async function createFromQueue(deps: BatchRouteDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const body = (req.body ?? {}) as Record<string, unknown>;
  const filter = filterFromBody(body);
  let created;
  try {
    const selection = parseSelection({ scope: body.scope, ids: body.ids }, filter);
    const options = parseInput(createOptionsSchema, { maxPerBatch: body.maxPerBatch, notes: body.batchNotes ?? body.notes ?? '', providerPolicy: body.providerPolicy, targetTurnaroundHours: body.targetTurnaroundHours });
    created = await changeQueue(deps.db, actor.platformId, (tx) => createBatches(tx, deps.config.batches, { platformId: actor.platformId, userId: actor.userId }, selection, options));
  } catch (err) {
    // The queue again, as it is now, with the reason beside the batch fields; nothing was changed.
    if (err instanceof HttpError && err.status < 500) {
      const fields = { ...err.fields };
      if (fields.notes) fields.batchNotes = fields.notes;
      return showQueueBoard(deps, req, res, filter, { message: { kind: 'error', text: err.message, fields }, status: err.status, values: stringValues(body) });
    }
    throw err;
  }
  const target = linkWith(actor.ltik)('/admin/batches', { created: created.batches.map((b) => b.id).join(',') });
  if (isFragmentRequest(req)) {
    res.set('HX-Redirect', target).status(201).end();
    return;
  }
  res.redirect(303, target);
}

/** One batch, live: its state, request counts, problems and the courses it holds (polled while it moves). */
async function showMonitor(deps: BatchRouteDeps, req: Request, res: Response, batchId: number, status = 200): Promise<void> {
  const actor = actorOf(res);
  const batch = await findBatch(deps.db, actor.platformId, batchId);
  if (!batch) throw NotFound('The batch');
  const [counts, problems, courses, links] = await Promise.all([
    requestCounts(deps.db, batchId),
    requestProblems(deps.db, batchId, 50),
    batchCourses(deps.db, batchId),
    failoverLinks(deps.db, actor.platformId, batchId),
  ]);
  // Once its results are in: how right the estimates were (read once, not at every poll of a running batch).
  const accuracy = batch.ingestedAt ? presentAccuracy(await estimateAccuracy(deps.db, batchId)) : null;
  const providerFiles = presentProviderFiles(batch);
  const shown = presentBatch(batch);
  const why = await optimizerExplanationOf(deps.db, actor.platformId, batchId);
  render(
    req,
    res,
    'pages/admin/batch',
    {
      title: `Batch ${batchId}`,
      // Still refreshing while the files at the provider are being deleted, a moment after the results are read.
      batch: { ...shown, live: shown.live || providerFiles.imminent },
      providerFiles,
      failover: presentFailover(links, batch.failoverReason),
      accuracy,
      // The cost optimizer's figures and reason, when it chose this batch's provider (optimizer-explain.ts).
      choice: why && {
        text: why.text,
        options: why.options.map((o) => ({ provider: PROVIDER_NAMES[o.provider] ?? o.provider, model: o.model, cost: formatDollars(o.costMicros), p50: formatHours(o.p50Ms), p95: formatHours(o.p95Ms), assumed: !o.history })),
      },
      counts,
      problems,
      courses: courses.map((c) => ({ title: c.courseTitle || `Course ${c.courseId}`, items: formatCount(c.items), cost: formatUsd(c.estCostMicros) })),
    },
    { status, fragment: 'partials/admin/_batch-status' },
  );
}

/** The explicit confirmation after the estimate: a worker sends the batch. Once only. */
const confirmSend = (deps: BatchRouteDeps, req: Request, res: Response) => stepBatch(deps, req, res, requestSubmit);
const cancel = (deps: BatchRouteDeps, req: Request, res: Response) => stepBatch(deps, req, res, requestCancel);

/** An administrator's send or cancel: recorded with the queue's counts, then a worker is woken to carry it out. */
async function stepBatch(deps: BatchRouteDeps, req: Request, res: Response, request: typeof requestSubmit): Promise<void> {
  const actor = actorOf(res);
  const batchId = idParam(req.params.batchId, 'The batch');
  await confirmBatchStep(deps.db, deps.jobs, { platformId: actor.platformId, userId: actor.userId }, batchId, request);
  await toMonitor(req, res, actor, batchId, () => showMonitor(deps, req, res, batchId));
}

async function saveNotes(deps: BatchRouteDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const batchId = idParam(req.params.batchId, 'The batch');
  const { notes } = parseInput(batchNotesSchema, req.body);
  await deps.db.transaction((tx) => setBatchNotes(tx, { platformId: actor.platformId, userId: actor.userId }, batchId, notes));
  await toMonitor(req, res, actor, batchId, () => showMonitor(deps, req, res, batchId));
}
