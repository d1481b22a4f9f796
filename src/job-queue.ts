import type { Logger } from './log.js';

/**
 * The jobs a worker runs, by name, and what each one's payload holds: how routes, services and jobs ask for work
 * without importing a job's implementation (which imports the services that import this: a cycle). The job
 * runner (src/jobs/runner.ts) maps each name to its definition, and the compiler checks that every name here has
 * exactly one. Payloads carry ids, never objects; the runner parses them with the job's schema when they are
 * enqueued and again when they run.
 */
export interface JobPayloads {
  /** The batch steps (src/models/batches/batch-state.ts says which one a batch needs). */
  'batch-submit': BatchJobPayload;
  'batch-poll': BatchJobPayload;
  'batch-ingest': BatchJobPayload;
  'batch-cancel': BatchJobPayload;
  'batch-sweep': RecurringJobPayload;
  /** Batch schedules and automatic mode: the schedules whose slot has come, every minute. */
  'run-batch-schedules': RecurringJobPayload;
  /** Failover: providers marked unhealthy are probed, and cleared by the first answer, every minute. */
  'probe-providers': RecurringJobPayload;
  /** A real-time grading (models/escalation/): one request now, or every one that is due (real-time-only work, lost jobs). */
  'grade-realtime': { requestId?: number };
  /** Grade passback: one assessment now, or every sync that is due. */
  'sync-grades': { assessmentId?: number };
  /** A task's maximum follows its LMS gradebook column (asked for by launches). */
  'read-gradebook-column': { taskId: number };
  /** A course's roster from the LMS (NRPS), asked for by staff launches. */
  'sync-roster': { courseId: number };
  heartbeat: RecurringJobPayload;
  'purge-expired-nonces': RecurringJobPayload;
  'purge-expired-lti-states': RecurringJobPayload;
  /** Every course's retention policy, daily (src/models/privacy/retention.service.ts). */
  'apply-retention': RecurringJobPayload;
  /** New audit rows into the hash chain, every minute. */
  'seal-audit-log': RecurringJobPayload;
  /** A day's metrics (yesterday, UTC, daily; or the day named: a backfill). */
  'rollup-daily-metrics': { day?: string };
  /** Each instructor's daily digest of results waiting for review. */
  'notify-reviews-waiting': RecurringJobPayload;
  /** Students whose expected feedback time passed hear the new estimate. */
  'notify-delays': RecurringJobPayload;
  /** The e-mail notices owe (email_outbox): enqueued after a commit that wrote some, and every 30 seconds. */
  'send-email': RecurringJobPayload;
  /** Daily and weekly digests of held e-mail. */
  'collect-email-digests': RecurringJobPayload;
}

export type JobName = keyof JobPayloads;
export type BatchJobPayload = { batchId: number };
/** Recurring jobs are scheduled with an empty payload; keys they do not know are kept and ignored. */
export type RecurringJobPayload = Record<string, unknown>;

/** The one way to ask for a job: injected (a bare app or a handler called directly has none). */
export interface Jobs {
  /** Runs the job as soon as a worker is free (woken at once through LISTEN/NOTIFY), or at `when`. */
  enqueue<N extends JobName>(name: N, payload: JobPayloads[N], when?: Date): Promise<void>;
}

/**
 * Asks for a job now, after a transaction committed, for work a recurring job also finds (a batch step, a grade
 * sync): a failure to enqueue only delays the work until then, so it is logged and never fails the caller.
 * Without a job runner there is nothing to do.
 */
export async function enqueueSoon<N extends JobName>(jobs: Jobs | undefined, logger: Pick<Logger, 'warn'>, name: N, payload: JobPayloads[N]): Promise<void> {
  if (!jobs) return;
  try {
    await jobs.enqueue(name, payload);
  } catch (err) {
    logger.warn('could not enqueue a job; its recurring sweep will do the work', { err, job: name, payload });
  }
}
