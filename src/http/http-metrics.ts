import type { NextFunction, Request, Response } from 'express';
import { secondsSince, type Metrics } from '../metrics/registry.js';

/**
 * Times every request into the HTTP histogram, labelled with the route's pattern (`/instructor/tasks/:taskId`),
 * never the path it was called with: ids and launch tokens would make a series per request. Requests no route
 * answered (static files, ltijs' own endpoints, 404s) share one label.
 */
export function httpMetrics(metrics: Metrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = performance.now();
    res.once('finish', () => {
      const pattern = req.route?.path;
      metrics.httpDuration.observe(
        { method: req.method, route: typeof pattern === 'string' ? pattern : '(unmatched)', status: `${Math.floor(res.statusCode / 100)}xx` },
        secondsSince(started),
      );
    });
    next();
  };
}
