import { createTask } from '../../src/models/tasks/tasks.repository.js';
import { validateDraft } from '../../src/models/prompts/prompt-draft.js';
import { savePrompt } from '../../src/models/prompts/prompts.service.js';
import { startAbTest } from '../../src/models/prompts/ab-tests.service.js';
import { VALID_PROMPT } from '../helpers/prompts.js';
import type { MatrixArea, MatrixContext } from './types.js';

/** A task's prompt A/B test. Each change gets a task of its own with two versions (and a running test where needed). */

async function taskWithTwoVersions(ctx: MatrixContext, running: boolean): Promise<{ abTaskId: number }> {
  const db = ctx.stack.db.db;
  const task = await createTask(db, { courseId: ctx.home.courseId, resourceLinkId: null, title: 'Matrix A/B task', createdBy: ctx.home.instructorId });
  const actor = { platformId: ctx.home.platformId, courseId: ctx.home.courseId, userId: ctx.home.instructorId };
  for (const v of [1, 2]) {
    const checked = validateDraft({ ...VALID_PROMPT, template: `${VALID_PROMPT.template}\nVersion ${v}.`, maxScoreMode: 'sum', maxScore: null });
    if (!checked.ok) throw new Error(JSON.stringify(checked.fields));
    await db.transaction((tx) => savePrompt(tx, actor, task, checked.draft, { note: `v${v}` }));
  }
  if (running) await db.transaction((tx) => startAbTest(tx, actor, task, { versionB: 1, shareB: 50 }));
  return { abTaskId: task.id };
}

const area: MatrixArea = {
  name: 'ab-tests',
  setup: (ctx) => taskWithTwoVersions(ctx, true),
  routes: [
    { route: 'GET /instructor/tasks/:taskId/ab-test', allowed: ['instructor'], path: ({ abTaskId }) => `/instructor/tasks/${abTaskId}/ab-test`, tenantScoped: true },
    { route: 'POST /instructor/tasks/:taskId/ab-test', allowed: ['instructor'], path: ({ abTaskId }) => `/instructor/tasks/${abTaskId}/ab-test`, form: { versionB: '1', shareB: '50' }, fresh: (ctx) => taskWithTwoVersions(ctx, false), tenantScoped: true },
    { route: 'POST /instructor/tasks/:taskId/ab-test/paired', allowed: ['instructor'], path: ({ abTaskId }) => `/instructor/tasks/${abTaskId}/ab-test/paired`, form: {}, tenantScoped: true },
    { route: 'POST /instructor/tasks/:taskId/ab-test/end', allowed: ['instructor'], path: ({ abTaskId }) => `/instructor/tasks/${abTaskId}/ab-test/end`, form: { winner: 'B' }, fresh: (ctx) => taskWithTwoVersions(ctx, true), tenantScoped: true },
  ],
};

export default area;
