import type { Config } from '../../config.js';
import type { Db } from '../../db/db.js';
import { Conflict, Invalid, NotFound } from '../../errors.js';
import { ANTHROPIC_CAPABILITIES, customIdFor, OPENAI_CAPABILITIES } from '../../providers/index.js';
import { recordAudit } from '../audit/audit.repository.js';
import { raiseBudgetAlerts } from '../budgets/budget-alerts.service.js';
import { dollars, fitWithinBudgets, refuseWhileFrozen, releaseReservations, reserveForBatch, reserveOverride } from '../budgets/budgets.service.js';
import type { Admin } from '../queue/queue.service.js';
import type { Selection } from '../queue/queue.schema.js';
import type { CreateOptions } from './batches.schema.js';
import {
  batchCourses,
  closeUnsentRequests,
  findBatch,
  insertBatchWithRequests,
  lockItemsForBatch,
  markCancelledUnsent,
  markCancelRequested,
  markSubmitRequested,
  updateBatchNotes,
  type BatchRow,
  type SelectedItem,
} from './batches.repository.js';
import { isTerminal } from './batch-state.js';
import { calibrateEstimates } from './calibration.js';
import { checkOverrideCap, type Override } from './overrides.service.js';
import { noteReroutedBatches, rerouteAroundUnhealthy } from '../failover/reroute.service.js';
import { refuseByPrivacy, refuseUnsendable } from './batch-refusals.js';
import { DEFAULT_TARGET_TURNAROUND_MS, optimizeProviders, type Optimized } from './optimizer.service.js';
import type { BatchExplanation } from './optimizer-explain.js';

export type BatchLimits = Pick<Config['batches'], 'minSize' | 'maxSize' | 'maxBytes'>;

/** What every batch provider accepts (OpenAI's caps are the stricter today): one setting holds for every batch. */
const PROVIDER_CAPS = [OPENAI_CAPABILITIES, ANTHROPIC_CAPABILITIES];

/** The effective limits: the configured ones, never above what any provider accepts. */
export function effectiveLimits(limits: BatchLimits): BatchLimits {
  return {
    minSize: limits.minSize,
    maxSize: Math.min(limits.maxSize, ...PROVIDER_CAPS.map((c) => c.maxRequestsPerBatch)),
    maxBytes: Math.min(limits.maxBytes, ...PROVIDER_CAPS.map((c) => c.maxBytesPerBatch)),
  };
}

/**
 * Splits one model's items into batches of at most `perBatch` requests and `maxBytes` estimated bytes, with
 * sizes as even as possible (105 items at 100 per batch → 53 + 52, never 100 + 5 under the minimum).
 */
export function splitIntoBatches<T extends { est_bytes: number }>(items: T[], perBatch: number, maxBytes: number): T[][] {
  const totalBytes = items.reduce((a, i) => a + i.est_bytes, 0);
  const count = Math.max(Math.ceil(items.length / perBatch), Math.ceil(totalBytes / maxBytes));
  const target = Math.ceil(items.length / count);
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    if (current.length && (current.length >= target || bytes + item.est_bytes > maxBytes)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.est_bytes;
  }
  if (current.length) out.push(current);
  return out;
}

const plural = (n: number, word: string) => `${n.toLocaleString('en')} ${word}${n === 1 ? '' : 's'}`;

/** Selected items the budgets could not take: they stay queued (issue 16, item 3). */
export interface LeftQueued {
  items: number;
  estCostMicros: number;
  /** The budget that stopped them and what it had left this month. */
  budgetScope: string;
  budgetLeftMicros: number;
}

export interface BatchCreation {
  batches: BatchRow[];
  /** Null when the whole selection went into batches. */
  leftQueued: LeftQueued | null;
}

/**
 * Turns a selection of queued items into batches, one provider and model per batch (the prompt version's), within
 * the size limits: items become
 * `selected` and the batches `created` (nothing is sent until an administrator submits a batch after seeing its
 * estimate). An empty, foreign, no longer queued or not yet due selection, sizes out of the limits, a course that no
 * longer allows LLM assessment or a frozen budget is refused and nothing changes. A selection the budgets cannot
 * take whole becomes the largest batches that fit (highest priority, then oldest first); the rest stays queued and
 * is reported (`leftQueued`), and when nothing fits it is refused with the amounts.
 * Run in a transaction: the items are locked, so a concurrent skip or a second batch waits and then sees them taken.
 */
