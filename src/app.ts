import path from 'node:path';
import cookieParser from 'cookie-parser';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Config } from './config.js';
import type { RootDb } from './db/db.js';
import type { Logger } from './log.js';
import type { Jobs } from './job-queue.js';
import { csrfProtection } from './http/csrf.js';
import { httpMetrics } from './http/http-metrics.js';
import { requestId } from './http/request-id.js';
import { createMetrics, type Metrics } from './metrics/registry.js';
import { cleanInput, formsOnly, refuseUndecodablePath } from './http/input.js';
import { errorHandler, notFoundHandler } from './http/error-handler.js';
import { createRateLimits, type RateLimits } from './http/rate-limit.js';
import { setTemplateCaching, type ViewContext } from './http/render.js';
import { noStore, partitionedCookies, securityHeaders } from './http/security.js';
import { resolveActor } from './lti/actor.js';
import { dynamicRegistrationHandler, DYNAMIC_REGISTRATION_PATH } from './lti/dynamic-registration.js';
import { JwksCache } from './lti/jwks-cache.js';
import { trackLtijsDatabaseErrors } from './lti/ltijs-database.js';
import { ltijsFailureHandlers, onDeepLinkingLaunch, onLaunch, verifyLaunchPost } from './lti/launch.js';
import { loginHandler } from './lti/login.js';
import { PlatformDirectory } from './lti/platform-directory.js';
import { LTI_ROUTES, type LtiProvider } from './lti/provider.js';
import { PUBLIC_DIR, ROOT } from './paths.js';
import { createProviders } from './providers/index.js';
import { adminRoutes } from './routes/admin.routes.js';
import { apiRoutes } from './routes/api.routes.js';
import { inboxRoutes } from './routes/inbox.routes.js';
import { monitoringRoutes } from './routes/monitoring.routes.js';
import { taskSettingsRoutes } from './routes/task-settings.routes.js';
import { mySubmissionsApiRoutes } from './routes/my-submissions-api.routes.js';
import { deepLinkingRoutes } from './routes/deep-linking.routes.js';
import { healthRoutes } from './routes/health.routes.js';
import { metricsRoutes } from './routes/metrics.routes.js';
import { unsubscribeRoutes } from './routes/unsubscribe.routes.js';
import { preferencesRoutes } from './routes/preferences.routes.js';
import { notificationsAdminRoutes } from './routes/notifications-admin.routes.js';
import { instructorRoutes } from './routes/instructor.routes.js';
import { PROMPT_TEST_RETRY, promptRoutes } from './routes/prompts.routes.js';
import { abTestRoutes } from './routes/ab-tests.routes.js';
import { promptApiRoutes } from './routes/prompts.api.js';
import { publicRoutes } from './routes/public.routes.js';
import { settingsRoutes } from './routes/settings.routes.js';
import { studentRoutes } from './routes/student.routes.js';
import { submissionUpload } from './routes/submission-upload.js';
import { queueRoutes } from './routes/queue.routes.js';
import { batchesRoutes } from './routes/batches.routes.js';
import { schedulesRoutes } from './routes/schedules.routes.js';
import { providersRoutes } from './routes/providers.routes.js';
import { queueApiRoutes } from './routes/queue-api.routes.js';
import { reviewRoutes } from './routes/review.routes.js';
import { reviewApiRoutes } from './routes/review-api.routes.js';
import { feedbackRoutes } from './routes/feedback.routes.js';
import { costsRoutes } from './routes/costs.routes.js';
import { costsApiRoutes } from './routes/costs-api.routes.js';
import { costReportRoutes } from './routes/cost-report.routes.js';
import { auditRoutes } from './routes/audit.routes.js';
import { privacyAdminRoutes } from './routes/privacy-admin.routes.js';
import { peopleRoutes } from './routes/people.routes.js';
import { peopleApiRoutes } from './routes/people-api.routes.js';
import { myDataRoutes } from './routes/my-data.routes.js';

export interface AppDeps {
  config: Config;
  db: RootDb;
  lti: LtiProvider;
  logger: Logger;
  /** Whether this process runs jobs (for /healthz). */
  processingJobs?: () => boolean;
  /** Enqueues jobs by name (e.g. kickBatch after an administrator confirms a send or cancel); absent in bare apps. */
  jobs?: Jobs;
  /** The runtime's metrics (shared with its job runner and provider); a bare app makes its own. */
  metrics?: Metrics;
}

export interface ToolApp {
  app: Express;
  platforms: PlatformDirectory;
  jwks: JwksCache;
  /** Every route behind an LTI session (the role × route tests read it to prove they cover them all). */
  sessionRouter: express.Router;
  metrics: Metrics;
}

