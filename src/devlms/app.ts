import express, { type Express } from 'express';
import type { DevLmsContext } from './context.js';
import { errorHandler, jsonError, pageError } from './http/errors.js';
import { agsRoutes } from './routes/ags.routes.js';
import { courseRoutes } from './routes/course.routes.js';
import { deepLinkingRoutes } from './routes/deep-linking.routes.js';
import { discoveryRoutes } from './routes/discovery.routes.js';
import { gradebookRoutes } from './routes/gradebook.routes.js';
import { launchRoutes } from './routes/launch.routes.js';
import { nrpsRoutes } from './routes/nrps.routes.js';
import { oidcRoutes } from './routes/oidc.routes.js';
import { registrationRoutes } from './routes/registration.routes.js';
import { testHookRoutes } from './routes/test-hooks.routes.js';
import { tokenRoutes } from './routes/token.routes.js';
import { mailRoutes } from './routes/mail.routes.js';
import type { MailCatcher } from './mail/catcher.js';

/** The dev LMS's Express app: pages, OIDC, OAuth, AGS, NRPS, deep linking, registration, caught mail (+ test hooks on request). */
export function createDevLmsApp(ctx: DevLmsContext, opts: { testHooks: boolean; onError: (err: unknown) => void; mail: MailCatcher | null }): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use((_req, res, next) => {
    res.set('X-Content-Type-Options', 'nosniff');
    next();
  });

  app.use(courseRoutes(ctx));
  app.use(launchRoutes(ctx));
  app.use(gradebookRoutes(ctx));
  app.use(discoveryRoutes(ctx));
  app.use(oidcRoutes(ctx));
  app.use(tokenRoutes(ctx));
  app.use('/api/lti/courses/:contextId/line_items', agsRoutes(ctx));
  app.use('/api/lti/courses/:contextId/memberships', nrpsRoutes(ctx));
  app.use(deepLinkingRoutes(ctx));
  app.use(registrationRoutes(ctx));
  app.use(mailRoutes(() => opts.mail));
  if (opts.testHooks) app.use(testHookRoutes(ctx));

  app.use((req) => {
    const isApi = req.path.startsWith('/api/') || req.path.startsWith('/__') || req.path === '/token' || req.path === '/register';
    throw isApi ? jsonError(404, 'not_found', `No such endpoint: ${req.method} ${req.path}.`) : pageError(404, `There is no page at ${req.path}.`);
  });
  app.use(errorHandler(opts.onError));
  return app;
}
