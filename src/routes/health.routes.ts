import { Router } from 'express';
import type { RootDb } from '../db/db.js';
import { jobBacklog, type JobBacklog } from '../db/job-backlog.repository.js';
import { lastJobFinish } from '../db/job-heartbeat.repository.js';
import type { JobName } from '../job-queue.js';

/** The job every worker runs every 30 seconds (src/jobs/heartbeat.job.ts): its last finish says a worker is alive. */
const HEARTBEAT: JobName = 'heartbeat';
/** Three missed beats. */
const HEARTBEAT_STALE_AFTER_MS = 90_000;

/**
 * GET /healthz: 200 while the database answers (503 when it does not), with the job runner's state: a worker
 * anywhere finished the heartbeat job recently. A web process stays healthy while workers restart. The backlog (jobs
 * due that no worker has taken) and how long the oldest has waited say whether the workers keep up.
 */
export function healthRoutes(deps: { db: RootDb; role: string; processingJobs: () => boolean }): Router {
  const router = Router();
  router.get('/healthz', async (_req, res) => {
    const started = performance.now();
    let database: { ok: boolean; latencyMs?: number; error?: string };
    let lastHeartbeat: Date | null = null;
    let backlog: JobBacklog = { due: 0, oldestDueSeconds: null };
    try {
      [lastHeartbeat, backlog] = await Promise.all([lastJobFinish(deps.db, HEARTBEAT), jobBacklog(deps.db)]);
      database = { ok: true, latencyMs: Math.round((performance.now() - started) * 10) / 10 };
    } catch (err) {
      // agenda_jobs appears with the first job runner; a database without it is still up.
      const missingTable = (err as { code?: string })?.code === '42P01';
      database = missingTable ? { ok: true, latencyMs: Math.round(performance.now() - started) } : { ok: false, error: 'database unreachable' };
    }
    const fresh = lastHeartbeat !== null && Date.now() - lastHeartbeat.getTime() < HEARTBEAT_STALE_AFTER_MS;
    const jobs = {
      ok: fresh || deps.processingJobs(),
      processingHere: deps.processingJobs(),
      lastHeartbeat: lastHeartbeat?.toISOString() ?? null,
      backlog: backlog.due,
      oldestPendingSeconds: backlog.oldestDueSeconds === null ? null : Math.round(backlog.oldestDueSeconds),
    };
    const status = !database.ok ? 'down' : jobs.ok ? 'ok' : 'degraded';
    res.setHeader('Cache-Control', 'no-store');
    res.status(database.ok ? 200 : 503).json({ status, role: deps.role, database, jobs });
  });
  return router;
}
