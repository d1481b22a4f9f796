import type { Db } from '../../db/db.js';
import { Conflict, HttpError } from '../../errors.js';
import { customIdFor, estimateCostMicros, UnknownModelError } from '../../providers/index.js';
import { recordAudit } from '../audit/audit.repository.js';
import { raiseBudgetAlerts } from '../budgets/budget-alerts.service.js';
import { reserveForBatch } from '../budgets/budgets.service.js';
import { coursesRefusingBatch } from '../privacy/privacy.repository.js';
import { insertBatchWithRequests, lockItemsForBatch, type BatchRow, type SelectedItem } from '../batches/batches.repository.js';
import { failoverModelFor } from './failover-models.js';
import { findFailoverSettings, healthMarks, markFailoverBatch, markOverdue, markUnhealthy, noteOnQueuedItems, notRunItemsOf, type FailoverSettings } from './failover.repository.js';

/**
 * Failover (issue 20, item 6). When a batch fails, expires or passes the platform's SLA at its provider, and the
 * platform's policy is automatic: the provider is marked unhealthy (skipped until a probe succeeds), and the items
 * the batch never ran move into one new batch at the next provider in the platform's order that is configured,
 * not marked unhealthy and approved by the items' courses, through the spending gate (a reservation), confirmed at
 * once. It runs in the transaction that finishes the batch's ingestion: every result of the old batch is in
 * before an item moves, so a result of the old batch cannot arrive after its item was sent again (and if a line
 * were read twice, its request is resolved already and changes nothing; an item that has its assessment cannot
 * get a second one: the assessment is unique per item, and only an inserted assessment is charged). What the old
 * provider billed for its partial results stays charged to the old batch; the new batch reserves and charges its own.
 */

const LABELS: Record<string, string> = { openai: 'OpenAI', anthropic: 'Anthropic' };
export const providerLabel = (p: string): string => LABELS[p] ?? p;

/** Why a finished batch fails over, or null when it does not (completed, or cancelled by an administrator). */
export function failoverTrigger(batch: Pick<BatchRow, 'id' | 'status' | 'overdueAt' | 'provider' | 'error'>): string | null {
  const at = providerLabel(batch.provider);
  const said = batch.error ? `: ${batch.error}` : '';
  if (batch.status === 'failed') return `Batch ${batch.id} failed at ${at}${said}`;
  if (batch.status === 'expired') return `Batch ${batch.id} expired at ${at}${said}`;
  if (batch.status === 'cancelled' && batch.overdueAt) return `Batch ${batch.id} was cancelled at ${at}, past its time limit${said}`;
  return null;
}

export interface FailoverOutcome {
  /** The new batch, confirmed: the caller hands it to a worker after the commit. */
  batchId: number | null;
  /** Why nothing moved (policy off, no provider left, a budget), when nothing did. */
  skipped: string | null;
}

/**
 * After a finished batch's results are read (same transaction as batch-ingest.service `finishIngestion`): moves what
 * it never ran to the next provider when the policy says so. `configured`: the providers this installation can
 * call. A refusal (a budget, nothing approved) leaves the items queued with the reason, audited.
 */
export async function failOverFinishedBatch(db: Db, batch: BatchRow, configured: readonly string[]): Promise<FailoverOutcome> {
  const trigger = failoverTrigger(batch);
  if (!trigger) return { batchId: null, skipped: null };
  const settings = await findFailoverSettings(db, batch.platformId);
  if (settings.mode !== 'automatic') return { batchId: null, skipped: null };
  await markProviderUnhealthy(db, batch, trigger);
  const ids = await notRunItemsOf(db, batch.id);
  if (!ids.length) return { batchId: null, skipped: null };
  const items = (await lockItemsForBatch(db, batch.platformId, { scope: 'selected', ids }, true)).filter((i) => i.status === 'queued' && i.due);
  const target = await nextProvider(db, settings, batch, items, configured);
  if (!target.provider) return refuse(db, batch, items.map((i) => i.id), target.why);
  const model = failoverModelFor(batch.model, target.provider, settings.failoverModels);
  if (!model) return refuse(db, batch, items.map((i) => i.id), `no model is set for ${providerLabel(target.provider)}`);
  const reason = `${trigger}. Its ${target.items.length} unfinished item${target.items.length === 1 ? '' : 's'} moved to ${providerLabel(target.provider)} (${model}).`;
  try {
    // A savepoint: a refusal (a budget) takes back the batch it began, and the items stay queued with the reason.
    const batchId = await db.transaction((sp) => insertFailoverBatch(sp, batch, target.provider!, model, target.items, reason));
    if (target.left.length) await noteOnQueuedItems(db, target.left, `Not failed over: ${target.leftWhy}.`);
    await raiseBudgetAlerts(db, batch.platformId);
    return { batchId, skipped: null };
  } catch (err) {
    if (!(err instanceof HttpError) || err.status >= 500) throw err;
    return refuse(db, batch, items.map((i) => i.id), err.message);
  }
}

async function markProviderUnhealthy(db: Db, batch: BatchRow, trigger: string): Promise<void> {
  const reason = `${trigger}.`;
  if (await markUnhealthy(db, batch.platformId, batch.provider, reason, batch.id)) {
    await recordAudit(db, { platformId: batch.platformId, actorKind: 'system', action: 'provider.marked_unhealthy', entityType: 'batch', entityId: batch.id, details: { provider: batch.provider, reason } });
  }
}

