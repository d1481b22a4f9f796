import { Router, type Request, type Response } from 'express';
import { charCount } from '../chars.js';
import type { z } from 'zod';
import { actorOf, allow } from '../lti/actor.js';
import { Conflict, Invalid } from '../errors.js';
import { RESPONSE_FORMAT_NAME } from '../grading/result.schema.js';
import { schemaByInstruction } from '../grading/answer-format.js';
import { draftInputFromBody, promptBodySchema, validateDraft, type PromptContent } from '../models/prompts/prompt-draft.js';
import { findPromptForTask, listVersionsWithAuthors, type VersionWithAuthor } from '../models/prompts/prompts.repository.js';
import { archiveTaskPrompt, savePrompt } from '../models/prompts/prompts.service.js';
import { runChargedSampleTests } from '../models/prompts/sample-test.service.js';
import { idParam } from './params.js';
import { activeVersionOf, promptActorOf, promptProviders, providerForModel, taskOf, type PromptRouteDeps } from './prompts.page.js';
import { apiTestBodySchema, type ApiTestBody } from './prompts.schema.js';
import type { Db } from '../db/db.js';
import { fieldsOf } from '../validation.js';
import { withDeps } from './handlers.js';

/**
 * The grading prompt of a task as JSON: read it (active version and history), save a new version, archive it, and
 * test a prompt on samples. Same session, roles and tenant checks as the editor, and the same rules: a body the
 * editor would refuse is refused here with the same messages, keyed by field.
 */

const PATH = '/api/tasks/:taskId/llm-prompt/';

function invalidFrom(error: z.ZodError): never {
  throw Invalid(fieldsOf(error, { fallback: 'body' }), 'The prompt was not saved: see the fields.');
}

function versionJson(v: VersionWithAuthor, activeVersionId: number | null) {
  return {
    version: v.version,
    active: v.id === activeVersionId,
    note: v.note,
    author: v.authorId === null ? null : { id: v.authorId, name: v.authorName },
    createdAt: v.createdAt.toISOString(),
    restoredFromVersion: v.restoredFromVersion,
    template: v.template,
    systemInstructions: v.systemInstructions,
    graderInstructions: v.graderInstructions,
    provider: v.provider,
    model: v.model,
    temperature: Number(v.temperature),
    maxOutputTokens: v.maxOutputTokens,
    rubric: v.rubric.map((c) => ({ ...c, maxPoints: Number(c.maxPoints) })),
    maxScore: Number(v.maxScore),
    // What a request of this version carries: the strict schema, or none (the schema is then in the instructions).
    responseFormat: schemaByInstruction(v.model) ? null : { type: 'json_schema', json_schema: { name: RESPONSE_FORMAT_NAME, strict: true, schema: v.outputSchema } },
    outputSchema: v.outputSchema,
  };
}

export function promptApiRoutes(deps: PromptRouteDeps): Router {
  const on = withDeps(deps);
  const router = Router();
  router.use('/api/tasks/:taskId/llm-prompt', allow('instructor'));
  router.get(PATH, on(readPrompt));
  router.post(PATH, on(saveVersion));
  router.delete(PATH, on(archive));
  router.post(`${PATH}test/`, deps.sampleTestLimit, on(testOnSamples));
  return router;
}

async function context(db: Db, req: Request, res: Response) {
  const actor = actorOf(res);
  const task = await taskOf(db, actor, idParam(req.params.taskId, 'The task'));
  return { actor: promptActorOf(actor), task };
}

async function describe(db: Db, taskId: number) {
  const prompt = await findPromptForTask(db, taskId);
  const versions = prompt ? await listVersionsWithAuthors(db, prompt.id) : [];
  const activeVersionId = prompt?.status === 'active' ? prompt.activeVersionId : null;
  const active = versions.find((v) => v.id === activeVersionId);
  return {
    taskId,
    status: !prompt || !versions.length ? 'none' : prompt.status,
    activeVersion: active ? versionJson(active, activeVersionId) : null,
    versions: versions.map((v) => ({ version: v.version, active: v.id === activeVersionId, note: v.note, author: v.authorName, createdAt: v.createdAt.toISOString(), restoredFromVersion: v.restoredFromVersion })),
  };
}

