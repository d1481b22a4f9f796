import express, { type Express } from 'express';
import type { RootDb } from './db/db.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics/registry.js';
import { errorHandler, notFoundHandler } from './http/error-handler.js';
import { healthRoutes } from './routes/health.routes.js';
import { metricsRoutes } from './routes/metrics.routes.js';

/**
 * A worker process (ROLE=worker) serves no pages, but its jobs, provider calls and failures are counted in its own
 * registry: with WORKER_METRICS_PORT set it answers GET /metrics (the same token as the web's) and GET /healthz on
 * that port, so a scraper reaches every process.
 */
export function createWorkerApp(deps: { db: RootDb; logger: Logger; metrics: Metrics; token: string | undefined; processingJobs: () => boolean }): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(healthRoutes({ db: deps.db, role: 'worker', processingJobs: deps.processingJobs }));
  app.use(metricsRoutes({ db: deps.db, metrics: deps.metrics, token: deps.token }));
  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}
