import { createTask } from '../../src/models/tasks/tasks.repository.js';
import { validateDraft } from '../../src/models/prompts/prompt-draft.js';
import { saveCourseTemplate, savePrompt } from '../../src/models/prompts/prompts.service.js';
import { promptForm, VALID_PROMPT } from '../helpers/prompts.js';
import type { MatrixArea, MatrixContext } from './types.js';

/**
 * The prompt editor and the prompt API. Everything here changes a task of its own (never the home task other
 * areas rely on); routes that can succeed only once (archive, delete) get a fresh task or template each time.
 */

const draft = (template = VALID_PROMPT.template) => {
  const checked = validateDraft({ ...VALID_PROMPT, template, maxScoreMode: 'sum', maxScore: null });
  if (!checked.ok) throw new Error(JSON.stringify(checked.fields));
  return checked.draft;
};

async function taskWithPrompt(ctx: MatrixContext, title: string, versions = 1) {
  const db = ctx.stack.db.db;
  const task = await createTask(db, { courseId: ctx.home.courseId, resourceLinkId: null, title, createdBy: ctx.home.instructorId });
  const actor = { platformId: ctx.home.platformId, courseId: ctx.home.courseId, userId: ctx.home.instructorId };
  for (let v = 1; v <= versions; v++) await db.transaction((tx) => savePrompt(tx, actor, task, draft(`${VALID_PROMPT.template}\nVersion ${v}.`), { note: `v${v}` }));
  return task;
}

const area: MatrixArea = {
  name: 'prompts',
  async setup(ctx) {
    const task = await taskWithPrompt(ctx, 'Matrix prompt task', 2);
    const target = await ctx.stack.db.db.transaction((tx) => createTask(tx, { courseId: ctx.home.courseId, resourceLinkId: null, title: 'Matrix copy target' }));
    return { promptTaskId: task.id, targetTaskId: target.id };
  },
  routes: [
    { route: 'GET /instructor/tasks/:taskId/prompt', allowed: ['instructor'], path: ({ promptTaskId }) => `/instructor/tasks/${promptTaskId}/prompt`, tenantScoped: true },
    { route: 'POST /instructor/tasks/:taskId/prompt', allowed: ['instructor'], path: ({ promptTaskId }) => `/instructor/tasks/${promptTaskId}/prompt`, form: omitBase(promptForm({ note: 'matrix' })), tenantScoped: true },
    { route: 'POST /instructor/tasks/:taskId/prompt/rubric', allowed: ['instructor'], path: ({ promptTaskId }) => `/instructor/tasks/${promptTaskId}/prompt/rubric`, form: promptForm({}, { action: 'add-criterion' }), tenantScoped: true },
    { route: 'POST /instructor/tasks/:taskId/prompt/preview', allowed: ['instructor'], path: ({ promptTaskId }) => `/instructor/tasks/${promptTaskId}/prompt/preview`, form: promptForm(), tenantScoped: true },
    { route: 'POST /instructor/tasks/:taskId/prompt/test', allowed: ['instructor'], path: ({ promptTaskId }) => `/instructor/tasks/${promptTaskId}/prompt/test`, form: promptForm({}, { 'samples[0]': 'A sample.' }), tenantScoped: true },
    { route: 'GET /instructor/tasks/:taskId/prompt/versions/:version', allowed: ['instructor'], path: ({ promptTaskId }) => `/instructor/tasks/${promptTaskId}/prompt/versions/1`, tenantScoped: true },
    { route: 'GET /instructor/tasks/:taskId/prompt/diff', allowed: ['instructor'], path: ({ promptTaskId }) => `/instructor/tasks/${promptTaskId}/prompt/diff?from=1&to=2`, tenantScoped: true },
    { route: 'POST /instructor/tasks/:taskId/prompt/rollback', allowed: ['instructor'], path: ({ promptTaskId }) => `/instructor/tasks/${promptTaskId}/prompt/rollback`, form: { version: '1' }, tenantScoped: true },
    { route: 'POST /instructor/tasks/:taskId/prompt/copy', allowed: ['instructor'], path: ({ promptTaskId }) => `/instructor/tasks/${promptTaskId}/prompt/copy`, form: { targetTaskId: '0' }, okStatus: 422, tenantScoped: true },
    {
      route: 'POST /instructor/tasks/:taskId/prompt/templates',
      allowed: ['instructor'],
      path: ({ promptTaskId }) => `/instructor/tasks/${promptTaskId}/prompt/templates`,
      form: promptForm({}, { templateName: 'Matrix template', templateReplace: 'on' }),
      tenantScoped: true,
    },
    {
      route: 'POST /instructor/tasks/:taskId/prompt/templates/:templateId/delete',
      allowed: ['instructor'],
      path: ({ promptTaskId, templateId }) => `/instructor/tasks/${promptTaskId}/prompt/templates/${templateId ?? 0}/delete`,
      form: {},
      tenantScoped: true,
      fresh: async (ctx) => {
        const actor = { platformId: ctx.home.platformId, courseId: ctx.home.courseId, userId: ctx.home.instructorId };
        const task = await taskWithPrompt(ctx, 'Matrix template source');
        const { template } = await ctx.stack.db.db.transaction((tx) => saveCourseTemplate(tx, actor, task, draft(), { name: `Matrix ${task.id}`, description: '', replace: false }));
        return { templateId: template.id };
      },
    },
    {
      route: 'POST /instructor/tasks/:taskId/prompt/archive',
      allowed: ['instructor'],
      path: ({ promptTaskId }) => `/instructor/tasks/${promptTaskId}/prompt/archive`,
      form: {},
      tenantScoped: true,
      fresh: async (ctx) => ({ promptTaskId: (await taskWithPrompt(ctx, 'Matrix archive task')).id }),
    },
    { route: 'GET /api/tasks/:taskId/llm-prompt/', allowed: ['instructor'], path: ({ promptTaskId }) => `/api/tasks/${promptTaskId}/llm-prompt/`, tenantScoped: true },
    {
      route: 'POST /api/tasks/:taskId/llm-prompt/',
      allowed: ['instructor'],
      path: ({ promptTaskId }) => `/api/tasks/${promptTaskId}/llm-prompt/`,
      json: { template: 'API {student_submission}', model: 'gpt-4o-mini', rubric: [{ name: 'Content', maxPoints: 5 }], note: 'matrix' },
      tenantScoped: true,
      fresh: async (ctx) => ({ promptTaskId: (await taskWithPrompt(ctx, 'Matrix API task')).id }),
      okStatus: 201,
    },
    {
      route: 'DELETE /api/tasks/:taskId/llm-prompt/',
      allowed: ['instructor'],
      path: ({ promptTaskId }) => `/api/tasks/${promptTaskId}/llm-prompt/`,
      tenantScoped: true,
      fresh: async (ctx) => ({ promptTaskId: (await taskWithPrompt(ctx, 'Matrix API archive task')).id }),
    },
    { route: 'POST /api/tasks/:taskId/llm-prompt/test/', allowed: ['instructor'], path: ({ promptTaskId }) => `/api/tasks/${promptTaskId}/llm-prompt/test/`, json: { samples: ['A sample.'] }, tenantScoped: true },
  ],
};

/** The editor's form without its base version: a client that does not track versions (no stale check). */
function omitBase(form: Record<string, string>): Record<string, string> {
  const { baseVersion: _omit, ...rest } = form;
  return rest;
}

export default area;
