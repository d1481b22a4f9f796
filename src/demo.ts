import type pg from 'pg';
import { ConfigError, loadRuntimeConfig, type Config } from './config.js';
import { createPool, ensureDatabase } from './db/db.js';
import { createLogger } from './log.js';
import { openDatabase, startTool, type Database, type ToolRuntime } from './runtime.js';
import { installShutdown } from './shutdown.js';
import { findPlatform } from './models/tenancy/platforms.repository.js';
import { registerPlatform } from './lti/registration.service.js';
import { platformInputOf, startDevLms, startMailCatcher, type ToolRegistration } from './devlms/index.js';
import { startEmulator } from './emulator/index.js';
import { SEED } from './devlms/seed.js';
import { demoCourseFrom, seedDemoCourse } from './models/prompts/demo-seed.js';

/** What the demo started, closed in reverse order on shutdown. */
type Closers = Array<() => Promise<void>>;

/**
 * `npm run demo`: the embedded database, the tool (web + worker), the emulator (OpenAI's API and Anthropic's) and the development LMS,
 * with the LMS registered and its course seeded. Data is kept in .data/ between runs.
 */
async function main(): Promise<void> {
  // The seeded course has three students: with the production minimum of 10 requests per batch, the demo could
  // never send one. An explicit BATCH_MIN_SIZE still wins.
  process.env.BATCH_MIN_SIZE ??= '1';
  // E-mail goes to the dev LMS's mail catcher (its Mail page), unless a real server is configured.
  process.env.SMTP_URL ??= `smtp://127.0.0.1:${process.env.DEVLMS_SMTP_PORT || 4025}`;
  const config = loadRuntimeConfig();
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, 'demo', config.logFormat);
  const closers: Closers = [];
  const close = async () => {
    for (const fn of closers.reverse()) await fn().catch((err) => logger.warn('shutdown step failed', { err }));
  };
  installShutdown(logger, config.shutdownTimeoutMs, close);

  const database = await openDatabase(config, logger);
  closers.push(() => database.close());
  const lmsPool = await openDevLmsPool(database, closers);

  if (config.openai.demoMode) {
    const emulator = await startEmulator({ port: config.emulator.port, host: '127.0.0.1', timings: config.emulator.timings, faultsJson: config.emulator.faultsJson });
    closers.push(() => emulator.close());
  }

  const tool = await startTool(config, logger, { database });
  closers.push(() => tool.close());

  const mail = await startMailCatcher({ port: config.devlms.smtpPort });
  closers.push(() => mail.close());
  const lms = await startDevLms({ pool: lmsPool, url: config.devlms.url, toolUrl: config.toolUrl, port: config.devlms.port, host: '127.0.0.1', mail });
  closers.push(() => lms.close());
  await lms.devlms.seed();

  await registerDevLms(database, tool, lms.devlms.toolRegistration());
  printWhereToGo(config);
}

/** The dev LMS stands in for a third party: its own database on the embedded server, or its own schema. */
async function openDevLmsPool(database: Database, closers: Closers): Promise<pg.Pool> {
  if (!database.embedded) return database.pool;
  await ensureDatabase(database.embedded.serverUrl, 'llm_assess_devlms');
  const lmsPool = createPool(database.embedded.urlFor('llm_assess_devlms'), 5);
  closers.push(() => lmsPool.end());
  return lmsPool;
}

/** Registers the dev LMS with the tool on the first run, as an administrator would, and readies its course. */
async function registerDevLms(database: Database, tool: ToolRuntime, reg: ToolRegistration): Promise<void> {
  if (!(await findPlatform(database.db, reg.issuer, reg.clientId))) {
    await registerPlatform({ db: database.db, lti: tool.lti.lti, platforms: tool.tool!.platforms, allowInsecureLocalhost: true }, platformInputOf(reg), 'demo');
  }
  // The dev course ready to use: LLM assessment allowed and each assignment graded with a library template.
  const platform = await findPlatform(database.db, reg.issuer, reg.clientId);
  if (platform) await database.db.transaction((tx) => seedDemoCourse(tx, demoCourseFrom(SEED, platform.id, reg.deploymentId)));
}

function printWhereToGo(config: Config): void {
  console.log(`Tool: ${config.toolUrl}`);
  console.log(`Dev LMS: ${config.devlms.url}`);
  if (config.openai.demoMode) console.log(`OpenAI emulator: ${config.emulator.url}/v1 (demo mode: simulated grader)`);
  if (config.anthropic.available && config.anthropic.demoMode) console.log(`Anthropic emulator: ${config.emulator.url}/v1/messages (Message Batches; demo mode)`);
  console.log(`E-mail: ${config.mail.smtpUrl} (the mail the tool sends shows at ${config.devlms.url}/mail)`);
  console.log(`Open the Dev LMS page and launch the tool as instructor, student1–3 or admin. Ctrl-C stops everything.`);
}

main().catch((err) => {
  // A configuration error says what to set: it is shown alone.
  if (err instanceof ConfigError) console.error(err.message);
  else console.error('The demo failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
