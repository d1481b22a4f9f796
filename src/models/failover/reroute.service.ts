import type { Db } from '../../db/db.js';
import { recordAudit } from '../audit/audit.repository.js';
import { coursesRefusingBatch } from '../privacy/privacy.repository.js';
import type { BatchRow, SelectedItem } from '../batches/batches.repository.js';
import { failoverModelFor } from './failover-models.js';
import { findFailoverSettings, healthMarks, noteRerouted, type HealthMark } from './failover.repository.js';
import { estimateAt, providerLabel } from './failover.service.js';

/**
 * Provider selection at batch creation (issue 20, item 6, part 3): under an automatic failover policy, items whose
 * prompt sends them to a provider marked unhealthy go to the first provider of the platform's order that is not
 * marked and that their course approves, at that provider's model of the same tier (failover-models.ts), their
 * estimate priced there. Items whose course approves no such provider stay on their own provider (the mark is a
 * warning then, not a refusal). `reasons` says, per new model, why its items moved: the batch's page shows it.
 */
export interface Rerouted {
  items: SelectedItem[];
  /** Model → why items went to it instead of their prompt's provider. */
  reasons: Map<string, string>;
}

export async function rerouteAroundUnhealthy(db: Db, platformId: number, items: SelectedItem[]): Promise<Rerouted> {
  const none: Rerouted = { items, reasons: new Map() };
  const marks = (await healthMarks(db, platformId)).filter((m) => m.unhealthySince);
  if (!marks.length || !items.some((i) => marks.some((m) => m.provider === i.provider))) return none;
  const settings = await findFailoverSettings(db, platformId);
  if (settings.mode !== 'automatic') return none;
  const marked = new Map(marks.map((m) => [m.provider, m]));
  const candidates = settings.providerOrder.filter((p) => !marked.has(p));
  // Which candidate providers each course refuses, asked once per provider.
  const courses = [...new Set(items.map((i) => i.course_id))];
  const refusing = new Map<string, Set<number>>();
  for (const p of candidates) refusing.set(p, new Set((await coursesRefusingBatch(db, courses, p)).map((c) => c.courseId)));
  const reasons = new Map<string, string>();
  const out = items.map((item) => {
    const mark = marked.get(item.provider);
    if (!mark) return item;
    const to = candidates.find((p) => !refusing.get(p)!.has(item.course_id));
    const model = to ? failoverModelFor(item.model, to, settings.failoverModels) : null;
    if (!to || !model) return item;
    reasons.set(model, reasonOf(mark, to, model));
    return { ...item, provider: to, model, est_cost_micros: estimateAt(item, model) };
  });
  return { items: out, reasons };
}

function reasonOf(mark: HealthMark, to: string, model: string): string {
  return `${providerLabel(mark.provider)} is marked unhealthy (${mark.reason} Skipped until a probe succeeds), so items made for it went to ${providerLabel(to)} (${model}) instead.`;
}

/** After the batches are made: each batch of a rerouted model says why on its page, audited. */
export async function noteReroutedBatches(db: Db, platformId: number, created: BatchRow[], reasons: Map<string, string>): Promise<void> {
  for (const batch of created) {
    const reason = reasons.get(batch.model);
    if (!reason) continue;
    await noteRerouted(db, [batch.id], reason);
    batch.failoverReason = reason;
    await recordAudit(db, { platformId, actorKind: 'system', action: 'batch.rerouted', entityType: 'batch', entityId: batch.id, details: { provider: batch.provider, model: batch.model, reason } });
  }
}