export async function createBatches(db: Db, limits: BatchLimits, admin: Admin, selection: Selection, options: CreateOptions = {}, override?: Override): Promise<BatchCreation> {
  const lim = effectiveLimits(limits);
  const perBatch = options.maxPerBatch ?? lim.maxSize;
  if (perBatch < lim.minSize || perBatch > lim.maxSize) {
    throw Invalid({ maxPerBatch: `Choose between ${lim.minSize} and ${lim.maxSize} requests per batch.` }, 'The batch size is out of the allowed limits.');
  }
  const locked = await lockItemsForBatch(db, admin.platformId, selection, selection.scope === 'all');
  refuseUnsendable(locked, selection);
  // Estimates as the prompt versions' results so far say, before the budgets are asked (calibration.ts).
  let items = await calibrateEstimates(db, locked);
  // The cost optimizer's policy chooses each item's provider among those its course approves (optimizer.ts).
  let explain: Optimized['explain'] | null = null;
  if (!override && options.providerPolicy === 'cheapest_in_time') {
    const target = options.targetTurnaroundHours ? options.targetTurnaroundHours * 3_600_000 : DEFAULT_TARGET_TURNAROUND_MS;
    ({ items, explain } = await optimizeProviders(db, admin.platformId, items, { policy: 'cheapest_in_time', targetTurnaroundMs: target }, lim.minSize));
  }
  // A provider marked unhealthy is skipped where the course approves another (failover/reroute.service.ts); the
  // optimizer has left such providers out already, so this moves only what the prompt's own provider would send.
  const rerouted = await rerouteAroundUnhealthy(db, admin.platformId, items);
  items = rerouted.items;
  const reasons = rerouted.reasons;
  await refuseByPrivacy(db, items);
  // An emergency override sends exactly the items named, whatever the budgets say and however few: its cap instead.
  let fit: { kept: SelectedItem[]; leftQueued: LeftQueued | null } = { kept: items, leftQueued: null };
  if (override) await checkOverrideCap(db, admin.platformId, items.reduce((a, i) => a + i.est_cost_micros, 0), override);
  else {
    refuseTooSmall(groupByModel(items), lim.minSize);
    fit = await keepWithinBudgets(db, admin.platformId, items, lim.minSize);
  }
  const { kept, leftQueued } = fit;
  const created: BatchRow[] = [];
  for (const [model, group] of groupByModel(kept)) {
    // The optimizer's batches keep each prompt's requests together, so its static prefix is read from the cache.
    const ordered = explain ? [...group].sort((a, b) => a.prompt_version_id - b.prompt_version_id) : group;
    for (const chunk of splitIntoBatches(ordered, perBatch, lim.maxBytes)) {
      const explanation = explain ? explain(chunk) : null;
      created.push(await createOneBatch(db, admin, { selection, provider: group[0]!.provider, model, chunk, notes: options.notes ?? '', leftQueued, overrideReason: override?.reason ?? null, explanation }));
    }
  }
  await noteReroutedBatches(db, admin.platformId, created, reasons);
  if (created.length) await raiseBudgetAlerts(db, admin.platformId);
  return { batches: created, leftQueued };
}

/**
 * The items the budgets can take, in queue order; a model whose share falls under a batch's minimum stays queued
 * too. Nothing at all fitting is refused (409) with what the tightest budget has left and the first item's estimate.
 */