/** Form and JSON bodies: a 100,000-character essay, urlencoded, fits with room to spare. */
const BODY_LIMIT = '2mb';
/** Our largest forms stay far below this: the queue posts at most 200 ids, the prompt editor about 130 fields. */
const PARAMETER_LIMIT = 1000;

/**
 * The Express app without listen(). Public routes first, then the launch (our login and id_token checks in
 * front of ltijs), then everything behind an LTI session: actor (role + tenant), CSRF, the role routers.
 * The order of the mount* calls below is the order requests meet the middleware: keep it.
 */
export function createApp(deps: AppDeps): ToolApp {
  const { config, db, logger } = deps;
  const { lti } = deps.lti;
  const metrics = deps.metrics ?? createMetrics();
  setTemplateCaching(config.env !== 'development');
  const platforms = new PlatformDirectory(db, lti);
  const jwks = new JwksCache({ ttlMs: config.lti.jwksCacheTtlSeconds * 1000, timeoutMs: config.lti.jwksTimeoutMs, outbound: config.lti.outbound });

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  // First: every line logged for a request carries its id, and every request is timed.
  app.use(requestId, httpMetrics(metrics));
  app.use(partitionedCookies, securityHeaders);
  mountOpenRoutes(app, { ...deps, metrics });

  // Per-IP limits on the open LTI endpoints, before any body is read or row written (src/http/rate-limit.ts).
  const limits = createRateLimits(config.rateLimits);
  app.all(LTI_ROUTES.login, limits.ltiLogin);
  app.post(LTI_ROUTES.launch, limits.ltiLaunch);
  app.get(`${DYNAMIC_REGISTRATION_PATH}/:token`, limits.ltiRegistration);
  app.get(LTI_ROUTES.keys, limits.ltiKeys);

  mountBodyParsing(app, config);
  mountLti(app, deps, { platforms, jwks });

  // Behind this line every request has a valid LTI session (ltijs checks the ltik and its cookie).
  const session = sessionRoutes({ ...deps, metrics }, { platforms, limits });
  lti.app.use(session);
  app.use(trackLtijsDatabaseErrors(lti), lti.app);

  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return { app, platforms, jwks, sessionRouter: session, metrics };
}

/** The view context every page starts from, the static files, and the routes that need no launch. */
function mountOpenRoutes(app: Express, deps: AppDeps & { metrics: Metrics }): void {
  const { config, db } = deps;
  app.use((_req: Request, res: Response, next: NextFunction) => {
    res.locals.view = { demoMode: config.openai.demoMode, nav: [] } satisfies ViewContext;
    next();
  });

  app.use('/public', express.static(PUBLIC_DIR, { maxAge: config.env === 'production' ? '1h' : 0, index: false }));
  app.get('/vendor/htmx.min.js', (_req, res) => {
    res.sendFile(path.join(ROOT, 'node_modules', 'htmx.org', 'dist', 'htmx.min.js'), { maxAge: config.env === 'production' ? '1d' : 0 });
  });
  // Everything past the static files is about someone (pages carry the launch token, names, grades): no cache
  // — browser, proxy or LMS — keeps a copy.
  app.use(noStore);
  // Before ltijs, which answers a path it cannot decode with its own JSON: ours is a page like every error.
  app.use(refuseUndecodablePath);
  // Operators' endpoints: no session, and no rate limit (a monitor polls them; /metrics asks for its token).
  app.use(healthRoutes({ db, role: config.role, processingJobs: deps.processingJobs ?? (() => false) }));
  app.use(metricsRoutes({ db, metrics: deps.metrics, token: config.metricsToken }));
  app.use(publicRoutes({ toolUrl: config.toolUrl }));
  // The e-mails' one-click unsubscribe: its signed link is its authority (no launch can precede a click in a mail client).
  app.use(unsubscribeRoutes({ db, secret: config.lti.key }));
}

/** Bodies parsed once, here, for us and for ltijs; NULs removed; signed cookies read. */
function mountBodyParsing(app: Express, config: Config): void {
  app.use(express.urlencoded({ extended: false, limit: BODY_LIMIT, parameterLimit: PARAMETER_LIMIT }), express.json({ limit: BODY_LIMIT }), (req: Request, _res: Response, next: NextFunction) => {
    // ltijs' own body-parser 1.x would read the (already consumed) stream again unless told it was parsed,
    // and ltijs reads req.body.state on every request: Express 5 leaves the body undefined when there is none.
    (req as Request & { _body?: boolean })._body = true;
    req.body ??= {};
    next();
  }, cleanInput);
  app.use(cookieParser(config.lti.key));
}

