import { sql } from 'drizzle-orm';
import { check, index, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { courses, ltiPlatforms, users } from '../tenancy/tenancy.table.js';
import { submissions } from '../submissions/submissions.table.js';
import { assessments } from '../assessments/assessments.table.js';
import { at, createdAt, id, ref } from '../columns.js';

export const APPEAL_STATUSES = ['open', 'upheld', 'changed'] as const;
export type AppealStatus = (typeof APPEAL_STATUSES)[number];

/**
 * A student's appeal of a released result: once per attempt (submission), with their reason; the instructor upholds
 * the result or changes it, with a reply. Reason and reply go with the work under retention and erasure.
 */
export const appeals = pgTable(
  'appeals',
  {
    id: id(),
    platformId: ref('platform_id').notNull().references(() => ltiPlatforms.id),
    courseId: ref('course_id').notNull().references(() => courses.id),
    taskId: ref('task_id').notNull(),
    submissionId: ref('submission_id').notNull().references(() => submissions.id),
    assessmentId: ref('assessment_id').notNull().references(() => assessments.id),
    studentId: ref('student_id').notNull().references(() => users.id),
    reason: text('reason').notNull(),
    status: text('status').$type<AppealStatus>().notNull().default('open'),
    reply: text('reply'),
    resolvedBy: ref('resolved_by').references(() => users.id),
    resolvedAt: at('resolved_at'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('appeals_one_per_submission').on(t.submissionId),
    index('appeals_course_open_idx').on(t.courseId, t.status),
    check('appeals_status_check', sql`${t.status} in ('open', 'upheld', 'changed')`),
    check('appeals_resolved_check', sql`${t.status} = 'open' or (${t.reply} is not null and ${t.resolvedAt} is not null)`),
  ],
);
