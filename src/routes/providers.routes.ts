import { Router, type Request, type Response } from 'express';
import type { RootDb } from '../db/db.js';
import { actorOf, allow } from '../lti/actor.js';
import { render } from '../http/render.js';
import { HttpError } from '../errors.js';
import { parseInput } from '../validation.js';
import { listModels } from '../providers/index.js';
import { failoverForm, SLA_MINUTES } from '../models/failover/failover.schema.js';
import { tierPairs } from '../models/failover/failover-models.js';
import { changeFailoverPolicy, providerHealth } from '../models/failover/provider-health.service.js';
import { recentFailovers } from '../models/failover/failover.repository.js';
import { describePolicy, failoverValues, presentFailoverEvent, presentHealth } from './providers.present.js';
import { formText } from './form.js';
import { withDeps } from './handlers.js';

/**
 * Providers (issue 20, item 6): each provider's health for the platform (why, from its batches of the last 24 hours
 * and the failover mark) and the platform's failover policy. The worker acts on both (failover at ingestion, the
 * SLA at polling, probes every minute); this page only shows them and changes the policy.
 */
export interface ProviderRouteDeps {
  db: RootDb;
  /** The providers this installation can call (configured or emulated), in its order. */
  providers: readonly string[];
}

const FIELDS = ['mode', 'first', 'modelOpenai', 'modelAnthropic', 'slaMinutes'];

export function providersRoutes(deps: ProviderRouteDeps): Router {
  const on = withDeps(deps);
  const router = Router();
  router.use('/admin/providers', allow('administrator'));
  router.get('/admin/providers', on((d, req, res) => show(d, req, res)));
  router.post('/admin/providers', on(save));
  return router;
}

type FormState = { values?: Record<string, string>; fields?: Record<string, string>; saved?: boolean; status?: number };

async function show(deps: ProviderRouteDeps, req: Request, res: Response, form: FormState = {}): Promise<void> {
  const platformId = actorOf(res).platformId;
  const [{ settings, providers }, failovers] = await Promise.all([providerHealth(deps.db, platformId, deps.providers), recentFailovers(deps.db, platformId)]);
  render(
    req,
    res,
    'pages/admin/providers',
    {
      title: 'Providers',
      providers: providers.map(presentHealth),
      failovers: failovers.map(presentFailoverEvent),
      policy: describePolicy(settings),
      values: form.values ?? failoverValues(settings),
      fields: form.fields ?? {},
      saved: form.saved ?? false,
      tiers: tierPairs(),
      models: { openai: listModels(new Date(), 'openai').map((m) => m.model), anthropic: listModels(new Date(), 'anthropic').map((m) => m.model) },
      sla: SLA_MINUTES,
    },
    { status: form.status, fragment: 'partials/admin/_failover-form' },
  );
}

async function save(deps: ProviderRouteDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  try {
    const input = parseInput(failoverForm, req.body ?? {});
    await deps.db.transaction((tx) => changeFailoverPolicy(tx, { platformId: actor.platformId, userId: actor.userId }, input));
    await show(deps, req, res, { saved: true });
  } catch (err) {
    if (!(err instanceof HttpError && err.status === 422)) throw err;
    const values = Object.fromEntries(FIELDS.map((f) => [f, formText(req.body, f)]));
    await show(deps, req, res, { values, fields: err.fields, status: 422 });
  }
}
