import { describe, expect, it } from '@jest/globals';
import { ESLint } from 'eslint';
import { ROOT } from '../src/paths.js';

/** The layering rule is part of `npm run lint`: a model that reaches for the web or LTI layer fails it. */
describe('the layering rule', () => {
  const eslint = new ESLint({ cwd: ROOT });
  const lint = async (filePath: string, code: string) => {
    const [result] = await eslint.lintText(code, { filePath });
    return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
  };

  it.each([
    ["import { render } from '../../http/render.js';", 'models must not import HTTP code'],
    ["import { actorOf } from '../../lti/actor.js';", 'models must not import the LTI layer'],
    ["import type { ProviderInstance } from 'ltijs';", 'models must not import the LTI layer'],
    ["import { queueRoutes } from '../../routes/queue.routes.js';", 'models must not import routes'],
    ["import { kickBatch } from '../../jobs/batch-kick.js';", 'models must not import jobs'],
  ])('refuses %s in a model', async (line, message) => {
    expect(await lint('src/models/queue/example.service.ts', `${line}\nexport const x = 1;\n`)).toEqual([expect.stringContaining(message)]);
  }, 60_000);

  it.each([
    ["import type { Db } from '../db/db.js';", 'src/grading imports only its own files'],
    ["import { findTaskInCourse } from '../models/tasks/tasks.repository.js';", 'src/grading imports only its own files'],
    ["import { sql } from 'drizzle-orm';", 'src/grading is pure'],
  ])('refuses %s in the grading core', async (line, message) => {
    expect(await lint('src/grading/example.ts', `${line}\nexport const x = 1;\n`)).toEqual([expect.stringContaining(message)]);
  }, 60_000);

  it('keeps the statistics pure', async () => {
    expect(await lint('src/analytics/example.ts', "import type { Db } from '../db/db.js';\nexport const x = 1;\n")).toEqual([expect.stringContaining('src/analytics imports only its own files')]);
    expect(await lint('src/analytics/example.ts', "import { quadraticWeightedKappa } from './agreement.js';\nexport const x = quadraticWeightedKappa;\n")).toEqual([]);
  }, 60_000);

  it.each([
    ["import { kickBatch } from '../jobs/batch-kick.js';"],
    ["import type { JobDeps } from '../jobs/job.js';"],
    ["import { heartbeatJob } from '../jobs/heartbeat.job.js';"],
  ])('refuses %s in a route', async (line) => {
    expect(await lint('src/routes/example.routes.ts', `${line}\nexport const x = 1;\n`)).toEqual([expect.stringContaining('routes must not import jobs')]);
  }, 60_000);

  it('lets routes enqueue by name through the Jobs interface and the batch kick', async () => {
    const ok = "import type { Jobs } from '../job-queue.js';\nimport { kickBatch } from '../models/batches/batch-kick.js';\nexport const x = kickBatch as unknown as Jobs;\n";
    expect(await lint('src/routes/example.routes.ts', ok)).toEqual([]);
  }, 60_000);

  it('lets models import errors, the database and other models, and lets routes import anything', async () => {
    const ok = "import { NotFound } from '../../errors.js';\nimport type { Db } from '../../db/db.js';\nimport { findTaskInCourse } from '../tasks/tasks.repository.js';\nexport const x = [NotFound, findTaskInCourse] as unknown as Db;\n";
    expect(await lint('src/models/queue/example.service.ts', ok)).toEqual([]);
    expect(await lint('src/routes/example.routes.ts', "import { render } from '../http/render.js';\nexport const x = render;\n")).toEqual([]);
    expect(await lint('src/grading/example.ts', "import { z } from 'zod';\nimport { createHash } from 'node:crypto';\nimport type { RubricCriterion } from './rubric.js';\nexport const x = [z, createHash] as unknown as RubricCriterion;\n")).toEqual([]);
  }, 60_000);
});
