import { sql } from 'drizzle-orm';
import { check, index, integer, numeric, pgTable, real, text, unique } from 'drizzle-orm/pg-core';
import { courses, ltiPlatforms, users } from '../tenancy/tenancy.table.js';
import { at, createdAt, id, ref, updatedAt } from '../columns.js';

export const TASK_TYPES = ['essay', 'short_answer', 'code', 'reflection', 'other'] as const;
export type TaskType = (typeof TASK_TYPES)[number];
export const RELEASE_POLICIES = ['after_approval', 'immediately'] as const;
export type ReleasePolicy = (typeof RELEASE_POLICIES)[number];
/** Which attempt's grade is the task's grade (the one passed back to the LMS). */
export const ATTEMPT_POLICIES = ['last', 'best'] as const;
export type AttemptPolicy = (typeof ATTEMPT_POLICIES)[number];
/** Work handed in after the due date: taken and marked late, or refused. */
export const LATE_POLICIES = ['accept', 'refuse'] as const;
export type LatePolicy = (typeof LATE_POLICIES)[number];

/** A learning task: one LTI resource link (and its AGS line item) in a course. */
export const tasks = pgTable(
  'tasks',
  {
    id: id(),
    courseId: ref('course_id').notNull().references(() => courses.id),
    /** Null for a task created in the tool and not yet placed in the LMS. */
    resourceLinkId: text('resource_link_id'),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    /** What the work is judged on, in the instructor's words: the prompt's `{task_criteria}` and the student's task page. */
    criteria: text('criteria').notNull().default(''),
    taskType: text('task_type').$type<TaskType>().notNull().default('essay'),
    maxScore: numeric('max_score', { precision: 8, scale: 2, mode: 'number' }).notNull().default(100),
    releasePolicy: text('release_policy').$type<ReleasePolicy>().notNull().default('after_approval'),
    /**
     * With release policy `immediately`: the lowest confidence (0–1, the validated result's) released without the
     * instructor. Null: any result that passed validation unflagged. Flagged results always wait.
     */
    autoReleaseMinConfidence: real('auto_release_min_confidence'),
    maxAttempts: integer('max_attempts').notNull().default(1),
    attemptPolicy: text('attempt_policy').$type<AttemptPolicy>().notNull().default('last'),
    dueAt: at('due_at'),
    latePolicy: text('late_policy').$type<LatePolicy>().notNull().default('accept'),
    /** Shown to a student whose work waits for its batch: what to do meanwhile (seed §5, the interim reflection prompt). */
    waitingNote: text('waiting_note').notNull().default(''),
    /** AGS: the line item of this task, and the course's line item container (for background passback). */
    lineItemUrl: text('line_item_url'),
    /** When a deep-linking answer placed the task in the LMS (a task is placed once: a second would add a second column). */
    placedAt: at('placed_at'),
    lineItemsUrl: text('line_items_url'),
    /** The activity's page in the LMS, when its return URL names it (Moodle); e-mails about the task link there. */
    lmsUrl: text('lms_url'),
    /**
     * The registration (client) whose launches gave the line item URLs: only its token may write that column (Moodle
     * binds a column to the tool registration that made it). Null: the course's platform.
     */
    registrationId: ref('registration_id').references(() => ltiPlatforms.id),
    status: text('status').$type<'active' | 'archived'>().notNull().default('active'),
    /** Minutes an instructor takes to grade one submission of this task by hand (the ROI report; null: the platform's default). */
    manualMinutesPerAssessment: integer('manual_minutes_per_assessment'),
    createdBy: ref('created_by').references(() => users.id),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique('tasks_course_resource_link_key').on(t.courseId, t.resourceLinkId),
    index('tasks_course_idx').on(t.courseId),
    check('tasks_type_check', sql`${t.taskType} in ('essay', 'short_answer', 'code', 'reflection', 'other')`),
    check('tasks_release_policy_check', sql`${t.releasePolicy} in ('after_approval', 'immediately')`),
    check('tasks_status_check', sql`${t.status} in ('active', 'archived')`),
    check('tasks_max_score_check', sql`${t.maxScore} > 0`),
    check('tasks_max_attempts_check', sql`${t.maxAttempts} between 1 and 100`),
    check('tasks_attempt_policy_check', sql`${t.attemptPolicy} in ('last', 'best')`),
    check('tasks_late_policy_check', sql`${t.latePolicy} in ('accept', 'refuse')`),
    check('tasks_auto_release_confidence_check', sql`${t.autoReleaseMinConfidence} is null or ${t.autoReleaseMinConfidence} between 0 and 1`),
    check('tasks_manual_minutes_check', sql`${t.manualMinutesPerAssessment} is null or ${t.manualMinutesPerAssessment} between 1 and 600`),
  ],
);