async function refuse(db: Db, batch: BatchRow, itemIds: number[], why: string): Promise<FailoverOutcome> {
  await noteOnQueuedItems(db, itemIds, `Not failed over: ${why}. Back in the queue.`);
  await recordAudit(db, { platformId: batch.platformId, actorKind: 'system', action: 'batch.failover_skipped', entityType: 'batch', entityId: batch.id, details: { provider: batch.provider, items: itemIds.length, reason: why } });
  return { batchId: null, skipped: why };
}

interface Target {
  provider: string | null;
  items: SelectedItem[];
  left: number[];
  leftWhy: string;
  why: string;
}

/**
 * The first provider in the platform's order, other than the batch's own, that this installation can call, that is
 * not marked unhealthy and that the courses of at least some of the items approve: those items go there; the
 * others (their course approves no such provider) stay queued.
 */
async function nextProvider(db: Db, settings: FailoverSettings, batch: BatchRow, items: SelectedItem[], configured: readonly string[]): Promise<Target> {
  const marked = new Set((await healthMarks(db, batch.platformId)).filter((m) => m.unhealthySince).map((m) => m.provider));
  const courses = [...new Set(items.map((i) => i.course_id))];
  const passed: string[] = [];
  for (const provider of settings.providerOrder) {
    if (provider === batch.provider) continue;
    if (!configured.includes(provider)) passed.push(`${providerLabel(provider)} is not configured here`);
    else if (marked.has(provider)) passed.push(`${providerLabel(provider)} is marked unhealthy`);
    else {
      const refusing = new Set((await coursesRefusingBatch(db, courses, provider)).map((c) => c.courseId));
      const ok = items.filter((i) => !refusing.has(i.course_id));
      if (ok.length) {
        const left = items.filter((i) => !ok.includes(i)).map((i) => i.id);
        return { provider, items: ok, left, leftWhy: `their course does not approve ${providerLabel(provider)}`, why: '' };
      }
      passed.push(`the courses do not approve ${providerLabel(provider)}`);
    }
  }
  const why = passed.length ? `no other provider can take them (${passed.join('; ')})` : 'no other provider is in the failover order';
  return { provider: null, items: [], left: items.map((i) => i.id), leftWhy: why, why };
}

/** The failover batch: its rows, its items' reservations at the new model's prices (the spending gate), audited. */
async function insertFailoverBatch(db: Db, from: BatchRow, provider: string, model: string, items: SelectedItem[], reason: string): Promise<number> {
  const priced = items.map((i) => ({ ...i, est_cost_micros: estimateAt(i, model) }));
  const requests = priced.map((i) => ({ item: i.id, task: i.task_id, promptVersion: i.prompt_version_id, attempt: i.attempts + 1, customId: customIdFor(i.id, i.requests_made + 1), courseId: i.course_id, est: i.est_cost_micros }));
  const est = priced.reduce((a, i) => a + i.est_cost_micros, 0);
  const tokens = priced.reduce((a, i) => a + i.est_input_tokens, 0);
  const notes = `Failed over from batch ${from.id} (${providerLabel(from.provider)}, ${from.model}).`;
  const { batchId, moved } = await insertBatchWithRequests(db, { platformId: from.platformId, provider, model, estCostMicros: est, estInputTokens: tokens, createdBy: from.createdBy, notes, overrideReason: null }, requests);
  if (moved !== requests.length) throw Conflict('some items changed while the failover batch was being made');
  await reserveForBatch(db, from.platformId, batchId, requests.map((r) => ({ customId: r.customId, queueItemId: r.item, courseId: r.courseId, amountMicros: r.est })));
  await markFailoverBatch(db, batchId, from.id, reason);
  await recordAudit(db, {
    platformId: from.platformId,
    actorKind: 'system',
    action: 'batch.failover',
    entityType: 'batch',
    entityId: batchId,
    details: { from: from.id, fromProvider: from.provider, fromModel: from.model, provider, model, requests: requests.length, estCostMicros: est, reason },
  });
  return batchId;
}

/** An item's estimate at another model's batch prices (its tokens as counted for its own model: close enough to reserve). */
export function estimateAt(item: SelectedItem, model: string): number {
  try {
    return estimateCostMicros({ inputTokens: item.est_input_tokens, outputTokens: item.est_output_tokens }, model, 'batch');
  } catch (err) {
    if (err instanceof UnknownModelError) return item.est_cost_micros;
    throw err;
  }
}

/**
 * The SLA (poll step): a batch at its provider longer than the platform's SLA, under an automatic policy, is asked
 * to cancel there, with the reason; its provider is marked unhealthy at once, so new batches avoid it. Once its
 * cancel ends and its results are read, what it did not run fails over. True when the cancel was asked for now.
 */
export async function cancelIfPastSla(db: Db, batch: BatchRow, now = new Date()): Promise<boolean> {
  if (!batch.submittedAt || batch.cancelRequestedAt) return false;
  const settings = await findFailoverSettings(db, batch.platformId);
  if (settings.mode !== 'automatic') return false;
  if (now.getTime() - batch.submittedAt.getTime() <= settings.slaMinutes * 60_000) return false;
  const hours = Math.round((settings.slaMinutes / 60) * 10) / 10;
  const reason = `Still not finished ${hours} h after it was sent (the platform's SLA), so it was cancelled at ${providerLabel(batch.provider)}; finished requests are kept, the rest fail over to the next provider.`;
  if (!(await markOverdue(db, batch.id, batch.status, reason))) return false;
  await recordAudit(db, { platformId: batch.platformId, actorKind: 'system', action: 'batch.sla_exceeded', entityType: 'batch', entityId: batch.id, details: { provider: batch.provider, slaMinutes: settings.slaMinutes } });
  await markProviderUnhealthy(db, batch, `Batch ${batch.id} passed the SLA of ${hours} h at ${providerLabel(batch.provider)}`);
  return true;
}
