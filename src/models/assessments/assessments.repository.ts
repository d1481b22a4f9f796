import { and, desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import type { TextBuffer } from '../../text-buffer.js';
import type { RubricCriterion } from '../../grading/rubric.js';
import { releasedToStudentSql } from './release.js';
import { assessments, type AssessmentKind } from './assessments.table.js';

/**
 * Assessments as ingestion writes them and reviewers read them.
 *
 * Visibility: an instructor of the course sees every assessment at once (listCourseAssessments). A student sees
 * one only once it is released — the one rule is release.ts; `released_at` records when that happened (ingestion,
 * or the instructor's approval or override). The model's answer (`result`,
 * `score`) is never updated; reviews write the override columns beside it.
 */

export type AssessmentRow = typeof assessments.$inferSelect;
/** An assessment to write. What it copies from its queue item (platform, course, task, submission, prompt version,
 * batch) the insert takes from the queue item itself, so a caller cannot get them wrong. */
export type NewAssessment = Omit<typeof assessments.$inferInsert, 'platformId' | 'courseId' | 'taskId' | 'submissionId' | 'promptVersionId' | 'batchId'>;

/**
 * The rows of one insert as one jsonb parameter: a thousand rows are one parameter, serialized natively, rather
 * than a VALUES list or one array per column (read as jsonb: measured ~4× faster to unpack than
 * json_to_recordset). Written row by row into a TextBuffer the caller uses again for its next insert, and sent
 * as bytes: as one JSON string, each chunk's document was a few megabytes of string that the database driver
 * flattened into another copy, both held, and both promoted, while the statement ran.
 */
export class AssessmentsDoc {
  private rows = 0;
  private closed = false;

  constructor(private readonly out: TextBuffer) {
    out.clear();
    // jsonb's binary format: a version byte (1), then the text.
    out.appendByte(1);
    out.append('[');
  }

  get size(): number {
    return this.rows;
  }

  add(r: NewAssessment): void {
    if (this.closed) throw new Error('this document was already sent');
    if (this.rows > 0) this.out.append(',');
    this.rows += 1;
    this.out.append(
      JSON.stringify({
        queue_item_id: r.queueItemId,
        custom_id: r.customId,
        model: r.model,
        result: r.result ?? null,
        raw_output: r.rawOutput ?? null,
        score: r.score ?? null,
        max_score: r.maxScore,
        model_confidence: r.modelConfidence ?? null,
        computed_confidence: r.computedConfidence ?? null,
        flags: r.flags ?? [],
        needs_review: r.needsReview ?? false,
        input_tokens: r.inputTokens ?? 0,
        cached_input_tokens: r.cachedInputTokens ?? 0,
        output_tokens: r.outputTokens ?? 0,
        actual_cost_micros: r.actualCostMicros ?? 0,
        released_at: r.releasedAt instanceof Date ? r.releasedAt.toISOString() : null,
      }),
    );
  }

  /** The document as a binary jsonb parameter (the driver sends a Buffer in binary format, as is). */
  param(): Buffer {
    if (!this.closed) this.out.append(']');
    this.closed = true;
    return this.out.view();
  }
}

/**
 * The insert of these rows, as a statement other statements can wrap (a data-modifying CTE), with the copies of
 * each row's queue item taken from it. A queue item that already has its assessment keeps it (one per item, unique
 * index; the custom id is unique too): only the rows actually inserted are returned, with what ingestion needs
 * next (id, item, custom id, course, cost).
 */
export function insertAssessmentsSql(doc: AssessmentsDoc) {
  return sql`
    insert into assessments (platform_id, course_id, task_id, submission_id, queue_item_id, batch_id, custom_id, prompt_version_id, model,
      result, raw_output, score, max_score, model_confidence, computed_confidence, flags, needs_review,
      input_tokens, cached_input_tokens, output_tokens, actual_cost_micros, released_at)
    select q.platform_id, q.course_id, q.task_id, q.submission_id, r.queue_item_id, q.batch_id, r.custom_id, q.prompt_version_id, r.model,
      r.result, r.raw_output, r.score, r.max_score, r.model_confidence, r.computed_confidence, r.flags, r.needs_review,
      r.input_tokens, r.cached_input_tokens, r.output_tokens, r.actual_cost_micros, r.released_at
    from jsonb_to_recordset(${doc.param()}::jsonb) as r(queue_item_id bigint, custom_id text, model text, result jsonb,
      raw_output text, score numeric, max_score numeric, model_confidence real, computed_confidence real, flags jsonb, needs_review boolean,
      input_tokens int, cached_input_tokens int, output_tokens int, actual_cost_micros bigint, released_at timestamptz)
    -- LATERAL … LIMIT 1 keeps this one index probe per row: joined plainly (or LATERAL without the LIMIT, which the
    -- planner flattens into a join), it hashes every queue item of every course, once per chunk.
    join lateral (select platform_id, course_id, task_id, submission_id, prompt_version_id, batch_id from queue_items q where q.id = r.queue_item_id limit 1) q on true
    on conflict do nothing
    returning id, queue_item_id, custom_id, course_id, actual_cost_micros`;
}

/** The assessment of a course, by id: undefined for another course's (tenant check in the query). */
export async function findCourseAssessment(db: Db, courseId: number, id: number): Promise<AssessmentRow | undefined> {
  const [row] = await db.select().from(assessments).where(and(eq(assessments.id, id), eq(assessments.courseId, courseId)));
  return row;
}

/** Everything an instructor of the course may see, newest first; optionally one task. */
export async function listCourseAssessments(db: Db, courseId: number, options: { taskId?: number; limit?: number; offset?: number } = {}): Promise<AssessmentRow[]> {
  return db
    .select()
    .from(assessments)
    .where(options.taskId ? and(eq(assessments.courseId, courseId), eq(assessments.taskId, options.taskId)) : eq(assessments.courseId, courseId))
    .orderBy(desc(assessments.id))
    .limit(options.limit ?? 100)
    .offset(options.offset ?? 0);
}

/** Mean output tokens of the version's recent answers: a better guess than a share of max tokens, once known. */
export async function meanOutputTokensOfVersion(db: Db, promptVersionId: number): Promise<number | null> {
  const rows = await db.execute<{ mean: number | null }>(sql`
    select avg(output_tokens)::float8 as mean from (
      select output_tokens from assessments where prompt_version_id = ${promptVersionId} and output_tokens > 0 order by id desc limit 200) recent`);
  const mean = rows.rows[0]?.mean;
  return mean == null ? null : Number(mean);
}

/** The mean output tokens of each prompt version's recent results (as meanOutputTokensOfVersion), for those that have any. */
export async function meanOutputTokensOfVersions(db: Db, promptVersionIds: number[]): Promise<Map<number, number>> {
  if (!promptVersionIds.length) return new Map();
  const rows = await db.execute<{ id: number; mean: number }>(sql`
    select v.id, m.mean from unnest(${sql.param(promptVersionIds)}::bigint[]) as v(id)
    cross join lateral (
      select avg(output_tokens)::float8 as mean from (
        select output_tokens from assessments where prompt_version_id = v.id and output_tokens > 0 order by id desc limit 200) recent) m
    where m.mean is not null`);
  return new Map(rows.rows.map((r) => [Number(r.id), Number(r.mean)]));
}

/** What a student's feedback page reads: the latest assessment of a submission, if released to them. */
export type ReleasedAssessmentRow = {
  id: number;
  /** When retention (or a deletion request) removed the work and the written feedback; null while kept. */
  purged_at: Date | null;
  task_id: number;
  task_title: string;
  attempt: number;
  review_status: 'pending_review' | 'approved' | 'overridden';
  score: number | null;
  override_score: number | null;
  max_score: number;
  /** The task's gradebook column maximum (the scale the LMS shows). */
  task_max_score: number;
  result: Record<string, unknown> | null;
  override_criteria: Record<string, number> | null;
  /** Encrypted (assessment-texts.ts: bound to the queue item, or the submission of a manual assessment). */
  override_feedback: string | null;
  queue_item_id: number | null;
  submission_id: number;
  kind: AssessmentKind;
  /** The rubric it was graded on; empty for a manual grade without one. */
  rubric: RubricCriterion[];
  released_at: Date;
  /** The attempt whose identical request's grade this one reuses (nothing sent again, nothing charged); null when graded itself. */
  reused_from_attempt: number | null;
};

/**
 * The latest assessment of one of this student's own submissions in this course, only when released to them
 * (release.ts); undefined otherwise, whatever the reason.
 */
export async function releasedAssessmentOf(db: Db, who: { courseId: number; studentId: number }, submissionId: number): Promise<ReleasedAssessmentRow | undefined> {
  const rows = await db.execute<ReleasedAssessmentRow>(sql`
    select a.id, s.task_id, t.title as task_title, s.attempt, a.review_status, a.score, a.override_score, a.max_score, t.max_score as task_max_score, a.result, a.override_criteria,
           a.override_feedback, a.queue_item_id, a.submission_id, a.kind, coalesce(pv.rubric, '[]'::jsonb) as rubric, coalesce(a.released_at, a.created_at) as released_at, s.purged_at,
           (select rs.attempt from assessments ra join submissions rs on rs.id = ra.submission_id where ra.id = a.reused_from_id) as reused_from_attempt
    from submissions s
    join tasks t on t.id = s.task_id
    join assessments a on a.submission_id = s.id
    left join prompt_versions pv on pv.id = a.prompt_version_id
    where s.id = ${submissionId} and s.course_id = ${who.courseId} and s.student_id = ${who.studentId}
      and ${releasedToStudentSql('a', 't')}
    order by a.id desc limit 1`);
  return rows.rows[0];
}

/**
 * Work handed in to be graded by hand: a manual assessment waiting for the instructor (no queue item, no model, no
 * score yet; never released before it is graded). `note` says why it is graded by hand.
 */
export async function insertManualAssessment(
  db: Db,
  a: { platformId: number; courseId: number; taskId: number; submissionId: number; promptVersionId: number | null; maxScore: number; note: string },
): Promise<number> {
  const [row] = await db
    .insert(assessments)
    .values({ kind: 'manual', platformId: a.platformId, courseId: a.courseId, taskId: a.taskId, submissionId: a.submissionId, promptVersionId: a.promptVersionId, model: 'manual', maxScore: a.maxScore, needsReview: true, reviewNote: a.note })
    .returning({ id: assessments.id });
  return row!.id;
}

/** Whether the submission has been handed to the instructor to grade by hand (a manual assessment). */
export async function hasManualAssessment(db: Db, submissionId: number): Promise<boolean> {
  const rows = await db.execute<{ found: boolean }>(sql`select exists (select 1 from assessments where submission_id = ${submissionId} and kind = 'manual') as found`);
  return Boolean(rows.rows[0]?.found);
}
