import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Config } from '../../src/config.js';
import { contentHmac, encryptContent } from '../../src/crypto/content.js';
import type { RootDb } from '../../src/db/db.js';
import { gradingJsonSchema } from '../../src/grading/result.schema.js';
import { customIdFor, estimateRequest } from '../../src/providers/index.js';
import { gradingRequestFor } from '../../src/grading/request.js';
import { appendVersion, type PromptVersionRow } from '../../src/models/prompts/prompts.repository.js';
import type { RubricCriterion } from '../../src/grading/rubric.js';
import { submitWork } from '../../src/models/submissions/submissions.service.js';

/**
 * A tenant of its own for each test (platform, course, instructor, administrator, a task with an active prompt,
 * LLM assessment allowed), so tests sharing a database never see each other's queue. Students submit through the
 * real service (submitWork) or, for hundreds or thousands, through bulkSubmit: the same rows, written in a few
 * statements instead of one transaction each.
 */

export const RUBRIC: RubricCriterion[] = [
  { id: 'argument', name: 'Argument', description: 'A clear, arguable claim supported with reasons.', maxPoints: 6 },
  { id: 'language', name: 'Language', description: 'Clear sentences, correct spelling and grammar.', maxPoints: 4 },
];

export interface Tenant {
  platformId: number;
  courseId: number;
  taskId: number;
  instructorId: number;
  adminId: number;
  version: PromptVersionRow;
  admin: { platformId: number; userId: number };
}

/** The model of the tenant's prompt for each provider (an Anthropic tenant's course approves Anthropic too). */
export const TENANT_MODELS = { openai: 'gpt-4o-mini', anthropic: 'claude-haiku-4-5' } as const;

