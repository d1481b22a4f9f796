import { and, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import type { AssessmentFlag } from '../../grading/rubric.js';
import { assessments, type AssessmentKind, type ReviewStatus, type SyncStatus } from './assessments.table.js';
import type { OverrideCategory } from './override-category.js';

export type AssessmentRow = typeof assessments.$inferSelect;

/** Who may see an assessment: an instructor's course, or an administrator's platform. */
export type AssessmentScope = { courseId: number } | { platformId: number };

function scopeCondition(scope: AssessmentScope): SQL {
  return 'courseId' in scope ? eq(assessments.courseId, scope.courseId) : eq(assessments.platformId, scope.platformId);
}

export async function findAssessmentInScope(db: Db, scope: AssessmentScope, id: number): Promise<AssessmentRow | undefined> {
  const [row] = await db.select().from(assessments).where(and(eq(assessments.id, id), scopeCondition(scope)));
  return row;
}

/** Locks the row until the caller's transaction ends (decisions read, then write). */
export async function lockAssessmentInCourse(db: Db, courseId: number, id: number): Promise<AssessmentRow | undefined> {
  const [row] = await db.select().from(assessments).where(and(eq(assessments.id, id), eq(assessments.courseId, courseId))).for('update');
  return row;
}

export async function listAssessmentsInCourse(db: Db, courseId: number, ids: number[]): Promise<AssessmentRow[]> {
  if (!ids.length) return [];
  return db.select().from(assessments).where(and(eq(assessments.courseId, courseId), inArray(assessments.id, ids)));
}

/** What a decision writes. Every decision bumps decision_seq; the WHERE makes it conditional. */
export interface DecisionChange {
  reviewStatus: ReviewStatus;
  reviewedBy: number;
  reviewNote?: string | null;
  overrideScore?: number | null;
  overrideCriteria?: Record<string, number> | null;
  overrideFeedback?: string | null;
  overrideReason?: string | null;
  overrideCategory?: OverrideCategory | null;
  rejectedTo?: 'queue' | 'manual' | null;
  /** Approvals and overrides release the feedback and make a grade sync due; rejections withdraw both. */
  release: boolean;
}

/**
 * Applies a decision only if the assessment is still in one of `from` and still at decision `expectedSeq`
 * (when given): a double submit or a second reviewer finds the row changed and applies nothing.
 */
export async function applyDecision(
  db: Db,
  where: { courseId: number; id: number; from: ReviewStatus[]; expectedSeq?: number; rejectedTo?: 'manual' },
  change: DecisionChange,
): Promise<AssessmentRow | undefined> {
  const conditions: SQL[] = [eq(assessments.id, where.id), eq(assessments.courseId, where.courseId), inArray(assessments.reviewStatus, where.from)];
  if (where.expectedSeq !== undefined) conditions.push(eq(assessments.decisionSeq, where.expectedSeq));
  const { release, ...values } = change;
  const [row] = await db
    .update(assessments)
    .set({
      ...values,
      reviewedAt: sql`now()`,
      decisionSeq: sql`${assessments.decisionSeq} + 1`,
      releasedAt: release ? sql`coalesce(${assessments.releasedAt}, now())` : null,
      // A new decision starts its own sync with a full set of tries; a rejection (only ever of an undecided
      // assessment, so nothing was sent) has nothing to send.
      gradeSyncStatus: release ? 'pending' : 'none',
      gradeSyncAttempts: 0,
      gradeSyncError: null,
      gradeSyncNextAt: release ? sql`now()` : null,
      updatedAt: sql`now()`,
    })
    .where(and(...conditions))
    .returning();
  return row;
}

/** Makes a failed (or stuck) sync due again, once: only from failed or pending. */
export async function requestSyncAgain(db: Db, courseId: number, id: number): Promise<AssessmentRow | undefined> {
  const [row] = await db
    .update(assessments)
    .set({ gradeSyncStatus: 'pending', gradeSyncAttempts: 0, gradeSyncNextAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(eq(assessments.id, id), eq(assessments.courseId, courseId), inArray(assessments.gradeSyncStatus, ['failed', 'pending']), inArray(assessments.reviewStatus, ['approved', 'overridden'])))
    .returning();
  return row;
}

export interface ReviewListFilter {
  status: 'pending' | 'manual' | 'appeals' | 'approved' | 'overridden' | 'all';
  taskId?: number;
  /** A flag code, 'any' (flagged) or 'none' (not flagged). */
  flag?: string;
  /** Only those whose computed confidence is below this (0..1). */
  confidenceBelow?: number;
  scoreMin?: number;
  scoreMax?: number;
}

export interface ReviewListItem {
  id: number;
  taskId: number;
  taskTitle: string;
  studentName: string;
  kind: AssessmentKind;
  attempt: number;
  score: number | null;
  maxScore: number;
  overrideScore: number | null;
  computedConfidence: number | null;
  flags: AssessmentFlag[];
  needsReview: boolean;
  reviewStatus: ReviewStatus;
  rejectedTo: 'queue' | 'manual' | null;
  decisionSeq: number;
  gradeSyncStatus: SyncStatus;
  gradeSyncError: string | null;
  createdAt: Date;
  /** A student appealed this result and waits for the answer. */
  appealOpen: boolean;
}

function listCondition(scope: AssessmentScope, f: ReviewListFilter): SQL {
  const parts: SQL[] = ['courseId' in scope ? sql`a.course_id = ${scope.courseId}` : sql`a.platform_id = ${scope.platformId}`];
  if (f.status === 'pending') parts.push(sql`a.review_status = 'pending_review'`);
  // To grade by hand: rejected to the instructor, or handed in for manual grading and not graded yet.
  else if (f.status === 'manual') parts.push(sql`((a.review_status = 'rejected' and a.rejected_to = 'manual') or (a.kind = 'manual' and a.review_status = 'pending_review'))`);
  else if (f.status === 'appeals') parts.push(sql`exists (select 1 from appeals ap where ap.assessment_id = a.id and ap.status = 'open')`);
  else if (f.status !== 'all') parts.push(sql`a.review_status = ${f.status}`);
  if (f.taskId) parts.push(sql`a.task_id = ${f.taskId}`);
  if (f.flag === 'any') parts.push(sql`(a.needs_review or jsonb_array_length(a.flags) > 0)`);
  else if (f.flag === 'none') parts.push(sql`not a.needs_review and jsonb_array_length(a.flags) = 0`);
  else if (f.flag) parts.push(sql`a.flags @> ${JSON.stringify([{ code: f.flag }])}::jsonb`);
  if (f.confidenceBelow !== undefined) parts.push(sql`coalesce(a.computed_confidence, 0) < ${f.confidenceBelow}`);
  if (f.scoreMin !== undefined) parts.push(sql`a.score >= ${f.scoreMin}`);
  if (f.scoreMax !== undefined) parts.push(sql`a.score <= ${f.scoreMax}`);
  return sql.join(parts, sql` and `);
}

/** Open appeals first (a student is waiting for an answer), then flagged (a human must look at those), then oldest first. */
export async function listForReview(db: Db, scope: AssessmentScope, f: ReviewListFilter, limit = 200): Promise<ReviewListItem[]> {
  const rows = await db.execute<{
    id: number; task_id: number; task_title: string; student_name: string | null; kind: AssessmentKind; attempt: number; score: number | null; max_score: number;
    override_score: number | null; computed_confidence: number | null; flags: AssessmentFlag[]; needs_review: boolean; review_status: ReviewStatus;
    rejected_to: 'queue' | 'manual' | null; decision_seq: number; grade_sync_status: SyncStatus; grade_sync_error: string | null; created_at: Date; appeal_open: boolean;
  }>(sql`
    select a.id, a.task_id, t.title as task_title, coalesce(u.name, nullif(trim(concat(u.given_name, ' ', u.family_name)), ''), 'Student ' || u.id) as student_name,
           a.kind, s.attempt, a.score, a.max_score, a.override_score, a.computed_confidence, a.flags, a.needs_review, a.review_status, a.rejected_to,
           a.decision_seq, a.grade_sync_status, a.grade_sync_error, a.created_at,
           exists (select 1 from appeals ap where ap.assessment_id = a.id and ap.status = 'open') as appeal_open
    from assessments a
    join tasks t on t.id = a.task_id
    join submissions s on s.id = a.submission_id
    join users u on u.id = s.student_id
    where ${listCondition(scope, f)}
    order by appeal_open desc, (a.needs_review or jsonb_array_length(a.flags) > 0) desc, a.created_at asc, a.id asc
    limit ${limit}`);
  return rows.rows.map((r) => ({
    id: Number(r.id),
    taskId: Number(r.task_id),
    taskTitle: r.task_title,
    studentName: r.student_name ?? 'Student',
    kind: r.kind,
    attempt: r.attempt,
    score: r.score == null ? null : Number(r.score),
    maxScore: Number(r.max_score),
    overrideScore: r.override_score == null ? null : Number(r.override_score),
    computedConfidence: r.computed_confidence,
    flags: r.flags ?? [],
    needsReview: r.needs_review,
    reviewStatus: r.review_status,
    rejectedTo: r.rejected_to,
    decisionSeq: r.decision_seq,
    gradeSyncStatus: r.grade_sync_status,
    gradeSyncError: r.grade_sync_error,
    createdAt: new Date(r.created_at),
    appealOpen: r.appeal_open,
  }));
}

/** The flag codes present in a course, for the filter's choices. */
export async function flagCodesInCourse(db: Db, courseId: number): Promise<string[]> {
  const rows = await db.execute<{ code: string }>(sql`
    select distinct f->>'code' as code from assessments a, jsonb_array_elements(a.flags) f where a.course_id = ${courseId} order by 1`);
  return rows.rows.map((r) => r.code);
}

/** The people and things around an assessment, for the review page. */
export interface ReviewContext {
  taskTitle: string;
  taskDescription: string;
  taskMaxScore: number;
  releasePolicy: 'after_approval' | 'immediately';
  autoReleaseMinConfidence: number | null;
  studentId: number;
  studentName: string;
  studentSub: string;
  attempt: number;
  submittedAt: Date;
  content: Buffer | null;
  contentFormat: 'text' | 'markdown';
  /** The name of the file handed in (null for typed work, or once retention removed the content). */
  originalFilename: string | null;
  purgedAt: Date | null;
  reviewerName: string | null;
  /** Null for work graded by hand without a rubric. */
  promptVersion: number | null;
}

export async function reviewContext(db: Db, a: AssessmentRow): Promise<ReviewContext> {
  const rows = await db.execute<{
    task_title: string; task_description: string; task_max_score: number; release_policy: 'after_approval' | 'immediately'; auto_release_min_confidence: number | null; student_id: number;
    student_name: string | null; student_sub: string; attempt: number; submitted_at: Date; content: Buffer | null; content_format: 'text' | 'markdown';
    original_filename: string | null; purged_at: Date | null; reviewer_name: string | null; prompt_version: number | null;
  }>(sql`
    select t.title as task_title, t.description as task_description, t.max_score as task_max_score, t.release_policy, t.auto_release_min_confidence,
           s.student_id, coalesce(u.name, nullif(trim(concat(u.given_name, ' ', u.family_name)), '')) as student_name, u.sub as student_sub,
           s.attempt, s.created_at as submitted_at, s.content, s.content_format, s.original_filename, s.purged_at,
           (select name from users r where r.id = ${a.reviewedBy}) as reviewer_name,
           (select version from prompt_versions pv where pv.id = ${a.promptVersionId}) as prompt_version
    from tasks t, submissions s join users u on u.id = s.student_id
    where t.id = ${a.taskId} and s.id = ${a.submissionId}`);
  const r = rows.rows[0];
  if (!r) throw new Error(`assessment ${a.id} lost its task or submission`);
  return {
    taskTitle: r.task_title,
    taskDescription: r.task_description,
    taskMaxScore: Number(r.task_max_score),
    releasePolicy: r.release_policy,
    autoReleaseMinConfidence: r.auto_release_min_confidence,
    studentId: Number(r.student_id),
    studentName: r.student_name ?? 'Student',
    studentSub: r.student_sub,
    attempt: r.attempt,
    submittedAt: new Date(r.submitted_at),
    content: r.content,
    contentFormat: r.content_format,
    originalFilename: r.original_filename,
    purgedAt: r.purged_at ? new Date(r.purged_at) : null,
    reviewerName: r.reviewer_name,
    promptVersion: r.prompt_version,
  };
}

/** Decided assessments with a model score, for agreement statistics. */
export interface DecidedRow {
  id: number;
  taskId: number;
  taskTitle: string;
  promptVersionId: number;
  promptVersion: number;
  reviewStatus: 'approved' | 'overridden';
  score: number;
  overrideScore: number | null;
  maxScore: number;
  result: Record<string, unknown> | null;
  overrideCriteria: Record<string, number> | null;
  rubric: Array<{ id: string; name: string; maxPoints: number }>;
  reviewedAt: Date;
  /** What was wrong with the model's grade, for an override (null before categories existed). */
  overrideCategory: OverrideCategory | null;
  computedConfidence: number | null;
}

export async function listDecided(db: Db, courseId: number, f: { taskId?: number; promptVersionId?: number }): Promise<DecidedRow[]> {
  const rows = await db.execute<{
    id: number; task_id: number; task_title: string; prompt_version_id: number; prompt_version: number; review_status: 'approved' | 'overridden';
    score: number; override_score: number | null; max_score: number; result: Record<string, unknown> | null; override_criteria: Record<string, number> | null;
    rubric: Array<{ id: string; name: string; maxPoints: number }>; reviewed_at: Date; override_category: OverrideCategory | null; computed_confidence: number | null;
  }>(sql`
    select a.id, a.task_id, t.title as task_title, a.prompt_version_id, pv.version as prompt_version, a.review_status, a.score, a.override_score,
           a.max_score, a.result, a.override_criteria, pv.rubric, a.reviewed_at, a.override_category, a.computed_confidence
    from assessments a join tasks t on t.id = a.task_id join prompt_versions pv on pv.id = a.prompt_version_id
    where a.course_id = ${courseId} and a.kind = 'llm' and a.review_status in ('approved', 'overridden') and a.score is not null and a.reviewed_at is not null
      ${f.taskId ? sql`and a.task_id = ${f.taskId}` : sql``}
      ${f.promptVersionId ? sql`and a.prompt_version_id = ${f.promptVersionId}` : sql``}
    order by a.reviewed_at, a.id`);
  return rows.rows.map((r) => ({
    id: Number(r.id),
    taskId: Number(r.task_id),
    taskTitle: r.task_title,
    promptVersionId: Number(r.prompt_version_id),
    promptVersion: r.prompt_version,
    reviewStatus: r.review_status,
    score: Number(r.score),
    overrideScore: r.override_score == null ? null : Number(r.override_score),
    maxScore: Number(r.max_score),
    result: r.result,
    overrideCriteria: r.override_criteria,
    rubric: r.rubric,
    reviewedAt: new Date(r.reviewed_at),
    overrideCategory: r.override_category,
    computedConfidence: r.computed_confidence,
  }));
}

/** The prompt versions that graded something in the course, for the analytics filter. */
export async function promptVersionsInCourse(db: Db, courseId: number): Promise<Array<{ id: number; taskId: number; taskTitle: string; version: number }>> {
  const rows = await db.execute<{ id: number; task_id: number; task_title: string; version: number }>(sql`
    select distinct pv.id, a.task_id, t.title as task_title, pv.version
    from assessments a join prompt_versions pv on pv.id = a.prompt_version_id join tasks t on t.id = a.task_id
    where a.course_id = ${courseId} and a.kind = 'llm' order by t.title, pv.version`);
  return rows.rows.map((r) => ({ id: Number(r.id), taskId: Number(r.task_id), taskTitle: r.task_title, version: r.version }));
}

/** A decided LLM result's computed confidence and whether it was approved as it was, for the calibration table. */
export interface ConfidenceOutcomeRow {
  taskId: number;
  taskTitle: string;
  promptVersionId: number;
  promptVersion: number;
  confidence: number | null;
  /** Approved unchanged; false for an override or a rejection. */
  unchanged: boolean;
}

/** Every decision on an LLM result of the course (approved, overridden or rejected), with its computed confidence. */
export async function listConfidenceOutcomes(db: Db, courseId: number, f: { taskId?: number; promptVersionId?: number }): Promise<ConfidenceOutcomeRow[]> {
  const rows = await db.execute<{ task_id: number; task_title: string; prompt_version_id: number; prompt_version: number; computed_confidence: number | null; review_status: ReviewStatus }>(sql`
    select a.task_id, t.title as task_title, a.prompt_version_id, pv.version as prompt_version, a.computed_confidence, a.review_status
    from assessments a join tasks t on t.id = a.task_id join prompt_versions pv on pv.id = a.prompt_version_id
    where a.course_id = ${courseId} and a.kind = 'llm' and a.review_status in ('approved', 'overridden', 'rejected') and a.reviewed_at is not null
      ${f.taskId ? sql`and a.task_id = ${f.taskId}` : sql``}
      ${f.promptVersionId ? sql`and a.prompt_version_id = ${f.promptVersionId}` : sql``}
    order by t.title, a.task_id, pv.version, a.id`);
  return rows.rows.map((r) => ({
    taskId: Number(r.task_id),
    taskTitle: r.task_title,
    promptVersionId: Number(r.prompt_version_id),
    promptVersion: r.prompt_version,
    confidence: r.computed_confidence,
    unchanged: r.review_status === 'approved',
  }));
}
