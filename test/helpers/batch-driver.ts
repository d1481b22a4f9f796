import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig, type Config } from '../../src/config.js';
import { sql } from 'drizzle-orm';
import type { RootDb } from '../../src/db/db.js';
import { silentLogger } from '../../src/log.js';
import { createProviders } from '../../src/providers/index.js';
import { ingestBatch } from '../../src/models/batches/batch-ingest.service.js';
import { cleanUpProviderFiles } from '../../src/models/batches/provider-cleanup.service.js';
import { cancelBatchWork, pollBatch } from '../../src/models/batches/batch-poll.service.js';
import { sendBatch } from '../../src/models/batches/batch-send.service.js';
import type { BatchWorker, NextStep } from '../../src/models/batches/batch-worker.js';
import { findBatchById } from '../../src/models/batches/batches.repository.js';
import { isTerminal } from '../../src/models/batches/batch-state.js';
import { afterAll, beforeAll } from '@jest/globals';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { testEnv } from './stack.js';
import { until } from './until.js';

/** Fast batch settings for tests: tiny polls and leases, small batches allowed. */
export const FAST_BATCH_ENV: Record<string, string> = {
  BATCH_MIN_SIZE: '1',
  BATCH_POLL_MIN_MS: '10',
  BATCH_POLL_MAX_MS: '50',
  BATCH_LEASE_MS: '5000',
  BATCH_SUBMIT_MAX_TRIES: '3',
  BATCH_SWEEP_MS: '300',
  JOBS_PROCESS_EVERY_MS: '250',
};

export function testConfig(db: TestDatabase, apiBaseUrl: string, extra: Record<string, string> = {}): Config {
  // The emulator serves Anthropic's Messages beside OpenAI's API: without keys, the tool uses both there.
  return loadConfig(testEnv(db, 0, { OPENAI_BASE_URL: apiBaseUrl, EMULATOR_URL: apiBaseUrl.replace(/\/v1\/?$/, ''), ...FAST_BATCH_ENV, ...extra }));
}

/**
 * A worker as a job runner would make it, with the provider's own retries off: the tests see every provider
 * failure reach the batch steps (which retry with their own bounded backoff).
 */
export function testWorker(db: RootDb, config: Config, name = 'test-worker'): BatchWorker {
  const providers = createProviders(config, { retry: { maxAttempts: 1 } });
  return { db, provider: providers.get('openai'), providers, settings: config.batches, encryptionKey: config.encryptionKey, logger: silentLogger, name };
}

const STEPS = { submit: sendBatch, poll: pollBatch, ingest: ingestBatch, cancel: cancelBatchWork } as const;

export interface DriveOptions {
  /**
   * After each ingest step, delete the batch's files at the provider, as the ingest job does
   * (provider-cleanup.service.ts). Off by default: most tests read the provider's files after ingestion.
   */
  cleanUp?: boolean;
}

/**
 * Runs batch steps the way the job runner chains them (each step's next steps, at their time) until none is left.
 * With several workers, each step goes to the next worker in turn.
 */
export async function drive(workers: BatchWorker | BatchWorker[], steps: NextStep[], timeoutMs = 30_000, options: DriveOptions = {}): Promise<void> {
  const ws = Array.isArray(workers) ? workers : [workers];
  const run = async (w: BatchWorker, s: NextStep): Promise<NextStep[]> => {
    const next = await STEPS[s.step](w, s.batchId);
    if (s.step === 'ingest' && options.cleanUp) await cleanUpProviderFiles(w, s.batchId);
    return next;
  };
  let queue = [...steps];
  const end = Date.now() + timeoutMs;
  let turn = 0;
  while (queue.length) {
    if (Date.now() > end) throw new Error(`batch steps did not settle: ${JSON.stringify(queue)}`);
    const first = Math.min(...queue.map((s) => s.at?.getTime() ?? 0));
    if (first > Date.now()) await sleep(first - Date.now());
    // Every step that is due runs now, concurrently, as a runner with several workers would run them.
    const now = Date.now();
    const due = queue.filter((s) => (s.at?.getTime() ?? 0) <= now);
    queue = queue.filter((s) => (s.at?.getTime() ?? 0) > now);
    const next = await Promise.all(due.map((s) => run(ws[turn++ % ws.length]!, s)));
    queue.push(...next.flat());
  }
}

export const submitSteps = (ids: number[]): NextStep[] => ids.map((batchId) => ({ step: 'submit', batchId }));

/**
 * Polls a sent batch (each poll made due at once) until the provider reports it finished, without ingesting it.
 * Bounded by time, not by a count of polls: the emulator grades in the background, slower on a loaded machine.
 */
export async function pollUntilFinished(workers: BatchWorker | BatchWorker[], batchId: number, timeoutMs = 20_000): Promise<void> {
  const ws = Array.isArray(workers) ? workers : [workers];
  const db = ws[0]!.db;
  await until(
    `batch ${batchId} to finish at the provider`,
    async () => {
      const { status } = (await findBatchById(db, batchId))!;
      if (isTerminal(status)) return status;
      await db.execute(sql`update batches set next_poll_at = now() where id = ${batchId}`);
      await Promise.all(ws.map((w) => pollBatch(w, batchId)));
      return undefined;
    },
    timeoutMs,
    10,
  );
}

/** A test file's own database, an OpenAI emulator over HTTP (batches finish at once) and a worker against both. */
export interface EmulatedBatches {
  readonly db: TestDatabase;
  readonly emulator: RunningEmulator;
  readonly config: Config;
  readonly worker: BatchWorker;
}

/** Starts them before the file's tests and stops them after; read the fields inside a test. */
export function useEmulatedBatches(): EmulatedBatches {
  let state: EmulatedBatches | undefined;
  beforeAll(async () => {
    const db = await createTestDatabase();
    const emulator = await startEmulator({ port: 0, timings: { validatingMs: 0, inProgressMs: 0, finalizingMs: 0 } });
    const config = testConfig(db, emulator.apiBaseUrl);
    state = { db, emulator, config, worker: testWorker(db.db, config) };
  });
  afterAll(async () => {
    await state?.emulator.close();
    await state?.db.drop();
  });
  const get = (): EmulatedBatches => {
    if (!state) throw new Error('Read the emulated batches inside a test: they start in beforeAll.');
    return state;
  };
  return {
    get db() {
      return get().db;
    },
    get emulator() {
      return get().emulator;
    },
    get config() {
      return get().config;
    },
    get worker() {
      return get().worker;
    },
  };
}
