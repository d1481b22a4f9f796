import type { Db } from '../../db/db.js';
import { summarizeAgreement } from '../../analytics/agreement.js';
import { gradingRequestFor } from '../../grading/request.js';
import { SUBMISSION_OPEN } from '../../grading/messages.js';
import { anthropicPrices } from '../../providers/anthropic-prices.js';
import { countRequestTokens, estimateCostMicros, getModelPrice, providerOfModel, UnknownModelError } from '../../providers/index.js';
import type { PriceRates } from '../../providers/pricing.js';
import { leastBudgetLeft } from '../budgets/budgets.service.js';
import type { SelectedItem } from './batches.repository.js';
import { versionsForRequests, type VersionForRequest } from './batch-work.repository.js';
import { explainBatch, type BatchExplanation } from './optimizer-explain.js';
import { healthMarks } from '../failover/failover.repository.js';
import { batchApprovals, decidedByProvider, itemTimes, providerTurnarounds } from './optimizer.repository.js';
import { decideProviders, type Agreement, type Choice, type ModelOption, type OptimizerInputs, type OptimizerItem, type ProviderPolicy } from './optimizer.js';

/**
 * The edge of the cost optimizer (optimizer.ts): loads its inputs once per batch creation — the courses'
 * approvals, each option's batch prices, each prompt version's static prefix, the providers' observed turnaround,
 * agreement per provider and prompt version, the budget left — decides, and hands createBatches its items with
 * their chosen provider, model and estimate, and a function that explains any batch made of them.
 */

export interface PolicyChoice {
  policy: ProviderPolicy;
  /** The target from queued to graded, when the task's due date does not come sooner. */
  targetTurnaroundMs: number;
}

export const DEFAULT_TARGET_TURNAROUND_MS = 24 * 3_600_000;

export interface Optimized {
  items: SelectedItem[];
  explain: (chunk: SelectedItem[]) => BatchExplanation;
}

/** The prompt's model and its stand-in at the other provider (data/prices/anthropic.yml's tiers). */
export function optionsOfVersion(model: string, temperature: number): ModelOption[] {
  const own = providerOfModel(model);
  if (!own) return [];
  const canonical = getModelPrice(model).model;
  const options: ModelOption[] = [{ provider: own, model }];
  const standIns = anthropicPrices();
  if (own === 'openai') {
    const standIn = standIns.byOpenAiModel.get(canonical);
    // Claude takes temperatures from 0 to 1: a prompt above that would be a different prompt there.
    if (standIn && temperature <= 1) options.push({ provider: 'anthropic', model: standIn.anthropicModel });
  } else {
    const tier = standIns.standIns.find((s) => s.anthropicModel === canonical);
    if (tier?.openaiModels[0]) options.push({ provider: 'openai', model: tier.openaiModels[0] });
  }
  return options;
}

/** Tokens of the part of a version's request that is the same for every submission (what a prompt cache reads). */
export function staticPrefixTokens(v: VersionForRequest): number {
  const req = gradingRequestFor(
    {
      version: { template: v.template, systemInstructions: v.system_instructions, graderInstructions: v.grader_instructions, rubric: v.rubric, maxScore: v.max_score, model: v.model, temperature: v.temperature, maxOutputTokens: v.max_output_tokens, outputSchema: v.output_schema },
      task: { title: v.task_title, description: v.task_description },
    },
    '',
    'prefix',
  );
  const messages = req.messages.map((m) => (m.role === 'user' ? { ...m, content: m.content.slice(0, Math.max(0, m.content.indexOf(SUBMISSION_OPEN))) } : m));
  const firstUser = messages.findIndex((m) => m.role === 'user');
  return countRequestTokens(v.model, firstUser < 0 ? messages : messages.slice(0, firstUser + 1), req.responseFormat);
}

function agreementOf(rows: Awaited<ReturnType<typeof decidedByProvider>>): Map<string, Agreement> {
  const groups = new Map<string, typeof rows>();
  for (const r of rows) groups.set(`${r.provider}:${r.promptVersionId}`, [...(groups.get(`${r.provider}:${r.promptVersionId}`) ?? []), r]);
  const out = new Map<string, Agreement>();
  for (const [key, outcomes] of groups) {
    const s = summarizeAgreement(outcomes);
    if (s.approvalRate !== null) out.set(key, { approvalRate: s.approvalRate, reviewed: s.reviewed });
  }
  return out;
}

