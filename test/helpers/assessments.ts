import { sql } from 'drizzle-orm';
import { encryptContent, contentHmac } from '../../src/crypto/content.js';
import { gradingJsonSchema } from '../../src/grading/result.schema.js';
import { assessments } from '../../src/models/assessments/assessments.table.js';
import type { AssessmentFlag } from '../../src/grading/rubric.js';
import { appendVersion, findActiveVersion, type PromptVersionRow } from '../../src/models/prompts/prompts.repository.js';
import type { RubricCriterion } from '../../src/grading/rubric.js';
import { insertQueueItem } from '../../src/models/queue/queue.repository.js';
import { insertSubmission } from '../../src/models/submissions/submissions.repository.js';
import { customIdFor } from '../../src/providers/index.js';
import type { Stack } from './stack.js';

/**
 * Assessments as the batch pipeline leaves them, written through the repositories: a prompt version with a
 * rubric, an encrypted submission, a completed queue item and the assessment with a schema-valid result.
 * For tests of what comes after grading (review, feedback, grade passback, analytics).
 */

export const ESSAY_RUBRIC: RubricCriterion[] = [
  { id: 'thesis', name: 'Thesis', description: 'A clear, arguable claim.', maxPoints: 40 },
  { id: 'evidence', name: 'Evidence', description: 'Sources and examples that support the claim.', maxPoints: 40 },
  { id: 'clarity', name: 'Clarity', description: 'Organisation and language.', maxPoints: 20 },
];

export const SUBS = {
  instructor: '8f6b2c1e-4d3a-4b5c-9e7f-1a2b3c4d5e01',
  student1: '8f6b2c1e-4d3a-4b5c-9e7f-1a2b3c4d5e02',
  student2: '8f6b2c1e-4d3a-4b5c-9e7f-1a2b3c4d5e03',
  student3: '8f6b2c1e-4d3a-4b5c-9e7f-1a2b3c4d5e04',
} as const;

export async function idOf(stack: Stack, query: ReturnType<typeof sql>): Promise<number> {
  const rows = await stack.db.db.execute<{ id: number }>(query);
  const id = rows.rows[0]?.id;
  if (id == null) throw new Error('fixture lookup found nothing');
  return Number(id);
}

/** The home course's task for a dev LMS link (after a launch of it), and the ids around it. */
export async function homeIds(stack: Stack, taskTitleLike = '%French Revolution%') {
  const rows = await stack.db.db.execute<{ platform_id: number; course_id: number; task_id: number; instructor_id: number }>(sql`
    select c.platform_id, c.id as course_id, t.id as task_id, (select id from users u where u.platform_id = c.platform_id and u.sub = ${SUBS.instructor}) as instructor_id
    from tasks t join courses c on c.id = t.course_id join lti_platforms p on p.id = c.platform_id
    where c.context_id = 'course-101' and p.client_id = 'llm-assess-dev' and t.title like ${taskTitleLike} order by t.id limit 1`);
  const r = rows.rows[0];
  if (!r) throw new Error(`no task like ${taskTitleLike} in the home course: launch it first`);
  return { platformId: Number(r.platform_id), courseId: Number(r.course_id), taskId: Number(r.task_id), instructorId: Number(r.instructor_id) };
}

/** The task's active prompt version, created (essay rubric, max = the task's max score) when it has none. */
export async function ensurePromptVersion(stack: Stack, taskId: number, authorId: number | null = null): Promise<PromptVersionRow> {
  const db = stack.db.db;
  const existing = await findActiveVersion(db, taskId);
  if (existing) return existing;
  const max = await idOf(stack, sql`select max_score::int as id from tasks where id = ${taskId}`);
  const scale = max / 100;
  const rubric = ESSAY_RUBRIC.map((c) => ({ ...c, maxPoints: Math.round(c.maxPoints * scale * 100) / 100 }));
  return db.transaction((tx) =>
    appendVersion(tx, taskId, authorId, {
      template: '## Task: {task_title}\n\n{task_description}\n\n## Rubric (maximum {max_score} points)\n\n{task_criteria}\n\n## The student\'s work\n\n{student_submission}',
      systemInstructions: 'You are a fair and careful grader.',
      graderInstructions: 'Grade the argument, not the style alone.',
      provider: 'openai',
      model: 'gpt-4o-mini',
      temperature: 0,
      maxOutputTokens: 1200,
      rubric,
      maxScore: max,
      outputSchema: gradingJsonSchema(rubric, max),
      note: 'fixture',
    }),
  );
}

