import { sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import { submissionScanSchema, type StoredScan, type SubmissionScan } from '../../grading/injection.js';
import { insertAssessmentsSql, type AssessmentsDoc } from '../assessments/assessments.repository.js';
import { chargeSql } from '../budgets/budgets.repository.js';
import type { ReleasePolicy } from '../tasks/tasks.table.js';
import { NEXT_STEP_SQL, type BatchStep } from './batch-state.js';

/**
 * The SQL of the batch jobs (send, poll, ingest, sweep). Every state change is conditional on the state it
 * leaves, and the queue item changes key on the request (custom id) still being pending, so a line, a job or a
 * whole worker run seen twice changes nothing the second time.
 */

export type SendRow = {
  request_id: number;
  custom_id: string;
  queue_item_id: number;
  content: Buffer | null;
  task_id: number;
  student_id: number;
  attempt: number;
  /** The uploaded file's name, if any: a source file's extension gives the language the request names. */
  original_filename: string | null;
  prompt_version_id: number;
  anonymize: boolean | null;
  name: string | null;
  given_name: string | null;
  family_name: string | null;
  email: string | null;
};

/** One page of a batch's pending requests with what their lines are made of (keyset paging by request id). */
export async function sendRows(db: Db, batchId: number, afterRequestId: number, limit: number): Promise<SendRow[]> {
  const rows = await db.execute<SendRow>(sql`
    select br.id as request_id, br.custom_id, br.queue_item_id, s.content, s.task_id, s.student_id, s.attempt, s.original_filename, q.prompt_version_id,
           p.anonymize, u.name, u.given_name, u.family_name, u.email
    from batch_requests br
    join queue_items q on q.id = br.queue_item_id
    join submissions s on s.id = q.submission_id
    join users u on u.id = s.student_id
    left join course_privacy p on p.course_id = q.course_id
    where br.batch_id = ${batchId} and br.status = 'pending' and br.id > ${afterRequestId}
    order by br.id limit ${limit}`);
  return rows.rows.map((r) => ({ ...r, request_id: Number(r.request_id), queue_item_id: Number(r.queue_item_id), task_id: Number(r.task_id), student_id: Number(r.student_id), prompt_version_id: Number(r.prompt_version_id) }));
}

export type VersionForRequest = {
  id: number;
  template: string;
  system_instructions: string;
  grader_instructions: string;
  rubric: { id: string; name: string; description: string; maxPoints: number }[];
  max_score: number;
  model: string;
  temperature: number;
  max_output_tokens: number;
  output_schema: Record<string, unknown>;
  task_title: string;
  task_description: string;
};

/** Prompt versions with their task's title and description, by id. */
export async function versionsForRequests(db: Db, versionIds: number[]): Promise<VersionForRequest[]> {
  if (!versionIds.length) return [];
  const rows = await db.execute<VersionForRequest>(sql`
    select v.id, v.template, v.system_instructions, v.grader_instructions, v.rubric, v.max_score, v.model, v.temperature, v.max_output_tokens,
           v.output_schema, t.title as task_title, t.description as task_description
    from prompt_versions v join prompts p on p.id = v.prompt_id join tasks t on t.id = p.task_id
    where v.id = any(${sql.param(versionIds)}::bigint[])`);
  return rows.rows.map((r) => ({ ...r, id: Number(r.id), max_score: Number(r.max_score), temperature: Number(r.temperature) }));
}

export type RequestTarget = {
  custom_id: string;
  status: string;
  queue_item_id: number;
  prompt_version_id: number;
  release_policy: ReleasePolicy;
  auto_release_min_confidence: number | null;
  /** What the injection scan found in the text sent (null: nothing, or sent before the scan existed). */
  injection_scan: StoredScan | null;
};

/**
 * Records what the injection scan found in requests' texts as they are sent (one statement per page of lines).
 * Only requests with findings are written: most have none, and null means nothing found.
 */
export async function recordInjectionScans(db: Db, scans: Array<{ requestId: number; scan: SubmissionScan }>): Promise<void> {
  if (!scans.length) return;
  await db.execute(sql`
    update batch_requests br set injection_scan = s.scan
    from unnest(${sql.param(scans.map((s) => s.requestId))}::bigint[], ${sql.param(scans.map((s) => JSON.stringify(s.scan)))}::jsonb[]) as s(id, scan)
    where br.id = s.id and br.status = 'pending'`);
}

/** A stored scan as the post-check reads it; one that does not parse (a future shape) counts as nothing found. */
function storedScan(value: unknown): StoredScan | null {
  if (value == null) return null;
  const parsed = submissionScanSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/**
 * The requests of this batch that these result lines name (a line naming another batch's request is not ours).
 * One probe of the custom id's unique index per line (LATERAL … LIMIT 1): asked plainly, the planner estimates a
 * new batch at a few rows (its id is not in the statistics yet) and reads the whole batch's requests, 50,000 for a
 * large one, for every chunk of 1,000 lines. The request carries its item's prompt version and task, so the queue
 * item is not read here (its probe was ~3 % of an ingest).
 */
export async function requestTargets(db: Db, batchId: number, customIds: string[]): Promise<Map<string, RequestTarget>> {
  if (!customIds.length) return new Map();
  const rows = await db.execute<RequestTarget>(sql`
    select br.custom_id, br.status, br.queue_item_id, br.prompt_version_id, br.injection_scan, t.release_policy, t.auto_release_min_confidence
    from unnest(${sql.param(customIds)}::text[]) as c(custom_id)
    join lateral (select custom_id, status, queue_item_id, prompt_version_id, task_id, injection_scan from batch_requests b where b.custom_id = c.custom_id and b.batch_id = ${batchId} limit 1) br on true
    join tasks t on t.id = br.task_id`);
  return new Map(
    rows.rows.map((r) => [
      r.custom_id,
      { ...r, queue_item_id: Number(r.queue_item_id), prompt_version_id: Number(r.prompt_version_id), injection_scan: storedScan(r.injection_scan) },
    ]),
  );
}

/**
 * Usable answers, in one statement (one round trip, the answers sent once): their assessments inserted, and for
 * each one actually inserted its request resolved, its queue item completed, its cost charged (settling its
 * reservation). An item that already has its assessment (unique) gets nothing here; its custom id is not returned, so
 * the caller resolves that request as a duplicate. Returns the custom ids of the assessments inserted.
 * The updates match `= any(array(select … from ins))` rather than join `ins`: the planner cannot estimate a CTE's
 * rows and, joining, may loop over it once per row of the table (quadratic); an array is probed through an index.
 * The requests are found by custom id alone: custom ids are unique across batches and these came from this batch's
 * requests (requestTargets, same transaction). Naming the batch too let the planner AND in the batch's whole range
 * of its (batch, item) index for every chunk.
 */
export async function recordResults(db: Db, platformId: number, batchId: number, doc: AssessmentsDoc): Promise<string[]> {
  if (!doc.size) return [];
  const inserted = await db.execute<{ custom_id: string }>(sql`
    with ins as (${insertAssessmentsSql(doc)}),
    requests as (
      update batch_requests set status = 'succeeded', resolved_at = now()
      where custom_id = any(array(select custom_id from ins)) and status = 'pending'),
    items as (
      update queue_items set status = 'completed', completed_at = now(), last_error = null, updated_at = now()
      where id = any(array(select queue_item_id from ins)) and status in ('selected', 'processing')),
    charges as (select custom_id, course_id, actual_cost_micros as amount, queue_item_id as item, id as assessment from ins),
    ledger as (${chargeSql(platformId, batchId, sql`charges`)})
    select custom_id from ins`);
  return inserted.rows.map((r) => r.custom_id);
}

export interface RequestProblem {
  customId: string;
  code: string;
  message: string;
}

/**
 * Requests that ran and failed (an error line, an unreadable line, a missing result). Each failed send counts:
 * the item goes back to the queue while it has sends left, else it stays failed with the reason (dead letter).
 * Returns the custom ids actually resolved now (pending before).
 */
export async function failRequests(db: Db, batchId: number, problems: RequestProblem[]): Promise<string[]> {
  if (!problems.length) return [];
  const resolved = await db.execute<{ custom_id: string; queue_item_id: number; message: string }>(sql`
    update batch_requests br set status = 'failed', error_code = p.code, error_message = p.message, resolved_at = now()
    from unnest(${sql.param(problems.map((p) => p.customId))}::text[], ${sql.param(problems.map((p) => p.code))}::text[], ${sql.param(problems.map((p) => p.message))}::text[]) as p(custom_id, code, message)
    where br.batch_id = ${batchId} and br.custom_id = p.custom_id and br.status = 'pending'
    returning br.custom_id, br.queue_item_id, p.message`);
  if (!resolved.rows.length) return [];
  await db.execute(sql`
    update queue_items q set
      status = case when f.failed >= q.max_attempts then 'failed' else 'queued' end,
      batch_id = case when f.failed >= q.max_attempts then q.batch_id else null end,
      last_error = case when f.failed >= q.max_attempts
        then 'Failed ' || f.failed || ' time' || case when f.failed = 1 then '' else 's' end || ', the most allowed; last error: ' || m.message
        else m.message end,
      updated_at = now()
    from unnest(${sql.param(resolved.rows.map((r) => Number(r.queue_item_id)))}::bigint[], ${sql.param(resolved.rows.map((r) => r.message))}::text[]) as m(id, message)
    cross join lateral (select count(*)::int as failed from batch_requests b where b.queue_item_id = m.id and b.status = 'failed') f
    where q.id = m.id and q.status in ('selected', 'processing')`);
  return resolved.rows.map((r) => r.custom_id);
}

/**
 * Requests that never ran (the batch expired, was cancelled, or failed as a whole): not the request's fault, so
 * the item goes back to the queue without using up a send. Returns the custom ids resolved now.
 */
export async function returnNotRun(db: Db, batchId: number, status: 'expired' | 'cancelled', problems: RequestProblem[]): Promise<string[]> {
  if (!problems.length) return [];
  const resolved = await db.execute<{ custom_id: string; queue_item_id: number; message: string }>(sql`
    update batch_requests br set status = ${status}, error_code = p.code, error_message = p.message, resolved_at = now()
    from unnest(${sql.param(problems.map((p) => p.customId))}::text[], ${sql.param(problems.map((p) => p.code))}::text[], ${sql.param(problems.map((p) => p.message))}::text[]) as p(custom_id, code, message)
    where br.batch_id = ${batchId} and br.custom_id = p.custom_id and br.status = 'pending'
    returning br.custom_id, br.queue_item_id, p.message`);
  if (!resolved.rows.length) return [];
  await db.execute(sql`
    update queue_items q set status = 'queued', batch_id = null, last_error = m.message, updated_at = now()
    from unnest(${sql.param(resolved.rows.map((r) => Number(r.queue_item_id)))}::bigint[], ${sql.param(resolved.rows.map((r) => r.message))}::text[]) as m(id, message)
    where q.id = m.id and q.status in ('selected', 'processing')`);
  return resolved.rows.map((r) => r.custom_id);
}

export async function pendingCustomIds(db: Db, batchId: number): Promise<string[]> {
  const rows = await db.execute<{ custom_id: string }>(sql`select custom_id from batch_requests where batch_id = ${batchId} and status = 'pending' order by id`);
  return rows.rows.map((r) => r.custom_id);
}

export interface ChunkTotals {
  position: number;
  previous: number;
  unmatched: number;
  inputTokens: number;
  outputTokens: number;
  costMicros: number;
}

/**
 * Records a chunk's progress and totals, and renews the lease, only while this worker holds it and nobody has
 * recorded these lines already: when it matches nothing the caller rolls the chunk back.
 */
export async function recordChunk(db: Db, batchId: number, owner: string, leaseMs: number, t: ChunkTotals): Promise<boolean> {
  const rows = await db.execute(sql`
    update batches set ingested_lines = ${t.position}, unmatched_lines = unmatched_lines + ${t.unmatched},
      input_tokens = input_tokens + ${t.inputTokens}, output_tokens = output_tokens + ${t.outputTokens},
      actual_cost_micros = actual_cost_micros + ${t.costMicros},
      lease_expires_at = now() + ${leaseMs} * interval '1 millisecond', updated_at = now()
    where id = ${batchId} and lease_owner = ${owner} and ingested_lines = ${t.previous} and ingested_at is null
    returning id`);
  return rows.rows.length > 0;
}

/**
 * Batches with work due that no worker holds: the step each one needs (batch-state.ts) — a send or cancel asked
 * for, a poll whose time has come, a finished batch not yet ingested. Marked as handed out (a short lease) in the
 * same statement, so two sweeps never hand out one twice.
 */
export async function dueWork(db: Db, leaseMs: number, limit = 200): Promise<Array<{ id: number; step: BatchStep }>> {
  const rows = await db.execute<{ id: number; step: BatchStep }>(sql`
    with due as (
      select batches.id, s.step
      from batches cross join lateral (select ${NEXT_STEP_SQL} as step) s
      where ingested_at is null
        and (lease_expires_at is null or lease_expires_at <= now())
        and s.step is not null
        and (s.step <> 'poll' or next_poll_at is null or next_poll_at <= now())
      order by batches.id limit ${limit}
      for update of batches skip locked)
    update batches b set lease_owner = 'dispatched', lease_expires_at = now() + ${leaseMs} * interval '1 millisecond'
    from due where b.id = due.id
    returning b.id, due.step`);
  return rows.rows.map((r) => ({ id: Number(r.id), step: r.step }));
}
