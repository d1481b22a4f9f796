import { Router, type Request, type Response } from 'express';
import { charCount } from '../chars.js';
import type { z } from 'zod';
import { actorOf, allow } from '../lti/actor.js';
import { Conflict, Invalid } from '../errors.js';
import { RESPONSE_FORMAT_NAME } from '../grading/result.schema.js';
import { draftInputFromBody, promptBodySchema, validateDraft, type PromptContent } from '../models/prompts/prompt-draft.js';
import { findPromptForTask, listVersionsWithAuthors, type VersionWithAuthor } from '../models/prompts/prompts.repository.js';
import { archiveTaskPrompt, savePrompt } from '../models/prompts/prompts.service.js';
import { runSampleTests } from '../models/prompts/sample-test.service.js';
import { idParam } from './params.js';
import { activeVersionOf, promptActorOf, taskOf, type PromptRouteDeps } from './prompts.page.js';
import { apiTestBodySchema } from './prompts.schema.js';
import { fieldsOf } from '../validation.js';

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
    responseFormat: { type: 'json_schema', json_schema: { name: RESPONSE_FORMAT_NAME, strict: true, schema: v.outputSchema } },
  };
}

export function promptApiRoutes(deps: PromptRouteDeps): Router {
  const { db } = deps;
  const router = Router();
  router.use('/api/tasks/:taskId/llm-prompt', allow('instructor'));

  async function context(req: Request, res: Response) {
    const actor = actorOf(res);
    const task = await taskOf(db, actor, idParam(req.params.taskId, 'The task'));
    return { actor: promptActorOf(actor), task };
  }

  async function describe(taskId: number) {
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

  router.get(PATH, async (req, res) => {
    const { task } = await context(req, res);
    res.json(await describe(task.id));
  });

  router.post(PATH, async (req, res) => {
    const { actor, task } = await context(req, res);
    const body = promptBodySchema.safeParse(req.body);
    if (!body.success) invalidFrom(body.error);
    const checked = validateDraft(draftInputFromBody(body.data));
    if (!checked.ok) throw Invalid(checked.fields, 'The prompt was not saved: see the fields.');
    const outcome = await db.transaction((tx) => savePrompt(tx, actor, task, checked.draft, { note: body.data.note, baseVersion: body.data.baseVersion }));
    res.status(outcome.created ? 201 : 200).json({ created: outcome.created, version: outcome.version.version, prompt: await describe(task.id) });
  });

  router.delete(PATH, async (req, res) => {
    const { actor, task } = await context(req, res);
    await db.transaction((tx) => archiveTaskPrompt(tx, actor, task));
    res.json(await describe(task.id));
  });

  router.post(`${PATH}test/`, deps.sampleTestLimit, async (req, res) => {
    const { task } = await context(req, res);
    const body = apiTestBodySchema.safeParse(req.body);
    if (!body.success) invalidFrom(body.error);
    let content: PromptContent;
    if (body.data.prompt) {
      const checked = validateDraft(draftInputFromBody(body.data.prompt));
      if (!checked.ok) throw Invalid(Object.fromEntries(Object.entries(checked.fields).map(([k, v]) => [`prompt.${k}`, v])), 'The prompt to test is not valid: see the fields.');
      content = checked.draft;
    } else {
      const active = await activeVersionOf(db, await findPromptForTask(db, task.id));
      if (!active) throw Conflict('This task has no active prompt: send one in "prompt", or save one first.');
      content = active;
    }
    const fields: Record<string, string> = {};
    body.data.samples.forEach((s, i) => {
      if (!s.trim()) fields[`samples.${i}`] = `Sample ${i + 1} is empty.`;
      else if (charCount(s) > deps.submissionMaxChars) fields[`samples.${i}`] = `Sample ${i + 1} is longer than ${deps.submissionMaxChars} characters.`;
    });
    if (Object.keys(fields).length) throw Invalid(fields, 'Nothing was tested: see the samples.');
    const samples = body.data.samples.map((text, i) => ({ index: i + 1, text }));
    const run = await runSampleTests(deps.provider, content, task, samples, deps.sampleTests);
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
  });

  return router;
}
