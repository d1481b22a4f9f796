import { Agenda } from 'agenda';
import { PostgresBackend } from '@agendajs/postgres-backend';
import type pg from 'pg';
import type { JobName, Jobs } from '../job-queue.js';
import { secondsSince, type Metrics } from '../metrics/registry.js';
import type { JobDefinition, JobDeps } from './job.js';
import { heartbeatJob } from './heartbeat.job.js';
import { purgeNoncesJob } from './purge-nonces.job.js';
import { purgeLtiStatesJob } from './purge-lti-states.job.js';
import { retentionJob } from './retention.job.js';
import { sealAuditJob } from './seal-audit.job.js';
import { gradeSyncJob } from './grade-sync.job.js';
import { readColumnJob } from './read-column.job.js';
import { syncRosterJob } from './sync-roster.job.js';
import { batchSubmitJob } from './batch-submit.job.js';
import { batchPollJob } from './batch-poll.job.js';
import { batchIngestJob } from './batch-ingest.job.js';
import { batchCancelJob } from './batch-cancel.job.js';
import { batchSweepJob } from './batch-sweep.job.js';
import { batchSchedulesJob } from './batch-schedules.job.js';
import { probeProvidersJob } from './probe-providers.job.js';
import { metricsRollupJob } from './metrics-rollup.job.js';
import { reviewsWaitingJob } from './reviews-waiting.job.js';
import { notifyDelaysJob } from './notify-delays.job.js';
import { sendEmailJob } from './send-email.job.js';
import { emailDigestsJob } from './email-digests.job.js';
import { gradeRealtimeJob } from './grade-realtime.job.js';

// Each job is registered once here, under its name: the type says every name of src/job-queue.ts has exactly its
// job. The payload schema is checked when a job is enqueued and again before the handler sees anything.
const JOBS: { readonly [N in JobName]: JobDefinition<N> } = {
  heartbeat: heartbeatJob,
  'purge-expired-nonces': purgeNoncesJob,
  'apply-retention': retentionJob,
  'seal-audit-log': sealAuditJob,
  'rollup-daily-metrics': metricsRollupJob,
  'notify-reviews-waiting': reviewsWaitingJob,
  'notify-delays': notifyDelaysJob,
  'send-email': sendEmailJob,
  'collect-email-digests': emailDigestsJob,
  'purge-expired-lti-states': purgeLtiStatesJob,
  'sync-grades': gradeSyncJob,
  'grade-realtime': gradeRealtimeJob,
  'read-gradebook-column': readColumnJob,
  'sync-roster': syncRosterJob,
  'batch-submit': batchSubmitJob,
  'batch-poll': batchPollJob,
  'batch-ingest': batchIngestJob,
  'batch-cancel': batchCancelJob,
  'batch-sweep': batchSweepJob,
  'run-batch-schedules': batchSchedulesJob,
  'probe-providers': probeProvidersJob,
};

export const ALL_JOBS: readonly JobDefinition[] = Object.values(JOBS);

export interface JobRunner extends Jobs {
  agenda: Agenda;
  /** Starts processing (worker role only). */
  start(): Promise<void>;
  /** Stops taking jobs, lets running ones finish (up to the timeout), and releases the rest to other workers. */
  stop(timeoutMs: number): Promise<void>;
  readonly processing: boolean;
}

/**
 * Agenda on the same PostgreSQL (its table `agenda_jobs`, LISTEN/NOTIFY for instant pickup). Web processes only
 * enqueue; worker processes also run. The pool is ours, so stopping Agenda never closes it under the app.
 */
/** One run of a job: its payload checked, its handler run, its duration and failure counted. */
async function runMeasured(job: (typeof ALL_JOBS)[number], deps: JobDeps, data: unknown, metrics: Metrics | undefined): Promise<void> {
  const started = performance.now();
  let outcome = 'failed';
  try {
    const payload = job.payload.parse(data ?? {});
    await (job.handle as (d: JobDeps, p: unknown) => Promise<void>)(deps, payload);
    outcome = 'ok';
  } catch (err) {
    metrics?.jobFailures.inc({ job: job.name });
    throw err;
  } finally {
    metrics?.jobDuration.observe({ job: job.name, outcome }, secondsSince(started));
  }
}

export async function createJobRunner(pool: pg.Pool, deps: JobDeps, options: { name: string; processEvery?: string | number; metrics?: Metrics }): Promise<JobRunner> {
  const backend = new PostgresBackend({ pool });
  const agenda = new Agenda({
    backend,
    name: options.name,
    processEvery: options.processEvery ?? '5 seconds',
    defaultLockLifetime: 10 * 60 * 1000,
  });
  for (const job of ALL_JOBS) {
    agenda.define(job.name, (run: { attrs: { data: unknown } }) => runMeasured(job, deps, run.attrs.data, options.metrics), { concurrency: job.concurrency ?? 5, lockLifetime: job.lockLifetimeMs });
  }
  agenda.on('error', (err) => deps.logger.error('job runner error', { err }));
  agenda.on('fail', (err: unknown, run: { attrs: { name: string } }) => deps.logger.warn('job failed', { job: run?.attrs?.name, err }));
  await agenda.ready;
  // The LISTEN connection reports a lost database as an 'error' event; unheard, that would kill the process.
  const channel = backend.notificationChannel as unknown as { on?: (event: 'error', fn: (err: unknown) => void) => void } | undefined;
  channel?.on?.('error', (err) => deps.logger.warn('job notifications lost their connection', { err }));
  let processing = false;
  return {
    agenda,
    get processing() {
      return processing;
    },
    async start() {
      await agenda.start();
      for (const job of ALL_JOBS) {
        const every = typeof job.every === 'function' ? job.every(deps) : job.every;
        if (every) await agenda.every(every, job.name, {});
      }
      processing = true;
    },
    async enqueue(name, payload, when) {
      const data = JOBS[name].payload.parse(payload);
      if (when) await agenda.schedule(when, name, data);
      else await agenda.now(name, data);
    },
    async stop(timeoutMs) {
      if (processing) {
        await agenda.drain(timeoutMs).catch(() => undefined);
        processing = false;
      }
      // closeConnection: ends the LISTEN client; the pool is ours and stays open (the backend never ends a pool it was given).
      await agenda.stop(true);
    },
  };
}
