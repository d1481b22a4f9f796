import { sql } from 'drizzle-orm';
import { type AnyPgColumn, check, integer, jsonb, numeric, pgTable, text, unique } from 'drizzle-orm/pg-core';
import { courses, ltiPlatforms, users } from '../tenancy/tenancy.table.js';
import { tasks } from '../tasks/tasks.table.js';
import { createdAt, id, ref, updatedAt } from '../columns.js';
import type { RubricCriterion } from '../../grading/rubric.js';

/** One grading prompt per task; its versions are append-only. */
export const prompts = pgTable('prompts', {
  id: id(),
  taskId: ref('task_id').notNull().unique().references(() => tasks.id),
  activeVersionId: ref('active_version_id').references((): AnyPgColumn => promptVersions.id),
  status: text('status').$type<'active' | 'archived'>().notNull().default('active'),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/** An immutable prompt version: queue items and assessments point here, so it is never updated or deleted. */
export const promptVersions = pgTable(
  'prompt_versions',
  {
    id: id(),
    promptId: ref('prompt_id').notNull().references(() => prompts.id),
    version: integer('version').notNull(),
    template: text('template').notNull(),
    systemInstructions: text('system_instructions').notNull().default(''),
    /** Seen by graders (and the model), never by students. */
    graderInstructions: text('grader_instructions').notNull().default(''),
    provider: text('provider').notNull().default('openai'),
    model: text('model').notNull(),
    temperature: numeric('temperature', { precision: 3, scale: 2, mode: 'number' }).notNull(),
    maxOutputTokens: integer('max_output_tokens').notNull(),
    rubric: jsonb('rubric').$type<RubricCriterion[]>().notNull(),
    maxScore: numeric('max_score', { precision: 8, scale: 2, mode: 'number' }).notNull(),
    /** The exact JSON schema sent as response_format, frozen with the version. */
    outputSchema: jsonb('output_schema').$type<Record<string, unknown>>().notNull(),
    authorId: ref('author_id').references(() => users.id),
    note: text('note').notNull().default(''),
    /** Set when this version was made by rolling back to another. */
    restoredFromVersion: integer('restored_from_version'),
    createdAt: createdAt(),
  },
  (t) => [
    unique('prompt_versions_prompt_version_key').on(t.promptId, t.version),
    check('prompt_versions_temperature_check', sql`${t.temperature} between 0 and 2`),
    check('prompt_versions_max_tokens_check', sql`${t.maxOutputTokens} between 1 and 16000`),
  ],
);

/** A library of prompt templates: global (seeded, no course) or saved by an instructor for their course. */
export const promptTemplates = pgTable(
  'prompt_templates',
  {
    id: id(),
    platformId: ref('platform_id').references(() => ltiPlatforms.id),
    courseId: ref('course_id').references(() => courses.id),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    taskType: text('task_type').notNull().default('other'),
    template: text('template').notNull(),
    systemInstructions: text('system_instructions').notNull().default(''),
    graderInstructions: text('grader_instructions').notNull().default(''),
    model: text('model').notNull(),
    temperature: numeric('temperature', { precision: 3, scale: 2, mode: 'number' }).notNull(),
    maxOutputTokens: integer('max_output_tokens').notNull(),
    rubric: jsonb('rubric').$type<RubricCriterion[]>().notNull(),
    /** A maximum score separate from the rubric's; null: the sum of the criteria's points. */
    maxScore: numeric('max_score', { precision: 8, scale: 2, mode: 'number' }),
    createdBy: ref('created_by').references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [unique('prompt_templates_course_name_key').on(t.courseId, t.name).nullsNotDistinct()],
);
