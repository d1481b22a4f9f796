import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadRuntimeConfig } from '../config.js';
import { HttpError, NotFound } from '../errors.js';
import { createLogger } from '../log.js';
import type { ModeComparison } from '../analytics/mode-compare.js';
import { checkBatchAgainstRealtime } from '../models/prompts/mode-check.service.js';
import { findTaskById } from '../models/tasks/tasks.repository.js';
import { createProviders, describeProviderMode, providerOfModel } from '../providers/index.js';
import { openDatabase, type Database } from '../runtime.js';
import { demoProviderConfig } from './demo-provider.js';
import { runCli } from './run.js';

const USAGE = `Grades a sample of a task's batch results again through the real-time API and compares the two scores.

  npm run mode-check -- --task <id> [--sample <n>] [--out <report.json>]

  --task <id>       the task whose batch results are sampled; the real-time calls are charged to its course (its
                    budgets are checked first, as for a sample test: refused while frozen or over a limit)
  --sample <n>      how many results, picked at random, 1–200 (default 20)
  --out <file>      also write the figures as JSON

Each request is the one the batch sent (same prompt version, text as sent, language). Printed: how many scores are
identical, the mean difference real-time − batch with its 95 % CI (normal approximation), the distribution of the
differences, and kappa, MAE, exact and adjacent agreement of the real-time scores with the batch's.`;

function options() {
  try {
    return parseArgs({ allowPositionals: false, options: { task: { type: 'string' }, sample: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }).values;
  } catch (err) {
    throw new HttpError(400, 'usage', `${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
  }
}

const fixed = (x: number | null, digits = 2) => (x === null ? '—' : x.toFixed(digits));

function modeCheckLines(c: ModeComparison, unusable: number, costMicros: number): string[] {
  const d = c.meanDifference;
  return [
    `Items compared: ${c.n}${unusable ? ` (${unusable} more without a usable real-time score)` : ''}; real-time cost $${(costMicros / 1e6).toFixed(4)}`,
    `Identical scores: ${c.identical === null ? '—' : `${(100 * c.identical).toFixed(1)} %`}`,
    `Mean difference real-time − batch: ${d ? `${fixed(d.estimate)} points (95 % CI ${fixed(d.lo)} to ${fixed(d.hi)}, normal approximation)` : '—'}; mean absolute difference ${fixed(c.meanAbsoluteDifference)}`,
    `Differences (points): ${c.distribution.map((b) => `${b.label}: ${b.count}`).join(', ')}`,
    `Agreement with the batch scores: kappa ${fixed(c.agreement.qwk)}, MAE ${fixed(c.agreement.mae)}, exact ${fixed(c.agreement.exact)}, adjacent ${fixed(c.agreement.adjacent)}`,
  ];
}

async function main(): Promise<number> {
  const values = options();
  if (values.help) return (console.log(USAGE), 0);
  if (!values.task || !/^[1-9]\d{0,9}$/.test(values.task)) throw new HttpError(400, 'usage', `--task <id> is required (a whole number).\n\n${USAGE}`);
  const sample = values.sample === undefined ? 20 : Number(values.sample);
  if (!Number.isInteger(sample) || sample < 1 || sample > 200) throw new HttpError(400, 'usage', `--sample must be a whole number from 1 to 200, not "${values.sample}".`);
  const config = loadRuntimeConfig();
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, 'llm-assess', config.logFormat);
  let database: Database | null = null;
  const demo = describeProviderMode(config).demoMode ? await demoProviderConfig(config, logger) : null;
  try {
    database = await openDatabase(config, logger, { attach: true });
    const task = await findTaskById(database.db, Number(values.task));
    if (!task) throw NotFound(`Task ${values.task}`);
    const providers = createProviders({ ...config, openai: demo?.config.openai ?? config.openai }, { logger });
    const check = await checkBatchAgainstRealtime(database.db, config.encryptionKey, (model) => providers.get(providerOfModel(model) ?? 'openai'), task, sample);
    for (const line of modeCheckLines(check.comparison, check.unusable, check.costMicros)) console.log(line);
    if (values.out) {
      mkdirSync(dirname(resolve(values.out)), { recursive: true });
      writeFileSync(values.out, JSON.stringify({ task: task.id, ...check }, null, 2) + '\n');
    }
    return 0;
  } finally {
    await demo?.close();
    await database?.close();
  }
}

runCli(main);
