import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import ejs from 'ejs';
import { loadRuntimeConfig } from '../config.js';
import { HttpError, NotFound } from '../errors.js';
import { createLogger } from '../log.js';
import { ROOT } from '../paths.js';
import { evalFigures, gradeLabelledSet, runChargedEval, type EvalRun } from '../models/prompts/eval.service.js';
import { parseEvalPrompt } from '../models/prompts/eval-prompt.js';
import { parseLabelledSet } from '../models/prompts/labelled-set.js';
import { findActiveVersion } from '../models/prompts/prompts.repository.js';
import type { PromptContent } from '../models/prompts/prompt-draft.js';
import { findTaskById } from '../models/tasks/tasks.repository.js';
import { createProvider, describeProviderMode } from '../providers/index.js';
import { openDatabase, type Database } from '../runtime.js';
import { reportJson, reportView, summaryLines, type EvalReportInput } from './eval-report.js';
import { runCli } from './run.js';
import { demoProviderConfig } from './demo-provider.js';

const USAGE = `Grades a labelled set (work people graded) with a prompt and prints how well the model agrees with them.

  npm run eval -- --task <id> --set <labelled.jsonl> [options]
                          the task's active grading prompt; the cost is charged to the task's course (its budgets
                          are checked first, as for a sample test)
  npm run eval -- --prompt <prompt.json> --set <labelled.jsonl> [--task <id>] [options]
                          a prompt from a file (the JSON API's prompt body plus "task": {"title", "description"});
                          with a real provider it needs --task, whose course pays

  --set <file>            JSON Lines: {"id", "submission", "score", "criteria": {"<criterion id>": points}} per line
  --out <dir>             where report.json and report.html go (default .data/eval/<date-time>)
  --concurrency <n>       calls at once, 1–16 (default 4)

The provider is the configured one: the OpenAI emulator without OPENAI_API_KEY (started here when none is running),
OpenAI with it. Figures: quadratic weighted kappa, mean absolute error, exact and adjacent (±1 point) agreement,
overall and per criterion; cost at real-time and batch prices; time. The shipped set: data/eval/ (see its README).`;

class UsageError extends HttpError {
  constructor(message: string) {
    super(400, 'usage', `${message}\n\n${USAGE}`);
  }
}

/** A path as the person typed it would read: relative below the working folder, else absolute. */
function shown(file: string): string {
  const r = relative(process.cwd(), resolve(file));
  return r.startsWith('..') ? resolve(file) : r;
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new HttpError(400, 'usage', `Cannot read the ${what} ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : (err as Error).message}.`);
  }
}

function positiveId(raw: string | undefined, option: string): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^[1-9]\d{0,9}$/.test(raw) || Number(raw) > 2_147_483_647) throw new UsageError(`${option} must be a task id (a whole number), not "${raw}".`);
  return Number(raw);
}

function parseOptions() {
  try {
    return parseArgs({
      allowPositionals: false,
      options: {
        task: { type: 'string' },
        prompt: { type: 'string' },
        set: { type: 'string' },
        out: { type: 'string' },
        concurrency: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    // An unknown option, a missing value, a stray argument: node's message, then how to call it.
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

async function main(): Promise<number> {
  const { values } = parseOptions();
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const taskId = positiveId(values.task, '--task');
  if (!values.set) throw new UsageError('--set <labelled.jsonl> is required.');
  if (taskId === undefined && !values.prompt) throw new UsageError('Name the prompt: --task <id> (its active prompt) or --prompt <file>.');
  const concurrency = values.concurrency === undefined ? 4 : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 16) throw new UsageError(`--concurrency must be a whole number from 1 to 16, not "${values.concurrency}".`);

  const config = loadRuntimeConfig();
  const mode = describeProviderMode(config);
  if (taskId === undefined && !mode.demoMode) {
    throw new UsageError(`A run on ${mode.label} spends money: add --task <id>, so that it passes that task's course budgets and is charged there. Nothing was sent.`);
  }
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, 'llm-assess', config.logFormat);
  const fromFile = values.prompt ? parseEvalPrompt(readText(values.prompt, 'prompt file')) : null;
  const setText = readText(values.set, 'labelled set');

  let database: Database | null = null;
  let emulator: Awaited<ReturnType<typeof demoProviderConfig>> | null = null;
  try {
    let content: PromptContent;
    let task: { title: string; description: string };
    let source: string;
    let scope: { platformId: number; courseId: number; taskId: number } | null = null;
    if (taskId !== undefined) {
      database = await openDatabase(config, logger, { attach: true });
      const row = await findTaskById(database.db, taskId);
      if (!row) throw NotFound(`Task ${taskId}`);
      scope = { platformId: row.platformId, courseId: row.courseId, taskId: row.id };
      if (fromFile) {
        ({ content, task } = fromFile);
        source = `${shown(values.prompt!)} (charged to task ${row.id})`;
      } else {
        const version = await findActiveVersion(database.db, row.id);
        if (!version) throw new HttpError(409, 'no_prompt', `Task ${row.id} ("${row.title}") has no active grading prompt: write one in the editor, or give --prompt <file>.`);
        content = { ...version, maxScore: Number(version.maxScore), temperature: Number(version.temperature) };
        task = { title: row.title, description: row.description };
        source = `task ${row.id} "${row.title}", prompt v${version.version}`;
      }
    } else {
      ({ content, task } = fromFile!);
      source = shown(values.prompt!);
    }
    const items = parseLabelledSet(setText, content.rubric, Number(content.maxScore));

    emulator = mode.demoMode ? await demoProviderConfig(config, logger) : null;
    const provider = createProvider(emulator?.config ?? config, { logger });
    const runId = randomBytes(4).toString('hex');
    const run: EvalRun = scope
      ? await runChargedEval(database!.db, scope, provider, { content, task, items, concurrency, runId })
      : await gradeLabelledSet(provider, content, task, items, { concurrency, runId });

    const report: EvalReportInput = {
      generatedAt: new Date(),
      provider: { label: mode.label, demoMode: mode.demoMode, baseUrl: mode.baseUrl },
      prompt: { source, content },
      set: { file: shown(values.set), items: items.length },
      run,
      figures: evalFigures(run, content),
      chargedTo: scope ? `the ledger of course ${scope.courseId} (task ${scope.taskId}), as real-time spend` : null,
    };
    const outDir = resolve(values.out ?? join('.data', 'eval', report.generatedAt.toISOString().replace(/[:.]/g, '-').slice(0, 19)));
    mkdirSync(outDir, { recursive: true });
    const jsonFile = join(outDir, 'report.json');
    const htmlFile = join(outDir, 'report.html');
    writeFileSync(jsonFile, JSON.stringify(reportJson(report), null, 2) + '\n');
    writeFileSync(htmlFile, await ejs.renderFile(join(ROOT, 'views', 'reports', 'eval.ejs'), reportView(report), { async: true }));
    for (const line of summaryLines(report, [shown(jsonFile), shown(htmlFile)])) console.log(line);
    if (report.figures.scored === 0) {
      console.error('No item got a usable score: the figures are empty. See the report for each item\'s error.');
      return 2;
    }
    return 0;
  } finally {
    await emulator?.close();
    await database?.close();
  }
}

runCli(main);
