import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The process's Prometheus metrics (GET /metrics, src/routes/metrics.routes.ts). One registry per runtime rather
 * than prom-client's global one: a test process starts several tools, and each must count only its own work.
 * Labels are bounded sets (route patterns, job names, operation names, statuses): never ids, URLs or tokens.
 */
export interface Metrics {
  registry: Registry;
  /** By method, route pattern (`req.route.path`) and status class (2xx …). */
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  /** Every run of a job's handler, by job name and outcome (ok, failed). */
  jobDuration: Histogram<'job' | 'outcome'>;
  jobFailures: Counter<'job'>;
  /** Each attempt of a call to the LLM provider, by operation (create_batch, retrieve_batch, …). */
  providerDuration: Histogram<'provider' | 'operation'>;
  providerErrors: Counter<'provider' | 'operation' | 'code'>;
  /** Read from the database at each scrape (src/metrics/metrics.service.ts). */
  queueItems: Gauge<'status'>;
  batches: Gauge<'status'>;
  gradeSyncBacklog: Gauge;
  jobsBacklog: Gauge;
  jobsOldestPendingSeconds: Gauge;
}

const PREFIX = 'llm_assess_';

export function createMetrics(): Metrics {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    httpDuration: new Histogram({
      name: `${PREFIX}http_request_duration_seconds`,
      help: 'HTTP requests by method, route pattern and status class.',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    jobDuration: new Histogram({
      name: `${PREFIX}job_duration_seconds`,
      help: 'Job handler runs by job name and outcome.',
      labelNames: ['job', 'outcome'] as const,
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900],
      registers,
    }),
    jobFailures: new Counter({ name: `${PREFIX}job_failures_total`, help: 'Job handler runs that threw, by job name.', labelNames: ['job'] as const, registers }),
    providerDuration: new Histogram({
      name: `${PREFIX}provider_call_duration_seconds`,
      help: 'Attempts of calls to the LLM provider, by provider and operation.',
      labelNames: ['provider', 'operation'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    }),
    providerErrors: new Counter({
      name: `${PREFIX}provider_call_errors_total`,
      help: 'Failed attempts of calls to the LLM provider, by provider, operation and error code.',
      labelNames: ['provider', 'operation', 'code'] as const,
      registers,
    }),
    queueItems: new Gauge({ name: `${PREFIX}queue_items`, help: 'Queue items by status.', labelNames: ['status'] as const, registers }),
    batches: new Gauge({ name: `${PREFIX}batches`, help: 'Batches by status.', labelNames: ['status'] as const, registers }),
    gradeSyncBacklog: new Gauge({ name: `${PREFIX}grade_sync_backlog`, help: 'Assessments whose grade is waiting to be sent to the LMS.', registers }),
    jobsBacklog: new Gauge({ name: `${PREFIX}jobs_backlog`, help: 'Jobs that are due and not running.', registers }),
    jobsOldestPendingSeconds: new Gauge({ name: `${PREFIX}jobs_oldest_pending_seconds`, help: 'How long the oldest due job has waited (0 when none waits).', registers }),
  };
}

/** Seconds since a performance.now() reading. */
export function secondsSince(started: number): number {
  return (performance.now() - started) / 1000;
}
