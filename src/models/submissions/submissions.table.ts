import { sql } from 'drizzle-orm';
import { check, customType, index, integer, pgTable, text, unique } from 'drizzle-orm/pg-core';
import { courses, users } from '../tenancy/tenancy.table.js';
import { tasks } from '../tasks/tasks.table.js';
import { at, createdAt, id, ref } from '../columns.js';

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

/** A student's work. The content is encrypted at rest (src/crypto/content.ts: version | key id | iv | tag | AES-256-GCM ciphertext). */
export const submissions = pgTable(
  'submissions',
  {
    id: id(),
    taskId: ref('task_id').notNull().references(() => tasks.id),
    courseId: ref('course_id').notNull().references(() => courses.id),
    studentId: ref('student_id').notNull().references(() => users.id),
    attempt: integer('attempt').notNull(),
    content: bytea('content'),
    contentFormat: text('content_format').$type<'text' | 'markdown'>().notNull().default('text'),
    originalFilename: text('original_filename'),
    charCount: integer('char_count').notNull(),
    /** Keyed hash of the normalized text: finds identical resubmissions without decrypting. */
    contentHmac: text('content_hmac').notNull(),
    submittedAt: createdAt(),
    /** Set when retention erased the content; the row stays so grades keep their history. */
    purgedAt: at('purged_at'),
  },
  (t) => [
    unique('submissions_task_student_attempt_key').on(t.taskId, t.studentId, t.attempt),
    index('submissions_student_idx').on(t.studentId, t.taskId),
    index('submissions_course_idx').on(t.courseId),
    check('submissions_attempt_check', sql`${t.attempt} >= 1`),
    check('submissions_format_check', sql`${t.contentFormat} in ('text', 'markdown')`),
  ],
);