export async function seedTenant(
  db: RootDb,
  options: { releasePolicy?: 'after_approval' | 'immediately'; anonymize?: boolean; maxAttempts?: number; provider?: 'openai' | 'anthropic'; systemInstructions?: string } = {},
): Promise<Tenant> {
  const provider = options.provider ?? 'openai';
  const tag = randomBytes(5).toString('hex');
  const one = async <T extends Record<string, unknown>>(q: ReturnType<typeof sql>) => (await db.execute<T>(q)).rows[0]!;
  const platform = await one<{ id: number }>(sql`insert into lti_platforms (issuer, client_id, name, ltijs_platform_id) values (${`https://lms-${tag}.test`}, ${tag}, ${`LMS ${tag}`}, ${tag}) returning id`);
  const platformId = Number(platform.id);
  const course = await one<{ id: number }>(sql`insert into courses (platform_id, deployment_id, context_id, title) values (${platformId}, 'dep', ${`ctx-${tag}`}, ${`Course ${tag}`}) returning id`);
  const courseId = Number(course.id);
  const instructor = await one<{ id: number }>(sql`insert into users (platform_id, sub, name) values (${platformId}, ${`teacher-${tag}`}, 'Tess Teacher') returning id`);
  const admin = await one<{ id: number }>(sql`insert into users (platform_id, sub, name) values (${platformId}, ${`admin-${tag}`}, 'Ada Admin') returning id`);
  await db.execute(sql`insert into memberships (course_id, user_id, role) values (${courseId}, ${Number(instructor.id)}, 'instructor')`);
  const approved = provider === 'anthropic' ? ['openai', 'anthropic'] : ['openai'];
  await db.execute(sql`insert into course_privacy (course_id, llm_allowed, anonymize, approved_providers) values (${courseId}, true, ${options.anonymize ?? true}, ${sql.param(approved)}::text[])`);
  const task = await one<{ id: number }>(sql`
    insert into tasks (course_id, resource_link_id, title, description, max_score, release_policy, max_attempts)
    values (${courseId}, ${`link-${tag}`}, 'Persuasive paragraph', 'Argue for or against school uniforms in one paragraph.', 10, ${options.releasePolicy ?? 'after_approval'}, ${options.maxAttempts ?? 3})
    returning id`);
  const taskId = Number(task.id);
  const version = await appendVersion(db, taskId, Number(instructor.id), {
    template: 'Grade the paragraph against the rubric (maximum {max_score} points).\n\n{task_criteria}\n\n{student_submission}',
    systemInstructions: options.systemInstructions ?? 'You grade short student paragraphs fairly.',
    graderInstructions: '',
    provider,
    model: TENANT_MODELS[provider],
    temperature: 0.2,
    maxOutputTokens: 600,
    rubric: RUBRIC,
    maxScore: 10,
    outputSchema: gradingJsonSchema(RUBRIC, 10),
    note: 'fixture',
  });
  return { platformId, courseId, taskId, instructorId: Number(instructor.id), adminId: Number(admin.id), version, admin: { platformId, userId: Number(admin.id) } };
}

export const ESSAYS = [
  'School uniforms should be required. They reduce visible differences in wealth, which lowers bullying, and they save families money over a year. Critics say uniforms limit self-expression, but students can still express themselves through their work and activities.',
  'I think uniforms are bad. They cost money and nobody likes them. Also they are uncomfortable.',
  'Uniforms help schools. First, they make students easy to identify on trips, which keeps them safe. Second, mornings are simpler. Finally, a shared look builds a sense of belonging to the school community.',
  'Students should choose their clothes. Choosing clothes teaches responsibility and lets students show who they are; the money argument is weak because uniforms must still be bought new each year as children grow.',
];

/** Students of the tenant's course, created in one statement. */
export async function addStudents(db: RootDb, t: Tenant, n: number): Promise<number[]> {
  const tag = randomBytes(4).toString('hex');
  const rows = await db.execute<{ id: number }>(sql`
    insert into users (platform_id, sub, name, given_name, family_name, email)
    select ${t.platformId}, ${`s-${tag}-`} || g, 'Student ' || g, 'Student', 'Number' || g, 'student' || g || ${`@${tag}.test`}
    from generate_series(1, ${n}) g returning id`);
  const ids = rows.rows.map((r) => Number(r.id));
  await db.execute(sql`insert into memberships (course_id, user_id, role) select ${t.courseId}, u, 'student' from unnest(${sql.param(ids)}::bigint[]) u`);
  return ids;
}

type SubmitConfig = Pick<Config, 'encryptionKey' | 'submissionMaxChars' | 'submissionMaxFileBytes' | 'submissionMaxDocumentBytes' | 'submissionMaxPdfPages' | 'batches'>;

/** N students submit through the real service, each in its own transaction as the route does. */
export async function submitThroughService(db: RootDb, config: SubmitConfig, t: Tenant, n: number): Promise<number[]> {
  const students = await addStudents(db, t, n);
  const items: number[] = [];
  for (const [i, studentId] of students.entries()) {
    const r = await db.transaction((tx) => submitWork(tx, config, { platformId: t.platformId, courseId: t.courseId, userId: studentId }, t.taskId, { body: { text: ESSAYS[i % ESSAYS.length], format: 'text' } }));
    items.push(r.queueItem!.id);
  }
  return items;
}

/**
 * N submissions and queue items written in bulk: encrypted content, HMAC and the estimate (exact tokens of the
 * text as sent, made once per distinct essay) as submitWork makes them. Returns the queue item ids.
 */
export async function bulkSubmit(db: RootDb, config: SubmitConfig, t: Tenant, n: number): Promise<number[]> {
  const students = await addStudents(db, t, n);
  const estimates = ESSAYS.map((text) => estimateRequest(gradingRequestFor({ version: t.version, task: { title: 'Persuasive paragraph', description: 'Argue for or against school uniforms in one paragraph.' } }, text, customIdFor(1, 1)), 'batch', { criteria: t.version.rubric.length }));
  const ids: number[] = [];
  for (let start = 0; start < students.length; start += 5000) {
    const slice = students.slice(start, start + 5000);
    const texts = slice.map((_, i) => ESSAYS[(start + i) % ESSAYS.length]!);
    const subs = await db.execute<{ id: number; student_id: number }>(sql`
      insert into submissions (task_id, course_id, student_id, attempt, content, content_format, char_count, content_hmac)
      select ${t.taskId}, ${t.courseId}, s.student, 1, s.content, 'text', s.chars, s.hmac
      from unnest(${sql.param(slice)}::bigint[], ${sql.param(slice.map((studentId, i) => encryptContent(config.encryptionKey, texts[i]!, { taskId: t.taskId, studentId, attempt: 1 })))}::bytea[],
                  ${sql.param(texts.map((x) => x.length))}::int[], ${sql.param(texts.map((x) => contentHmac(config.encryptionKey, x)))}::text[]) as s(student, content, chars, hmac)
      returning id, student_id`);
    const byStudent = new Map(subs.rows.map((r) => [Number(r.student_id), Number(r.id)]));
    const est = slice.map((_, i) => estimates[(start + i) % ESSAYS.length]!);
    const items = await db.execute<{ id: number }>(sql`
      insert into queue_items (platform_id, course_id, task_id, submission_id, prompt_version_id, model, est_input_tokens, est_output_tokens, est_cost_micros, max_attempts)
      select ${t.platformId}, ${t.courseId}, ${t.taskId}, s.sub, ${t.version.id}, ${t.version.model}, s.inp, s.outp, s.cost, ${config.batches.maxAttempts}
      from unnest(${sql.param(slice.map((s) => byStudent.get(s)!))}::bigint[], ${sql.param(est.map((e) => e.inputTokens))}::int[], ${sql.param(est.map((e) => e.outputTokens))}::int[], ${sql.param(est.map((e) => e.costMicros))}::bigint[]) as s(sub, inp, outp, cost)
      order by s.sub
      returning id`);
    ids.push(...items.rows.map((r) => Number(r.id)));
  }
  return ids;
}