async function keepWithinBudgets(db: Db, platformId: number, items: SelectedItem[], minSize: number): Promise<{ kept: SelectedItem[]; leftQueued: LeftQueued | null }> {
  const fit = await fitWithinBudgets(db, platformId, items.map((i) => ({ courseId: i.course_id, amountMicros: i.est_cost_micros })));
  let kept = items.filter((_, k) => fit.keep[k]);
  const small = new Set([...groupByModel(kept)].filter(([, group]) => group.length < minSize).map(([model]) => model));
  kept = kept.filter((i) => !small.has(i.model));
  if (kept.length === items.length) return { kept, leftQueued: null };
  const left = items.filter((i) => !kept.includes(i));
  const budget = fit.tightest ?? { scope: 'the platform', leftMicros: 0 };
  if (!kept.length) {
    throw Conflict(
      `Nothing in this selection fits the monthly budget of ${budget.scope}: ${dollars(budget.leftMicros)} is left, the first item (highest priority, oldest) is estimated at ${dollars(left[0]!.est_cost_micros)}${small.size ? `, and a batch needs at least ${minSize} requests` : ''}. Raise the budget, or wait for next month.`,
    );
  }
  return { kept, leftQueued: { items: left.length, estCostMicros: left.reduce((a, i) => a + i.est_cost_micros, 0), budgetScope: budget.scope, budgetLeftMicros: budget.leftMicros } };
}

/** One model per batch, in queue order (a model names its provider: no model id is priced by two). */
function groupByModel(items: SelectedItem[]): Map<string, SelectedItem[]> {
  const byModel = new Map<string, SelectedItem[]>();
  for (const i of items) byModel.set(i.model, [...(byModel.get(i.model) ?? []), i]);
  return byModel;
}

/** A model with fewer selected items than a batch's minimum refuses the selection. */
function refuseTooSmall(byModel: Map<string, SelectedItem[]>, minSize: number): void {
  for (const [model, group] of byModel) {
    if (group.length < minSize) {
      throw Invalid({ ids: `${model}: ${plural(group.length, 'item')}; a batch needs at least ${minSize}.` }, `The selection is too small for a batch (one model per batch, at least ${minSize} requests).`);
    }
  }
}

/** One batch of locked, checked items: its rows, its cost reserved against the budgets, audited (with what the budgets left queued). */
async function createOneBatch(
  db: Db,
  admin: Admin,
  batch: { selection: Selection; provider: string; model: string; chunk: SelectedItem[]; notes: string; leftQueued: LeftQueued | null; overrideReason: string | null; explanation?: BatchExplanation | null },
): Promise<BatchRow> {
  const { selection, provider, model, chunk, notes, leftQueued, overrideReason, explanation } = batch;
  const est = chunk.reduce((a, i) => a + i.est_cost_micros, 0);
  const tokens = chunk.reduce((a, i) => a + i.est_input_tokens, 0);
  const requests = chunk.map((i) => ({ item: i.id, task: i.task_id, promptVersion: i.prompt_version_id, attempt: i.attempts + 1, customId: customIdFor(i.id, i.requests_made + 1), courseId: i.course_id, est: i.est_cost_micros }));
  const { batchId, moved } = await insertBatchWithRequests(db, { platformId: admin.platformId, provider, model, estCostMicros: est, estInputTokens: tokens, createdBy: admin.userId, notes, overrideReason }, requests);
  if (moved !== requests.length) throw Conflict('Some selected items changed while the batch was being made. Reload the queue and try again.');
  const reservations = requests.map((r) => ({ customId: r.customId, queueItemId: r.item, courseId: r.courseId, amountMicros: r.est }));
  if (overrideReason) await reserveOverride(db, admin.platformId, batchId, reservations);
  else await reserveForBatch(db, admin.platformId, batchId, reservations);
  await recordAudit(db, {
    platformId: admin.platformId,
    actorId: admin.userId,
    actorKind: 'user',
    action: overrideReason ? 'batch.override' : 'batch.created',
    entityType: 'batch',
    entityId: batchId,
    details: { provider, model, requests: chunk.length, estCostMicros: est, estInputTokens: tokens, scope: selection.scope, ...(leftQueued ? { leftQueued } : {}), ...(overrideReason ? { reason: overrideReason } : {}), ...(explanation ? { optimizer: explanation } : {}) },
  });
  return (await findBatch(db, admin.platformId, batchId))!;
}

/**
 * The explicit confirmation after seeing the estimate: the batch is marked for sending and a worker uploads it.
 * Once only: a second submit (double click, retried request, another administrator) is refused, never sent twice.
 */