async function readPrompt({ db }: PromptRouteDeps, req: Request, res: Response): Promise<void> {
  const { task } = await context(db, req, res);
  res.json(await describe(db, task.id));
}

async function saveVersion(deps: PromptRouteDeps, req: Request, res: Response): Promise<void> {
  const { db } = deps;
  const { actor, task } = await context(db, req, res);
  const body = promptBodySchema.safeParse(req.body);
  if (!body.success) invalidFrom(body.error);
  const checked = validateDraft(draftInputFromBody(body.data), { providers: await promptProviders(deps, actor, task) });
  if (!checked.ok) throw Invalid(checked.fields, 'The prompt was not saved: see the fields.');
  const outcome = await db.transaction((tx) => savePrompt(tx, actor, task, checked.draft, { note: body.data.note, baseVersion: body.data.baseVersion }));
  res.status(outcome.created ? 201 : 200).json({ created: outcome.created, version: outcome.version.version, prompt: await describe(db, task.id) });
}

async function archive({ db }: PromptRouteDeps, req: Request, res: Response): Promise<void> {
  const { actor, task } = await context(db, req, res);
  await db.transaction((tx) => archiveTaskPrompt(tx, actor, task));
  res.json(await describe(db, task.id));
}

/** The prompt sent with the test (checked as the editor would), else the task's active version. */
async function contentToTest(db: Db, taskId: number, sent: ApiTestBody['prompt'], providers: readonly string[]): Promise<PromptContent> {
  if (sent) {
    const checked = validateDraft(draftInputFromBody(sent), { providers });
    if (!checked.ok) throw Invalid(Object.fromEntries(Object.entries(checked.fields).map(([k, v]) => [`prompt.${k}`, v])), 'The prompt to test is not valid: see the fields.');
    return checked.draft;
  }
  const active = await activeVersionOf(db, await findPromptForTask(db, taskId));
  if (!active) throw Conflict('This task has no active prompt: send one in "prompt", or save one first.');
  return active;
}

function checkSamples(samples: string[], maxChars: number): void {
  const fields: Record<string, string> = {};
  samples.forEach((s, i) => {
    if (!s.trim()) fields[`samples.${i}`] = `Sample ${i + 1} is empty.`;
    else if (charCount(s) > maxChars) fields[`samples.${i}`] = `Sample ${i + 1} is longer than ${maxChars} characters.`;
  });
  if (Object.keys(fields).length) throw Invalid(fields, 'Nothing was tested: see the samples.');
}

async function testOnSamples(deps: PromptRouteDeps, req: Request, res: Response): Promise<void> {
  const { actor, task } = await context(deps.db, req, res);
  const body = apiTestBodySchema.safeParse(req.body);
  if (!body.success) invalidFrom(body.error);
  const content = await contentToTest(deps.db, task.id, body.data.prompt, await promptProviders(deps, actor, task));
  checkSamples(body.data.samples, deps.submissionMaxChars);
  const samples = body.data.samples.map((text, i) => ({ index: i + 1, text }));
  // Reserved against the budgets first: 409 while one is frozen or would be exceeded (issue 16).
  const scope = { platformId: actor.platformId, courseId: task.courseId, taskId: task.id };
  const run = await runChargedSampleTests(deps.db, scope, providerForModel(deps, content.model), { content, task, samples, limits: deps.sampleTests });
  res.json({
    model: content.model,
    results: run.results.map((r) => ({
      sample: r.index,
      status: r.status,
      result: r.evaluation?.result ?? null,
      score: r.evaluation?.score ?? null,
      flags: r.evaluation?.flags ?? [],
      raw: r.status === 'unreadable' ? r.raw : null,
      usage: r.usage,
      costMicros: r.costMicros,
      batchCostMicros: r.batchCostMicros,
      latencyMs: r.latencyMs,
      error: r.error,
    })),
    usage: run.usage,
  });
}
