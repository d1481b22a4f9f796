import { sql } from 'drizzle-orm';
import { check, index, jsonb, numeric, pgTable, smallint, text, unique, uniqueIndex } from 'drizzle-orm/pg-core';
import { courses, ltiPlatforms, users } from '../tenancy/tenancy.table.js';
import { tasks } from '../tasks/tasks.table.js';
import { submissions } from '../submissions/submissions.table.js';
import { at, createdAt, id, micros, ref } from '../columns.js';
import { promptVersions } from './prompts.table.js';

export const AB_ARMS = ['A', 'B'] as const;
export type AbArm = (typeof AB_ARMS)[number];

/**
 * Two prompt versions of one task graded side by side: A is the version active when the test started, B the one
 * tried against it. New submissions go to B by a hash of (test, submission) below `share_b` percent (ab-split.ts),
 * so the split is reproducible. Ending the test names the winner, which becomes the task's active version.
 */
export const promptAbTests = pgTable(
  'prompt_ab_tests',
  {
    id: id(),
    platformId: ref('platform_id').notNull().references(() => ltiPlatforms.id),
    courseId: ref('course_id').notNull().references(() => courses.id),
    taskId: ref('task_id').notNull().references(() => tasks.id),
    versionAId: ref('version_a_id').notNull().references(() => promptVersions.id),
    versionBId: ref('version_b_id').notNull().references(() => promptVersions.id),
    /** Percent of new submissions graded by B (1–99). */
    shareB: smallint('share_b').notNull(),
    status: text('status').$type<'running' | 'ended'>().notNull().default('running'),
    winnerVersionId: ref('winner_version_id').references(() => promptVersions.id),
    startedBy: ref('started_by').references(() => users.id),
    endedBy: ref('ended_by').references(() => users.id),
    createdAt: createdAt(),
    endedAt: at('ended_at'),
  },
  (t) => [
    // One running test per task: a submission has one answer to "which version grades me".
    uniqueIndex('prompt_ab_tests_one_running_per_task').on(t.taskId).where(sql`${t.status} = 'running'`),
    index('prompt_ab_tests_course_idx').on(t.courseId, t.taskId),
    check('prompt_ab_tests_status_check', sql`${t.status} in ('running', 'ended')`),
    check('prompt_ab_tests_share_check', sql`${t.shareB} between 1 and 99`),
    check('prompt_ab_tests_two_versions_check', sql`${t.versionAId} <> ${t.versionBId}`),
  ],
);

/**
 * The other arm's grade of a submission in a paired comparison, made by a real-time call: never an assessment, so
 * no student, gradebook or review page sees it; it only answers "how would the other version have graded this?".
 */
export const abPairedGrades = pgTable(
  'ab_paired_grades',
  {
    id: id(),
    abTestId: ref('ab_test_id').notNull().references(() => promptAbTests.id),
    submissionId: ref('submission_id').notNull().references(() => submissions.id),
    promptVersionId: ref('prompt_version_id').notNull().references(() => promptVersions.id),
    arm: text('arm').$type<AbArm>().notNull(),
    /** Null when the answer was unusable. */
    score: numeric('score', { precision: 8, scale: 2, mode: 'number' }),
    criteria: jsonb('criteria').$type<Record<string, number>>().notNull().default(sql`'{}'::jsonb`),
    costMicros: micros('cost_micros').notNull().default(0),
    createdAt: createdAt(),
  },
  (t) => [
    unique('ab_paired_grades_test_submission_key').on(t.abTestId, t.submissionId),
    check('ab_paired_grades_arm_check', sql`${t.arm} in ('A', 'B')`),
  ],
);
