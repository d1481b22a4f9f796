import { createHash, timingSafeEqual } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import type { RootDb } from '../db/db.js';
import { NotFound } from '../errors.js';
import { refreshDatabaseGauges } from '../metrics/metrics.service.js';
import type { Metrics } from '../metrics/registry.js';

/**
 * GET /metrics: the Prometheus exposition of this process's metrics and the database's backlog gauges, for a
 * scraper holding METRICS_TOKEN (`Authorization: Bearer …`). Without a configured token the endpoint does not
 * exist (404): nothing about the tool's load is public by default. Answers JSON, not the tool's pages: its client
 * is a scraper.
 */
export function metricsRoutes(deps: { db: RootDb; metrics: Metrics; token: string | undefined }): Router {
  const router = Router();
  router.get('/metrics', async (req: Request, res: Response) => {
    res.setHeader('Cache-Control', 'no-store');
    // Off looks like any path nobody serves.
    if (!deps.token) throw NotFound();
    if (!bearerMatches(req.get('Authorization'), deps.token)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
      res.status(401).json({ error: { code: 'unauthorized', message: 'A valid bearer token is required.' } });
      return;
    }
    await refreshDatabaseGauges(deps.db, deps.metrics);
    res.setHeader('Content-Type', deps.metrics.registry.contentType);
    res.send(await deps.metrics.registry.metrics());
  });
  return router;
}

/** Compares digests, so neither the token's length nor its prefix leaks through timing. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer ([^\s]+)$/i.exec(header ?? '');
  if (!match) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(match[1]!), digest(token));
}
