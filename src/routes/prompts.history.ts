import type { Request, Response } from 'express';
import { z } from 'zod';
import { NotFound } from '../errors.js';
import { render } from '../http/render.js';
import { diffVersions } from '../models/prompts/diff.js';
import { findPromptForTask, findVersionWithAuthor } from '../models/prompts/prompts.repository.js';
import { int4 } from '../validation.js';
import { versionParam } from './params.js';
import type { PromptEditor } from './prompts.editor.js';
import { presentVersion } from './prompts.present.js';

/* A prompt's history, read only: one version in full, and what changed between two versions. */

const diffQuery = z.object({ from: int4().pipe(z.number().positive()), to: int4().pipe(z.number().positive()) });

export async function showVersion(editor: PromptEditor, req: Request, res: Response): Promise<void> {
  const { db } = editor.deps;
  const { task } = await editor.context(req, res);
  const number = versionParam(req.params.version);
  const prompt = await findPromptForTask(db, task.id);
  const version = prompt ? await findVersionWithAuthor(db, prompt.id, number) : undefined;
  if (!prompt || !version) throw NotFound(`Version ${number} of this prompt`);
  render(req, res, 'pages/instructor/prompt-version', {
    title: `Version ${number} · ${task.title}`,
    task: { id: task.id, title: task.title },
    version: presentVersion(version, prompt.status === 'active' ? prompt.activeVersionId : null),
  });
}

export async function showDiff(editor: PromptEditor, req: Request, res: Response): Promise<void> {
  const { db } = editor.deps;
  const { task } = await editor.context(req, res);
  const query = diffQuery.safeParse(req.query);
  if (!query.success) throw NotFound('The versions to compare');
  const prompt = await findPromptForTask(db, task.id);
  const [a, b] = prompt ? await Promise.all([findVersionWithAuthor(db, prompt.id, query.data.from), findVersionWithAuthor(db, prompt.id, query.data.to)]) : [];
  if (!a) throw NotFound(`Version ${query.data.from} of this prompt`);
  if (!b) throw NotFound(`Version ${query.data.to} of this prompt`);
  render(
    req,
    res,
    'pages/instructor/prompt-diff',
    { title: `Versions ${a.version} and ${b.version} · ${task.title}`, task: { id: task.id, title: task.title }, diff: diffVersions(a, b) },
    { fragment: 'partials/prompts/_diff' },
  );
}