export interface AssessmentFixture {
  taskId: number;
  studentSub: string;
  /** Criterion id → points (defaults: 80% of each maximum). Total = their sum. */
  criteria?: Record<string, number>;
  confidence?: number;
  flags?: AssessmentFlag[];
  /** No usable result (malformed output): score and result are null. */
  unusable?: boolean;
  text?: string;
  comments?: string;
  /** Release now (a task whose policy releases before review). */
  released?: boolean;
  costMicros?: number;
}

export interface CreatedAssessment {
  id: number;
  submissionId: number;
  queueItemId: number;
  score: number | null;
  studentId: number;
}

/** One graded submission (the student's next attempt at the task) and its assessment, pending review. */
export async function createAssessment(stack: Stack, f: AssessmentFixture): Promise<CreatedAssessment> {
  const db = stack.db.db;
  const task = (await db.execute<{ course_id: number; platform_id: number; title: string; description: string }>(sql`
    select t.course_id, c.platform_id, t.title, t.description from tasks t join courses c on c.id = t.course_id where t.id = ${f.taskId}`)).rows[0]!;
  const studentId = await idOf(stack, sql`select id from users where platform_id = ${task.platform_id} and sub = ${f.studentSub}`);
  const version = await ensurePromptVersion(stack, f.taskId);
  const attempt = 1 + (await idOf(stack, sql`select count(*)::int as id from submissions where task_id = ${f.taskId} and student_id = ${studentId}`));
  const text = f.text ?? `The French Revolution began because of fiscal crisis, Enlightenment ideas and a rigid social order (attempt ${attempt}).`;
  const submission = await insertSubmission(db, {
    taskId: f.taskId,
    courseId: Number(task.course_id),
    studentId,
    attempt,
    content: encryptContent(stack.config.encryptionKey, text, { taskId: f.taskId, studentId, attempt }),
    contentFormat: 'text',
    charCount: text.length,
    contentHmac: contentHmac(stack.config.encryptionKey, text),
  });
  const queueItem = await insertQueueItem(db, {
    platformId: Number(task.platform_id),
    courseId: Number(task.course_id),
    taskId: f.taskId,
    submissionId: submission.id,
    promptVersionId: version.id,
    status: 'completed',
    model: version.model,
    estInputTokens: 420,
    estOutputTokens: 300,
    estCostMicros: 120,
    attempts: 1,
    completedAt: new Date(),
  });
  const criteria = Object.fromEntries(version.rubric.map((c) => [c.id, f.criteria?.[c.id] ?? Math.round(c.maxPoints * 0.8 * 100) / 100]));
  const total = Math.round(Object.values(criteria).reduce((a, b) => a + b, 0) * 100) / 100;
  const confidence = f.confidence ?? 0.9;
  const result = f.unusable
    ? null
    : {
        criteria: Object.fromEntries(Object.entries(criteria).map(([id, score]) => [id, { score, justification: `Justification for ${id}: cites the second paragraph.` }])),
        total_score: total,
        strengths: ['Names three causes', 'Clear structure'],
        improvements: ['Cite a primary source', 'Explain how the causes interact'],
        comments: f.comments ?? 'A **solid** answer. See [the reading](https://example.org/reading).',
        reasoning: 'Grader-only: the thesis is explicit; evidence is thin.',
        confidence,
      };
  const flags = f.flags ?? [];
  const [row] = await db
    .insert(assessments)
    .values({
      platformId: Number(task.platform_id),
      courseId: Number(task.course_id),
      taskId: f.taskId,
      submissionId: submission.id,
      queueItemId: queueItem.id,
      customId: customIdFor(queueItem.id, 1),
      promptVersionId: version.id,
      model: version.model,
      result,
      rawOutput: f.unusable ? '{"criteria": {"thesis": ' : null,
      score: f.unusable ? null : total,
      maxScore: version.maxScore,
      modelConfidence: f.unusable ? null : confidence,
      computedConfidence: f.unusable ? null : Math.max(0, confidence - 0.2 * flags.filter((x) => x.code !== 'low_confidence').length),
      flags: f.unusable ? [...flags, { code: 'malformed_json', message: 'The answer is not valid JSON.' }] : flags,
      needsReview: f.unusable || flags.length > 0,
      inputTokens: 431,
      outputTokens: 287,
      actualCostMicros: f.costMicros ?? 237,
      releasedAt: f.released ? new Date() : null,
    })
    .returning();
  return { id: row!.id, submissionId: submission.id, queueItemId: queueItem.id, score: row!.score, studentId };
}

/** Every score the dev LMS received, in order. */
export async function lmsScores(stack: Stack) {
  return (await (await fetch(`${stack.devlmsUrl}/api/scores`)).json()) as Array<{ id: number; lineItemId: string; lineItemLabel: string; login: string; scoreGiven: number; scoreMaximum: number; comment: string | null; activityProgress: string; gradingProgress: string; timestamp: string }>;
}
