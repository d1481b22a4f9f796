import { sql } from 'drizzle-orm';
import type { Db } from '../../src/db/db.js';
import { builtinTemplates } from '../../src/models/prompts/library.js';
import type { PromptDraft } from '../../src/models/prompts/prompt-draft.js';
import { savePrompt } from '../../src/models/prompts/prompts.service.js';
import { saveCoursePrivacy } from '../../src/models/privacy/privacy.repository.js';
import { submitWork } from '../../src/models/submissions/submissions.service.js';
import { findTaskInCourse } from '../../src/models/tasks/tasks.repository.js';
import type { Stack } from './stack.js';
import type { ToolSession } from './lti-browser.js';

/**
 * Queue fixtures made with the product's own services (course settings, prompt save, student submit), so tests start
 * from states the application itself creates.
 */

export interface Home {
  platformId: number;
  courseId: number;
  /** The seeded essay (first task) and short answer (second). */
  taskId: number;
  task2Id: number | null;
  instructorId: number;
}

/** Ids of the seeded course after launches created it (instructor launch of task 1 at least). */
export async function homeIds(stack: Stack, contextId = 'course-101'): Promise<Home> {
  const rows = await stack.db.db.execute<{ platform_id: number; course_id: number; task_id: number; task2_id: number | null; instructor_id: number }>(sql`
    select c.platform_id, c.id as course_id,
           (select min(t.id) from tasks t where t.course_id = c.id) as task_id,
           (select t.id from tasks t where t.course_id = c.id order by t.id offset 1 limit 1) as task2_id,
           (select u.id from users u where u.platform_id = c.platform_id and u.sub like '%5e01') as instructor_id
    from courses c where c.context_id = ${contextId} order by c.id limit 1`);
  const r = rows.rows[0]!;
  return { platformId: Number(r.platform_id), courseId: Number(r.course_id), taskId: Number(r.task_id), task2Id: r.task2_id == null ? null : Number(r.task2_id), instructorId: Number(r.instructor_id) };
}

export async function allowLlm(db: Db, courseId: number, userId: number, allowed = true): Promise<void> {
  await saveCoursePrivacy(db, courseId, userId, { llmAllowed: allowed, anonymize: true, retentionDays: null, consentRequired: false, approvedProviders: ['openai'], realtimeOnly: false });
}

/** Saves the built-in short-answer prompt as the task's active version (as an instructor's save would). */
export async function activatePrompt(db: Db, home: Pick<Home, 'platformId' | 'courseId' | 'instructorId'>, taskId: number): Promise<void> {
  const tpl = builtinTemplates().find((t) => t.key === 'builtin:short-answer') ?? builtinTemplates()[0]!;
  const task = await findTaskInCourse(db, home.courseId, taskId);
  if (!task) throw new Error(`no task ${taskId} in course ${home.courseId}`);
  const draft = { ...tpl.content, provider: 'openai', maxScoreMode: 'sum' } as PromptDraft;
  await db.transaction((tx) => savePrompt(tx, { platformId: home.platformId, courseId: home.courseId, userId: home.instructorId }, task, draft, { note: 'test prompt' }));
}

export async function setMaxAttempts(db: Db, taskId: number, n: number): Promise<void> {
  await db.execute(sql`update tasks set max_attempts = ${n} where id = ${taskId}`);
}

export async function userIdOf(stack: Stack, subSuffix: string): Promise<number> {
  const rows = await stack.db.db.execute<{ id: number }>(sql`select id from users where sub like ${'%' + subSuffix} order by id limit 1`);
  return Number(rows.rows[0]!.id);
}

/**
 * `n` submissions of one student through the submit service (attempts raised as needed); returns the queue item ids.
 * Each text is new for the student (numbered by attempt): an identical one would reuse an earlier grade, unqueued.
 */
export async function submitMany(stack: Stack, home: Home, taskId: number, studentId: number, n: number, text = 'The Boston Tea Party was a protest against the Tea Act.'): Promise<number[]> {
  const ids: number[] = [];
  const used = Number((await stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from submissions where task_id = ${taskId} and student_id = ${studentId}`)).rows[0]!.n);
  await setMaxAttempts(stack.db.db, taskId, Math.min(100, used + n));
  for (let i = 0; i < n; i++) {
    const r = await stack.db.db.transaction((tx) =>
      submitWork(tx, stack.config, { platformId: home.platformId, courseId: home.courseId, userId: studentId }, taskId, { body: { text: `${text} (${used + i})` } }),
    );
    ids.push(r.queueItem!.id);
  }
  return ids;
}

/** A multipart post as the student's browser sends the submission form (htmx: header CSRF and HX-Request). */
export async function postMultipart(session: ToolSession, path: string, fields: Record<string, string>, file?: { name: string; type: string; bytes: Buffer | string }, options: { htmx?: boolean; csrfHeader?: boolean } = {}) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (file) form.append('file', new Blob([typeof file.bytes === 'string' ? file.bytes : new Uint8Array(file.bytes)], { type: file.type }), file.name);
  const url = new URL(path, session.toolOrigin).href;
  const headers: Record<string, string> = { authorization: `Bearer ${session.ltik}` };
  if (options.csrfHeader !== false) headers['x-csrf-token'] = session.csrf;
  const cookie = session.browser.jar.header(url);
  if (cookie) headers.cookie = cookie;
  if (options.htmx !== false) headers['hx-request'] = 'true';
  const res = await fetch(url, { method: 'POST', body: form, headers, redirect: 'manual' });
  return { status: res.status, html: await res.text(), headers: res.headers };
}
