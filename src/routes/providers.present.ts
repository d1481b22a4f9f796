import type { FailoverEvent, FailoverLinks, FailoverSettings, HealthMark } from '../models/failover/failover.repository.js';
import { providerLabel } from '../models/failover/failover.service.js';
import type { ProviderHealth } from '../models/failover/provider-health.service.js';
import { formatDateTime } from './present.js';

/** View models of the Providers page, the Batches page's health line and a batch's failover links (issue 20, item 6). */

const time = (d: Date | null) => (d ? { label: formatDateTime(d), iso: d.toISOString() } : null);
const STATUS = { healthy: { label: 'Healthy', tone: 'completed' }, warning: { label: 'Warning', tone: 'partial' }, unhealthy: { label: 'Unhealthy', tone: 'failed' } } as const;

function minutes(m: number | null): string {
  if (m === null) return '—';
  return m >= 90 ? `${Math.round((m / 60) * 10) / 10} h` : `${Math.max(1, Math.round(m))} min`;
}

function probeText(mark: HealthMark | null): string {
  if (!mark) return 'Never marked, never probed.';
  if (mark.unhealthySince) {
    if (!mark.lastProbeAt) return 'Not probed yet: the worker probes it within a minute.';
    return `Last probe ${formatDateTime(mark.lastProbeAt)} failed${mark.lastProbeError ? `: ${mark.lastProbeError}` : ''}. Probed again every minute.`;
  }
  return mark.clearedAt ? `Healthy again since a probe succeeded on ${formatDateTime(mark.clearedAt)}.` : 'Not marked.';
}

export function presentHealth(h: ProviderHealth) {
  const f = h.figures;
  return {
    provider: h.provider,
    label: h.label,
    status: h.status,
    statusLabel: STATUS[h.status].label,
    tone: STATUS[h.status].tone,
    reasons: h.reasons,
    since: time(h.mark?.unhealthySince ?? null),
    markBatchId: h.mark?.unhealthySince ? h.mark.batchId : null,
    probe: probeText(h.mark),
    ended: f.ended,
    failedOrExpired: f.failed + f.expired,
    overdue: f.overdue,
    stuck: f.stuck,
    pastSla: f.pastSla,
    turnaround: minutes(f.medianTurnaroundMinutes),
    errorRate: f.resolvedRequests ? `${Math.round((f.failedRequests / f.resolvedRequests) * 1000) / 10} % (${f.failedRequests} of ${f.resolvedRequests})` : '—',
  };
}

/** The form's values from the saved settings. */
export function failoverValues(s: FailoverSettings): Record<string, string> {
  return {
    mode: s.mode,
    first: s.providerOrder[0] ?? 'openai',
    modelOpenai: s.failoverModels.openai ?? '',
    modelAnthropic: s.failoverModels.anthropic ?? '',
    slaMinutes: String(s.slaMinutes),
  };
}

export function describePolicy(s: FailoverSettings): string {
  const order = s.providerOrder.map(providerLabel).join(', then ');
  if (s.mode === 'off') return `Off: a batch that fails, expires or runs late sends its unfinished items back to the queue${s.saved ? '' : ' (the default)'}.`;
  return `Automatic: a batch that fails, expires or passes the SLA of ${minutes(s.slaMinutes)} moves its unfinished items to the next provider (${order}) its courses approve that is not marked unhealthy.`;
}

/** The Batches page's line: providers marked unhealthy, or null when none is. */
export function presentUnhealthy(marks: HealthMark[]) {
  const marked = marks.filter((m) => m.unhealthySince);
  if (!marked.length) return null;
  return marked.map((m) => ({ label: providerLabel(m.provider), reason: m.reason, since: time(m.unhealthySince) }));
}

const WHY: Record<string, string> = { expired: 'expired', failed: 'failed' };

/** One failover, as the pages say it: "3 items moved from OpenAI to Anthropic after the batch expired". */
export function presentFailoverEvent(e: FailoverEvent) {
  const why = WHY[e.fromStatus] ?? (e.overdue ? 'passed its time limit' : 'was cancelled');
  return {
    fromId: e.fromId,
    toId: e.toId,
    text: `${e.items} item${e.items === 1 ? '' : 's'} moved from ${providerLabel(e.fromProvider)} to ${providerLabel(e.toProvider)} after the batch ${why}`,
    from: `${providerLabel(e.fromProvider)}, ${e.fromModel}`,
    to: `${providerLabel(e.toProvider)}, ${e.toModel}`,
    at: time(e.at)!,
  };
}

/** A batch's page: where its items came from, where its unfinished ones went, and why. */
export function presentFailover(links: FailoverLinks, reason: string | null) {
  if (!links.from && !links.to && !reason) return null;
  return { from: links.from && presentFailoverEvent(links.from), to: links.to && presentFailoverEvent(links.to), reason };
}
