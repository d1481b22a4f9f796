import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Config } from '../../config.js';
import type { Db } from '../../db/db.js';
import { Conflict, Invalid, NotFound } from '../../errors.js';
import { customIdFor, OPENAI_CAPABILITIES } from '../../providers/index.js';
import { recordAudit } from '../audit/audit.repository.js';
import { raiseBudgetAlerts } from '../budgets/budget-alerts.service.js';
import { releaseReservations, reserveForBatch } from '../budgets/budgets.service.js';
import { selectionCondition, type Admin, type Selection } from '../queue/queue.service.js';
import { findBatch, type BatchRow } from './batches.repository.js';
import { isTerminal, TERMINAL_SQL } from './batch-state.js';

export type BatchLimits = Pick<Config['batches'], 'minSize' | 'maxSize' | 'maxBytes'>;

/** What an administrator may choose when creating batches. */
export const createOptionsSchema = z.object({
  maxPerBatch: z.preprocess((v) => (v === '' || v == null ? undefined : v), z.coerce.number({ error: 'Enter a whole number.' }).int('Enter a whole number.').optional()),
  notes: z.string().trim().max(2000, 'Notes have at most 2000 characters.').optional().default(''),
});

type SelectedItem = {
  id: number;
  status: string;
  course_id: number;
  task_id: number;
  prompt_version_id: number;
  course_title: string;
  llm_allowed: boolean | null;
  model: string;
  attempts: number;
  est_cost_micros: number;
  est_input_tokens: number;
  due: boolean;
  est_bytes: number;
};

