import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { RootDb } from '../db/db.js';
import type { KeyMaterial } from '../crypto/content.js';
import { HttpError } from '../errors.js';
import { actorOf, allow } from '../lti/actor.js';
import { render } from '../http/render.js';
import { planPairedGrading, runPairedGrading } from '../models/prompts/ab-paired.service.js';
import { abTestResults, endAbTest, startAbTest } from '../models/prompts/ab-tests.service.js';
import { findPromptForTask, listVersionsWithAuthors } from '../models/prompts/prompts.repository.js';
import type { TaskRow } from '../models/tasks/tasks.repository.js';
import type { Providers } from '../providers/index.js';
import { int4, parseInput } from '../validation.js';
import { withDeps } from './handlers.js';
import { formText } from './form.js';
import { courseTask } from './instructor-task.page.js';
import { promptActorOf, providerForModel } from './prompts.page.js';
import { presentResults } from './ab-tests.present.js';

/**
 * A task's prompt A/B test (instructors of its course): start one against the active version, read the comparison,
 * grade items with the other version too (a paired comparison: its cost shown first, through the spending gate), and
 * end it, making the winner the active version. The test is the task's running (or last) one: no test id in the URL.
 */
export interface AbTestDeps {
  db: RootDb;
  encryptionKey: KeyMaterial;
  providers: Providers;
}

const BASE = '/instructor/tasks/:taskId/ab-test';

const startSchema = z.object({
  versionB: int4('Choose the version to test.').pipe(z.number().positive('Choose the version to test.')),
  shareB: int4('Enter a whole percentage from 1 to 99.').pipe(z.number().min(1, 'Enter a whole percentage from 1 to 99.').max(99, 'Enter a whole percentage from 1 to 99.')),
});
const endSchema = z.object({ winner: z.enum(['A', 'B'], { error: 'Choose the version to keep: A or B.' }) });

export function abTestRoutes(deps: AbTestDeps): Router {
  const on = withDeps(deps);
  const router = Router();
  router.use(BASE, allow('instructor'));
  router.get(BASE, on(showTest));
  router.post(BASE, on(startTest));
  router.post(`${BASE}/paired`, on(gradePaired));
  router.post(`${BASE}/end`, on(endTest));
  return router;
}

interface Notice {
  message?: { kind: 'success' | 'error'; text: string };
  fields?: Record<string, string>;
}

async function page(deps: AbTestDeps, req: Request, res: Response, task: TaskRow, notice: Notice = {}, status = 200): Promise<void> {
  const prompt = await findPromptForTask(deps.db, task.id);
  const versions = prompt ? await listVersionsWithAuthors(deps.db, prompt.id) : [];
  const active = prompt?.status === 'active' ? prompt.activeVersionId : null;
  const results = await abTestResults(deps.db, task.id);
  const plan = results?.test.status === 'running' ? await planPairedGrading(deps.db, deps.encryptionKey, task) : null;
  render(
    req,
    res,
    'pages/instructor/ab-test',
    {
      title: `A/B test: ${task.title}`,
      task: { id: task.id, title: task.title },
      results: results ? presentResults(results, plan) : null,
      activeVersion: versions.find((v) => v.id === active)?.version ?? null,
      candidates: versions.filter((v) => v.id !== active).map((v) => ({ version: v.version, note: v.note })),
      fields: notice.fields ?? {},
      message: notice.message ?? null,
      // What was typed, kept on a refusal.
      values: { versionB: formText(req.body, 'versionB'), shareB: formText(req.body, 'shareB') || '50' },
    },
    { status, fragment: 'partials/prompts/_ab-test' },
  );
}

async function showTest(deps: AbTestDeps, req: Request, res: Response): Promise<void> {
  await page(deps, req, res, await courseTask(deps.db, actorOf(res), req.params.taskId));
}

/** Runs a change; a refusal (422 or 409) is shown on the page with what was typed, nothing changed. */
async function change(deps: AbTestDeps, req: Request, res: Response, task: TaskRow, act: () => Promise<string>): Promise<void> {
  let text: string;
  try {
    text = await act();
  } catch (err) {
    if (!(err instanceof HttpError) || (err.status !== 422 && err.status !== 409 && err.status !== 404)) throw err;
    return page(deps, req, res, task, { message: { kind: 'error', text: err.message }, fields: err.fields ?? {} }, err.status);
  }
  await page(deps, req, res, task, { message: { kind: 'success', text } });
}

async function startTest(deps: AbTestDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const task = await courseTask(deps.db, actor, req.params.taskId);
  await change(deps, req, res, task, async () => {
    const input = parseInput(startSchema, req.body ?? {}, { message: 'The test was not started: please correct the fields marked below.' });
    await deps.db.transaction((tx) => startAbTest(tx, promptActorOf(actor), task, input));
    return `A/B test started: version ${input.versionB} grades about ${input.shareB} % of new submissions, the active version the rest.`;
  });
}

async function gradePaired(deps: AbTestDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const task = await courseTask(deps.db, actor, req.params.taskId);
  await change(deps, req, res, task, async () => {
    const done = await runPairedGrading(deps.db, deps.encryptionKey, (model) => providerForModel(deps, model), { ...task, platformId: actor.platformId }, actor.userId);
    return `Graded ${done.graded} ${done.graded === 1 ? 'item' : 'items'} with the other version too, for $${(done.costMicros / 1e6).toFixed(4)} at real-time prices. Students still see only their own version's grade.`;
  });
}

async function endTest(deps: AbTestDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const task = await courseTask(deps.db, actor, req.params.taskId);
  await change(deps, req, res, task, async () => {
    const { winner } = parseInput(endSchema, req.body ?? {}, { message: 'The test was not ended: choose the version to keep.' });
    const ended = await deps.db.transaction((tx) => endAbTest(tx, promptActorOf(actor), task, winner));
    return `Test ended: version ${winner} (v${ended.winner.version}) is now the task's active prompt version; new submissions are graded with it.`;
  });
}