/** Our OIDC login, id_token verification and dynamic registration in front of ltijs, and ltijs' launch callbacks. */
function mountLti(app: Express, deps: AppDeps, known: { platforms: PlatformDirectory; jwks: JwksCache }): void {
  const { config, db, logger } = deps;
  const { lti } = deps.lti;
  const { platforms, jwks } = known;
  const allowInsecureLocalhost = config.env !== 'production';
  app.all(LTI_ROUTES.login, loginHandler({ lti, platforms, ltiKey: config.lti.key, toolUrl: config.toolUrl }));
  app.post(
    LTI_ROUTES.launch,
    verifyLaunchPost(
      { db, platforms, jwks, ltiKey: config.lti.key, tokenMaxAgeSeconds: config.lti.tokenMaxAgeSeconds, clockSkewSeconds: config.lti.clockSkewSeconds },
      lti,
    ),
  );
  app.get(
    `${DYNAMIC_REGISTRATION_PATH}/:token`,
    dynamicRegistrationHandler({ db, lti, platforms, allowInsecureLocalhost, toolUrl: config.toolUrl, fetchTimeoutMs: config.lti.jwksTimeoutMs, outbound: config.lti.outbound, logger }),
  );

  const launchDeps = { db, platforms, adminAllowlist: config.lti.adminAllowlist, logger, jobs: deps.jobs };
  lti.onConnect(onLaunch(launchDeps));
  lti.onDeepLinking(onDeepLinkingLaunch(launchDeps));
  ltijsFailureHandlers(lti);
}

/** Everything behind an LTI session: the actor (role and tenant), upload and form guards, CSRF, then one router per area. */
function sessionRoutes(deps: AppDeps, shared: { platforms: PlatformDirectory; limits: RateLimits }): express.Router {
  const { config, db, logger } = deps;
  const { lti } = deps.lti;
  const { platforms, limits } = shared;
  const session = express.Router();
  session.use(resolveActor({ db, platforms, adminAllowlist: config.lti.adminAllowlist, ltiKey: config.lti.key, demoMode: config.openai.demoMode }));
  session.use('/api', limits.apiWrites);
  session.use(submissionUpload({ maxFileBytes: config.submissionMaxFileBytes, maxDocumentBytes: config.submissionMaxDocumentBytes }));
  session.use(formsOnly);
  session.use(csrfProtection(config.lti.key));
  session.use(studentRoutes({ db, config, jobs: deps.jobs, logger, submissionLimit: limits.submissions, previewLimit: limits.filePreviews }));
  session.use(instructorRoutes({ db, config, jobs: deps.jobs, logger }), taskSettingsRoutes({ db }));
  session.use(settingsRoutes({ db }));
  const promptDeps = { db, providers: createProviders(config, { logger, retry: PROMPT_TEST_RETRY, metrics: deps.metrics }), submissionMaxChars: config.submissionMaxChars, sampleTests: config.sampleTests, sampleTestLimit: limits.sampleTests };
  session.use(promptRoutes(promptDeps), promptApiRoutes(promptDeps), abTestRoutes({ db, encryptionKey: config.encryptionKey, providers: promptDeps.providers }));
  session.use(adminRoutes({ db, platforms, toolUrl: config.toolUrl }));
  session.use(deepLinkingRoutes({ db, lti, toolUrl: config.toolUrl }));
  session.use(apiRoutes(), mySubmissionsApiRoutes({ db, config }), inboxRoutes({ db }));
  session.use(preferencesRoutes({ db, emailConfigured: Boolean(config.mail.smtpUrl) }), notificationsAdminRoutes({ db, mail: config.mail }));
  session.use(queueRoutes({ db, config }));
  session.use(batchesRoutes({ db, config, jobs: deps.jobs }));
  session.use(schedulesRoutes({ db }), providersRoutes({ db, providers: promptDeps.providers.names }));
  session.use(queueApiRoutes({ db, config, jobs: deps.jobs }));
  session.use(reviewRoutes({ db, config, logger, jobs: deps.jobs }));
  session.use(reviewApiRoutes({ db, config, logger, jobs: deps.jobs }));
  session.use(feedbackRoutes({ db, config }));
  session.use(costsRoutes({ db, jobs: deps.jobs, config }), costsApiRoutes({ db }));
  session.use(costReportRoutes({ db }), monitoringRoutes({ db, jobs: deps.jobs }));
  session.use(auditRoutes({ db }), privacyAdminRoutes({ db }));
  session.use(peopleRoutes({ db, config, jobs: deps.jobs, logger }), peopleApiRoutes({ db, config, jobs: deps.jobs, logger }), myDataRoutes({ db, config }));
  return session;
}