/** The effective limits: the configured ones, never above what the provider accepts. */
export function effectiveLimits(limits: BatchLimits): BatchLimits {
  return {
    minSize: limits.minSize,
    maxSize: Math.min(limits.maxSize, OPENAI_CAPABILITIES.maxRequestsPerBatch),
    maxBytes: Math.min(limits.maxBytes, OPENAI_CAPABILITIES.maxBytesPerBatch),
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

/**
 * Turns a selection of queued items into batches, one model per batch, within the size limits: items become
 * `selected` and the batches `created` (nothing is sent until an administrator submits a batch after seeing its
 * estimate). All or nothing: an empty, foreign, no longer queued or not yet due selection, sizes out of the limits,
 * a course that no longer allows LLM assessment or a budget that would be exceeded is refused and nothing changes.
 * Run in a transaction: the items are locked, so a concurrent skip or a second batch waits and then sees them taken.
 */
export async function createBatches(db: Db, limits: BatchLimits, admin: Admin, selection: Selection, rawOptions: unknown): Promise<BatchRow[]> {
  const opts = createOptionsSchema.safeParse(rawOptions ?? {});
  if (!opts.success) {
    const fields: Record<string, string> = {};
    for (const i of opts.error.issues) fields[String(i.path[0] ?? '_')] ??= i.message;
    throw Invalid(fields);
  }
  const lim = effectiveLimits(limits);
  const perBatch = opts.data.maxPerBatch ?? lim.maxSize;
  if (perBatch < lim.minSize || perBatch > lim.maxSize) {
    throw Invalid({ maxPerBatch: `Choose between ${lim.minSize} and ${lim.maxSize} requests per batch.` }, 'The batch size is out of the allowed limits.');
  }

  const all = selection.scope === 'all';
  const rows = await db.execute<SelectedItem>(sql`
    select q.id, q.status, q.course_id, q.task_id, q.prompt_version_id, c.title as course_title, p.llm_allowed, q.model, q.attempts, q.est_cost_micros, q.est_input_tokens,
           (q.not_before is null or q.not_before <= now()) as due,
           (s.char_count * 3 + length(pv.template) + length(pv.system_instructions) + length(pv.grader_instructions)
             + length(pv.output_schema::text) + length(pv.rubric::text) + length(t.title) + length(t.description) + 1000)::int as est_bytes
    from queue_items q
    join submissions s on s.id = q.submission_id
    join prompt_versions pv on pv.id = q.prompt_version_id
    join tasks t on t.id = q.task_id
    join courses c on c.id = q.course_id
    left join course_privacy p on p.course_id = q.course_id
    where ${selectionCondition(admin.platformId, selection)}
      ${all ? sql`and q.status = 'queued' and (q.not_before is null or q.not_before <= now())` : sql``}
    order by q.priority_rank, q.created_at, q.id
    for update of q`);
  const items = rows.rows.map((r) => ({ ...r, id: Number(r.id), course_id: Number(r.course_id), task_id: Number(r.task_id), prompt_version_id: Number(r.prompt_version_id), est_cost_micros: Number(r.est_cost_micros) }));

  if (!items.length) {
    throw Invalid({ ids: all ? 'No queued item that is due matches this filter.' : 'Select at least one queued item.' }, 'There is nothing to put in a batch.');
  }
  if (selection.scope === 'selected' && items.length < selection.ids.length) {
    throw Invalid({ ids: `${plural(selection.ids.length - items.length, 'selected item')} ${selection.ids.length - items.length === 1 ? 'was' : 'were'} not found.` }, 'Some selected items do not exist.');
  }
  const taken = items.filter((i) => i.status !== 'queued');
  if (taken.length) {
    throw Conflict(`${plural(taken.length, 'selected item')} ${taken.length === 1 ? 'is' : 'are'} no longer queued (already in a batch, skipped or finished): ${taken.slice(0, 10).map((i) => `#${i.id} (${i.status})`).join(', ')}. Reload the queue and select again.`);
  }
  const notDue = items.filter((i) => !i.due);
  if (notDue.length) throw Conflict(`${plural(notDue.length, 'selected item')} ${notDue.length === 1 ? 'is' : 'are'} rescheduled for later: ${notDue.slice(0, 10).map((i) => `#${i.id}`).join(', ')}. Clear their "not before" time first.`);
  const disallowed = [...new Set(items.filter((i) => !i.llm_allowed).map((i) => i.course_title || `course ${i.course_id}`))];
  if (disallowed.length) throw Conflict(`These courses no longer allow LLM assessment, so their items cannot be sent: ${disallowed.join(', ')}. Skip those items, or ask the instructors.`);

  const byModel = new Map<string, typeof items>();
  for (const i of items) byModel.set(i.model, [...(byModel.get(i.model) ?? []), i]);
  for (const [model, group] of byModel) {
    if (group.length < lim.minSize) {
      throw Invalid({ ids: `${model}: ${plural(group.length, 'item')}; a batch needs at least ${lim.minSize}.` }, `The selection is too small for a batch (one model per batch, at least ${lim.minSize} requests).`);
    }
  }

  const created: BatchRow[] = [];
  for (const [model, group] of byModel) {
    for (const chunk of splitIntoBatches(group, perBatch, lim.maxBytes)) {
      const est = chunk.reduce((a, i) => a + i.est_cost_micros, 0);
      const tokens = chunk.reduce((a, i) => a + i.est_input_tokens, 0);
      const [batch] = (
        await db.execute<{ id: number }>(sql`
          insert into batches (platform_id, provider, model, status, request_total, est_cost_micros, est_input_tokens, created_by, notes)
          values (${admin.platformId}, 'openai', ${model}, 'created', ${chunk.length}, ${est}, ${tokens}, ${admin.userId}, ${opts.data.notes})
          returning id`)
      ).rows;
      const batchId = Number(batch!.id);
      const requests = chunk.map((i) => ({ item: i.id, task: i.task_id, promptVersion: i.prompt_version_id, attempt: i.attempts + 1, customId: customIdFor(i.id, i.attempts + 1), courseId: i.course_id, est: i.est_cost_micros }));
      await db.execute(sql`
        insert into batch_requests (batch_id, queue_item_id, task_id, prompt_version_id, attempt, custom_id)
        select ${batchId}, r.item, r.task, r.prompt_version, r.attempt, r.custom_id
        from unnest(${sql.param(requests.map((r) => r.item))}::bigint[], ${sql.param(requests.map((r) => r.task))}::bigint[], ${sql.param(requests.map((r) => r.promptVersion))}::bigint[],
          ${sql.param(requests.map((r) => r.attempt))}::int[], ${sql.param(requests.map((r) => r.customId))}::text[]) as r(item, task, prompt_version, attempt, custom_id)`);
      const moved = await db.execute(sql`
        update queue_items set status = 'selected', batch_id = ${batchId}, attempts = attempts + 1, updated_at = now()
        where id = any(${sql.param(requests.map((r) => r.item))}::bigint[]) and status = 'queued'
        returning id`);
      if (moved.rows.length !== requests.length) throw Conflict('Some selected items changed while the batch was being made. Reload the queue and try again.');
      await reserveForBatch(db, admin.platformId, batchId, requests.map((r) => ({ customId: r.customId, queueItemId: r.item, courseId: r.courseId, amountMicros: r.est })));
      await recordAudit(db, {
        platformId: admin.platformId,
        actorId: admin.userId,
        actorKind: 'user',
        action: 'batch.created',
        entityType: 'batch',
        entityId: batchId,
        details: { model, requests: chunk.length, estCostMicros: est, estInputTokens: tokens, scope: selection.scope },
      });
      created.push((await findBatch(db, admin.platformId, batchId))!);
    }
  }
  if (created.length) await raiseBudgetAlerts(db, admin.platformId);
  return created;
}

/**
 * The explicit confirmation after seeing the estimate: the batch is marked for sending and a worker uploads it.
 * Once only: a second submit (double click, retried request, another administrator) is refused, never sent twice.
 */
export async function requestSubmit(db: Db, admin: Admin, batchId: number): Promise<BatchRow> {
  const rows = await db.execute<{ id: number }>(sql`
    update batches set submit_requested_at = now(), submit_requested_by = ${admin.userId}, updated_at = now()
    where id = ${batchId} and platform_id = ${admin.platformId} and status = 'created' and submit_requested_at is null and cancel_requested_at is null
    returning id`);
  const batch = await findBatch(db, admin.platformId, batchId);
  if (!batch) throw NotFound('The batch');
  if (!rows.rows.length) {
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
  const rows = await db.execute<{ platform_id: number }>(sql`
    update batches set status = 'cancelled', finished_at = now(), ingested_at = now(), error = ${reason}, lease_owner = null, lease_expires_at = null, updated_at = now()
    where id = ${batchId} and status = 'created' and provider_batch_id is null
      and (lease_expires_at is null or lease_expires_at <= now() or lease_owner in ('dispatched', 'backoff'))
    returning platform_id`);
  if (!rows.rows.length) return false;
  await returnUnsentItems(db, batchId, 'cancelled', reason);
  await recordAudit(db, { platformId: Number(rows.rows[0]!.platform_id), actorId: actor.userId, actorKind: actor.userId ? 'user' : 'system', action: 'batch.cancelled', entityType: 'batch', entityId: batchId, details: { sent: false, reason } });
  return true;
}

/** Items of a batch that was never sent go back to the queue; their requests are closed and reservations released. */
export async function returnUnsentItems(db: Db, batchId: number, requestStatus: 'cancelled' | 'failed', reason: string): Promise<void> {
  const requests = await db.execute<{ custom_id: string }>(sql`
    update batch_requests set status = ${requestStatus}, error_code = 'not_sent', error_message = ${reason}, resolved_at = now()
    where batch_id = ${batchId} and status = 'pending' returning custom_id`);
  await db.execute(sql`
    update queue_items set status = 'queued', batch_id = null, last_error = ${reason}, updated_at = now()
    where batch_id = ${batchId} and status in ('selected', 'processing')`);
  await releaseReservations(db, requests.rows.map((r) => r.custom_id), 'batch not sent');
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
  const rows = await db.execute(sql`
    update batches set cancel_requested_at = now(), updated_at = now()
    where id = ${batchId} and platform_id = ${admin.platformId} and not ${TERMINAL_SQL} and cancel_requested_at is null
    returning id`);
  if (!rows.rows.length) {
    if (batch.cancelRequestedAt && !isTerminal(batch.status)) throw Conflict(`Batch ${batchId} is already being cancelled.`);
    throw Conflict(`Batch ${batchId} is ${batch.status}; only a batch that has not finished can be cancelled.`);
  }
  await recordAudit(db, { platformId: admin.platformId, actorId: admin.userId, actorKind: 'user', action: 'batch.cancel_requested', entityType: 'batch', entityId: batchId, details: { status: batch.status } });
  return (await findBatch(db, admin.platformId, batchId))!;
}

export async function setBatchNotes(db: Db, admin: Admin, batchId: number, raw: unknown): Promise<BatchRow> {
  const parsed = z.object({ notes: z.string().max(2000, 'Notes have at most 2000 characters.').default('') }).safeParse(raw ?? {});
  if (!parsed.success) throw Invalid({ notes: parsed.error.issues[0]!.message });
  const rows = await db.execute(sql`update batches set notes = ${parsed.data.notes.trim()}, updated_at = now() where id = ${batchId} and platform_id = ${admin.platformId} returning id`);
  if (!rows.rows.length) throw NotFound('The batch');
  await recordAudit(db, { platformId: admin.platformId, actorId: admin.userId, actorKind: 'user', action: 'batch.notes', entityType: 'batch', entityId: batchId, details: {} });
  return (await findBatch(db, admin.platformId, batchId))!;
}
