import type { Db } from '../../db/db.js';
import type { Logger } from '../../log.js';
import { ProviderError, type Providers } from '../../providers/index.js';
import { recordAudit } from '../audit/audit.repository.js';
import { findFailoverSettings, healthFigures, healthMarks, marksDueForProbe, recordProbe, saveFailoverSettings, type FailoverSettings, type HealthFigures, type HealthMark } from './failover.repository.js';
import type { FailoverInput } from './failover.schema.js';
import { providerLabel } from './failover.service.js';

/**
 * A provider's health, for one platform (issue 20, item 6, part 1): derived from its batches of the last 24 hours
 * (failed or expired batches, batches past the SLA, stuck ones, the share of requests that failed) and from the
 * explicit mark failover sets, which only a successful probe clears. `unhealthy`: marked, so new batches skip it
 * where a course approves another provider; `warning`: recent trouble, shown but not acted on; `healthy`: neither.
 */
export type HealthStatus = 'healthy' | 'warning' | 'unhealthy';

export interface ProviderHealth {
  provider: string;
  label: string;
  status: HealthStatus;
  /** Sentences saying why (the mark's reason first), empty when healthy. */
  reasons: string[];
  figures: HealthFigures;
  mark: HealthMark | null;
}

/** A request error rate at or above this, over at least ERROR_RATE_MIN_REQUESTS requests, is a warning. */
export const ERROR_RATE_WARNING = 0.1;
const ERROR_RATE_MIN_REQUESTS = 20;

const empty = (provider: string): HealthFigures => ({ provider, ended: 0, failed: 0, expired: 0, overdue: 0, stuck: 0, pastSla: 0, medianTurnaroundMinutes: null, resolvedRequests: 0, failedRequests: 0 });
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The platform's providers (those named here: this installation's), each with its status and why. */
export async function providerHealth(db: Db, platformId: number, providers: readonly string[]): Promise<{ settings: FailoverSettings; providers: ProviderHealth[] }> {
  const settings = await findFailoverSettings(db, platformId);
  const [figures, marks] = await Promise.all([healthFigures(db, platformId, settings.slaMinutes), healthMarks(db, platformId)]);
  const names = [...new Set([...providers, ...marks.map((m) => m.provider)])];
  return {
    settings,
    providers: names.map((provider) => judge(provider, figures.find((f) => f.provider === provider) ?? empty(provider), marks.find((m) => m.provider === provider) ?? null, settings.slaMinutes)),
  };
}

function judge(provider: string, f: HealthFigures, mark: HealthMark | null, slaMinutes: number): ProviderHealth {
  const warnings: string[] = [];
  if (f.failed) warnings.push(`${plural(f.failed, 'batch')} failed in the last 24 hours.`);
  if (f.expired) warnings.push(`${plural(f.expired, 'batch')} expired in the last 24 hours.`);
  if (f.stuck) warnings.push(`${plural(f.stuck, 'batch')} still running past the SLA (${slaMinutes / 60} h).`);
  if (f.pastSla) warnings.push(`${plural(f.pastSla, 'batch')} took longer than the SLA (${slaMinutes / 60} h) in the last 24 hours.`);
  const rate = f.resolvedRequests ? f.failedRequests / f.resolvedRequests : 0;
  if (f.resolvedRequests >= ERROR_RATE_MIN_REQUESTS && rate >= ERROR_RATE_WARNING) warnings.push(`${Math.round(rate * 100)} % of requests failed in the last 24 hours (${f.failedRequests} of ${f.resolvedRequests}).`);
  const marked = mark?.unhealthySince ? mark : null;
  const reasons = marked ? [`Marked unhealthy: ${marked.reason} Skipped for new batches until a probe succeeds.`, ...warnings] : warnings;
  return { provider, label: providerLabel(provider), status: marked ? 'unhealthy' : warnings.length ? 'warning' : 'healthy', reasons, figures: f, mark };
}

/** How long after a failed probe the next one is made. */
export const PROBE_INTERVAL_MS = 60_000;

export type ProbeOutcome = { platformId: number; provider: string; ok: boolean; error: string | null };

/**
 * The worker's probe (job `probe-providers`): each provider marked unhealthy, at most once per `intervalMs`, is
 * asked the smallest real question (a list of one batch, `BatchProvider.probe`); an answer clears the mark, audited,
 * and a failure is recorded beside it for the Providers page. A provider this installation does not have stays marked.
 */
export async function probeMarkedProviders(db: Db, providers: Providers, logger: Pick<Logger, 'info' | 'warn'>, intervalMs = PROBE_INTERVAL_MS): Promise<ProbeOutcome[]> {
  const outcomes: ProbeOutcome[] = [];
  const tried = new Map<string, string | null>();
  for (const mark of await marksDueForProbe(db, intervalMs)) {
    // One call per provider per run, whatever the number of platforms that marked it.
    if (!tried.has(mark.provider)) tried.set(mark.provider, await probeOnce(providers, mark.provider));
    const error = tried.get(mark.provider)!;
    const recorded = await db.transaction(async (tx) => {
      if (!(await recordProbe(tx, mark.platformId, mark.provider, error))) return false;
      await recordAudit(tx, {
        platformId: mark.platformId,
        actorKind: 'system',
        action: error === null ? 'provider.probe_succeeded' : 'provider.probe_failed',
        entityType: 'provider',
        entityId: mark.provider,
        details: { provider: mark.provider, ...(error ? { error } : {}) },
      });
      return true;
    });
    if (!recorded) continue;
    if (error === null) logger.info('a provider answered its probe: no longer marked unhealthy', { platformId: mark.platformId, provider: mark.provider });
    else logger.warn('a provider marked unhealthy failed its probe', { platformId: mark.platformId, provider: mark.provider, error });
    outcomes.push({ platformId: mark.platformId, provider: mark.provider, ok: error === null, error });
  }
  return outcomes;
}

async function probeOnce(providers: Providers, name: string): Promise<string | null> {
  if (!providers.has(name)) return `${providerLabel(name)} is not configured in this installation.`;
  try {
    await providers.get(name).probe();
    return null;
  } catch (err) {
    if (err instanceof ProviderError) return err.message.slice(0, 300);
    throw err;
  }
}

/** An administrator's failover policy, saved and audited with what it was before. */
export async function changeFailoverPolicy(db: Db, admin: { platformId: number; userId: number }, input: FailoverInput): Promise<FailoverSettings> {
  const before = await findFailoverSettings(db, admin.platformId);
  await saveFailoverSettings(db, admin.platformId, admin.userId, input);
  const { saved: _s, ...was } = before;
  await recordAudit(db, { platformId: admin.platformId, actorId: admin.userId, actorKind: 'user', action: 'failover.settings_changed', entityType: 'platform', entityId: admin.platformId, details: { before: was, after: input } });
  return findFailoverSettings(db, admin.platformId);
}