/** Everything the decision needs, read once (see the module comment). */
export async function loadOptimizerInputs(db: Db, platformId: number, items: SelectedItem[], target: number, now: Date): Promise<{ inputs: OptimizerInputs; optItems: OptimizerItem[] }> {
  const versionIds = [...new Set(items.map((i) => i.prompt_version_id))];
  const versions = await versionsForRequests(db, versionIds);
  // A provider marked unhealthy is no option while another is (failover: skipped until a probe succeeds).
  const unhealthy = new Set((await healthMarks(db, platformId)).filter((m) => m.unhealthySince).map((m) => m.provider));
  const healthy = (all: ModelOption[]) => (all.some((o) => !unhealthy.has(o.provider)) ? all.filter((o) => !unhealthy.has(o.provider)) : all);
  const options = new Map(versions.map((v) => [v.id, healthy(optionsOfVersion(v.model, v.temperature))]));
  const prices = new Map<string, PriceRates>();
  for (const o of [...options.values()].flat()) if (!prices.has(o.model)) prices.set(o.model, getModelPrice(o.model).batch);
  const courseIds = [...new Set(items.map((i) => i.course_id))];
  const times = await itemTimes(db, items.map((i) => i.id));
  const turnaround = new Map((await providerTurnarounds(db, platformId)).map((t) => [t.provider, t]));
  const inputs: OptimizerInputs = {
    now,
    options,
    approved: await batchApprovals(db, courseIds),
    prices,
    prefixTokens: new Map(versions.map((v) => [v.id, staticPrefixTokens(v)])),
    turnaround,
    agreement: agreementOf(await decidedByProvider(db, versionIds)),
    budgetLeftMicros: await leastBudgetLeft(db, platformId, courseIds),
  };
  const optItems = items.map((i): OptimizerItem => {
    const t = times.get(i.id);
    const byTarget = (t?.queuedAt.getTime() ?? now.getTime()) + target;
    const due = t?.dueAt && t.dueAt > now ? t.dueAt.getTime() : Infinity;
    return { id: i.id, courseId: i.course_id, promptVersionId: i.prompt_version_id, provider: i.provider, model: i.model, estInputTokens: i.est_input_tokens, estOutputTokens: i.est_output_tokens, deadline: new Date(Math.min(byTarget, due)) };
  });
  return { inputs, optItems };
}

/** An item moved to another model: its estimate (what is reserved) at that model's batch prices, uncached. */
function moved(item: SelectedItem, c: Choice): SelectedItem {
  if (c.model === item.model) return item;
  try {
    return { ...item, provider: c.provider, model: c.model, est_cost_micros: estimateCostMicros({ inputTokens: item.est_input_tokens, outputTokens: item.est_output_tokens }, c.model, 'batch') };
  } catch (err) {
    if (err instanceof UnknownModelError) return item;
    throw err;
  }
}

/** The items with the provider and model the optimizer chose, and the explanation of any batch of them. */
export async function optimizeProviders(db: Db, platformId: number, items: SelectedItem[], policy: PolicyChoice, minGroupSize: number, now = new Date()): Promise<Optimized> {
  const { inputs, optItems } = await loadOptimizerInputs(db, platformId, items, policy.targetTurnaroundMs, now);
  const choices = decideProviders(optItems, inputs, minGroupSize);
  const byItem = new Map(choices.map((c) => [c.itemId, c]));
  const optById = new Map(optItems.map((o) => [o.id, o]));
  return {
    items: items.map((i) => moved(i, byItem.get(i.id)!)),
    explain: (chunk) => {
      const batch = { provider: chunk[0]!.provider, model: chunk[0]!.model };
      return explainBatch(batch, chunk.map((i) => optById.get(i.id)!), chunk.map((i) => byItem.get(i.id)!), inputs);
    },
  };
}