export async function requestSubmit(db: Db, admin: Admin, batchId: number): Promise<BatchRow> {
  const before = await findBatch(db, admin.platformId, batchId);
  if (!before) throw NotFound('The batch');
  // A batch made before a freeze is not confirmed during it (the send step checks again, for a freeze set later).
  if (before.status === 'created' && !before.submitRequestedAt && !before.overrideReason) await refuseWhileFrozen(db, admin.platformId, (await batchCourses(db, batchId)).map((c) => c.courseId));
  const requested = await markSubmitRequested(db, admin.platformId, batchId, admin.userId);
  const batch = await findBatch(db, admin.platformId, batchId);
  if (!batch) throw NotFound('The batch');
  if (!requested) {
    if (batch.submitRequestedAt) throw Conflict(`Batch ${batchId} was already submitted; a batch is sent once.`);
    throw Conflict(`Batch ${batchId} is ${batch.cancelRequestedAt && batch.status === 'created' ? 'being cancelled' : batch.status}; only a newly created batch can be submitted.`);
  }
  await recordAudit(db, { platformId: admin.platformId, actorId: admin.userId, actorKind: 'user', action: 'batch.submit_requested', entityType: 'batch', entityId: batchId, details: { requests: batch.requestTotal, estCostMicros: batch.estCostMicros } });
  return batch;
}

/**
 * Ends a batch that was never sent: created → cancelled, its items back to queued, its reservations released.
 * Conditional on nobody sending it right now (the send lease), so a batch is never both sent and cancelled.
 */
export async function cancelUnsentBatch(db: Db, batchId: number, reason: string, actor: { userId: number | null }): Promise<boolean> {
  const platformId = await markCancelledUnsent(db, batchId, reason);
  if (platformId === null) return false;
  await returnUnsentItems(db, batchId, 'cancelled', reason);
  await recordAudit(db, { platformId, actorId: actor.userId, actorKind: actor.userId ? 'user' : 'system', action: 'batch.cancelled', entityType: 'batch', entityId: batchId, details: { sent: false, reason } });
  return true;
}

/** Items of a batch that was never sent go back to the queue; their requests are closed and reservations released. */
export async function returnUnsentItems(db: Db, batchId: number, requestStatus: 'cancelled' | 'failed', reason: string): Promise<void> {
  const closed = await closeUnsentRequests(db, batchId, requestStatus, reason);
  await releaseReservations(db, closed, 'batch not sent');
}

/**
 * Cancel: a batch not sent yet is cancelled at once; a batch at the provider is marked, and a worker asks the
 * provider to cancel it (finished lines are kept, the rest queued again). A finished batch cannot be cancelled.
 */
export async function requestCancel(db: Db, admin: Admin, batchId: number): Promise<BatchRow> {
  const batch = await findBatch(db, admin.platformId, batchId);
  if (!batch) throw NotFound('The batch');
  const reason = `Cancelled by an administrator before it was sent.`;
  if (batch.status === 'created' && (await cancelUnsentBatch(db, batchId, reason, { userId: admin.userId }))) {
    return (await findBatch(db, admin.platformId, batchId))!;
  }
  if (!(await markCancelRequested(db, admin.platformId, batchId))) {
    if (batch.cancelRequestedAt && !isTerminal(batch.status)) throw Conflict(`Batch ${batchId} is already being cancelled.`);
    throw Conflict(`Batch ${batchId} is ${batch.status}; only a batch that has not finished can be cancelled.`);
  }
  await recordAudit(db, { platformId: admin.platformId, actorId: admin.userId, actorKind: 'user', action: 'batch.cancel_requested', entityType: 'batch', entityId: batchId, details: { status: batch.status } });
  return (await findBatch(db, admin.platformId, batchId))!;
}

export async function setBatchNotes(db: Db, admin: Admin, batchId: number, notes: string): Promise<BatchRow> {
  if (!(await updateBatchNotes(db, admin.platformId, batchId, notes))) throw NotFound('The batch');
  await recordAudit(db, { platformId: admin.platformId, actorId: admin.userId, actorKind: 'user', action: 'batch.notes', entityType: 'batch', entityId: batchId, details: {} });
  return (await findBatch(db, admin.platformId, batchId))!;
}
