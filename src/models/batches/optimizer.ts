import { costAtRates, type PriceRates } from '../../providers/pricing.js';

/**
 * The cost optimizer (issue 20, item 4): for each queued item, which approved provider and model its batch goes
 * to. Pure — every input (approvals, prices, turnaround, agreement) is loaded once by the caller
 * (optimizer.service.ts), so deciding for 50,000 items is arithmetic, and a test can state every case.
 *
 * The rule, "cheapest that meets the deadline":
 *   1. the options are the prompt's model and its stand-in at the other provider (data/prices/anthropic.yml), kept
 *      where the item's course approves the provider (and the institution allows it) for batches;
 *   2. an option whose agreement with instructors on this prompt version is known and clearly below the best known
 *      option's is dropped (QUALITY_MARGIN, from at least QUALITY_MIN_REVIEWED decisions);
 *   3. of the options whose observed p95 turnaround ends before the item's deadline, the cheapest (batch prices,
 *      the prompt's static prefix read from the prompt cache after the first request of its group); none meets it:
 *      the fastest by median; no deadline: the cheapest;
 *   4. over the budget left, items are moved back from a dearer choice to their cheapest option, newest first,
 *      until the choices fit (what still does not fit is left to the budgets, which keep it queued).
 * Ties go to the prompt's own provider, so the optimizer never moves work for nothing.
 */

export type ProviderPolicy = 'prompt' | 'cheapest_in_time';
export const PROVIDER_POLICIES: readonly ProviderPolicy[] = ['prompt', 'cheapest_in_time'];

export interface ModelOption {
  provider: string;
  model: string;
}

export interface OptimizerItem {
  id: number;
  courseId: number;
  promptVersionId: number;
  /** The prompt version's own provider and model (today's policy). */
  provider: string;
  model: string;
  estInputTokens: number;
  estOutputTokens: number;
  /** When the item's feedback is due (the task's due date or the target turnaround), or null. */
  deadline: Date | null;
}

export interface Turnaround {
  p50Ms: number;
  p95Ms: number;
  /** Completed batches the figures come from (0: the default assumption). */
  batches: number;
}

export interface Agreement {
  /** The share of decided grades instructors approved unchanged (analytics' approvalRate). */
  approvalRate: number;
  reviewed: number;
}

export interface OptimizerInputs {
  now: Date;
  /** Per prompt version: its options, the prompt's own first. */
  options: Map<number, ModelOption[]>;
  /** Per course: the providers its work may be batched with (course approval ∩ institution). */
  approved: Map<number, ReadonlySet<string>>;
  /** Batch prices per model. */
  prices: Map<string, PriceRates>;
  /** Per prompt version: tokens of the static prefix (system, schema, template before the submission). */
  prefixTokens: Map<number, number>;
  turnaround: Map<string, Turnaround>;
  /** Per `${provider}:${promptVersionId}`. */
  agreement: Map<string, Agreement>;
  /** What the tightest budget has left, or null for no limit. */
  budgetLeftMicros: number | null;
}

export interface Choice {
  itemId: number;
  provider: string;
  model: string;
  /** The expected cost at the chosen model's batch prices, prompt caching counted. */
  costMicros: number;
  why: ChoiceReason;
}

export type ChoiceReason = 'only_option' | 'cheapest' | 'cheapest_in_time' | 'fastest_none_in_time' | 'budget' | 'no_approved_option' | 'too_few';

/** Turnaround assumed for a provider without history: the providers' own promise (24 h), as queue/eta.ts assumes. */
export const DEFAULT_TURNAROUND: Turnaround = { p50Ms: 24 * 3_600_000, p95Ms: 24 * 3_600_000, batches: 0 };
export const QUALITY_MIN_REVIEWED = 20;
export const QUALITY_MARGIN = 0.05;
/** Shortest prefix a provider caches (OpenAI and Anthropic's Sonnet/Opus: 1,024 tokens; Claude Haiku 4.5: 4,096). */
const MIN_CACHED_PREFIX: Record<string, number> = { 'claude-haiku-4-5': 4096 };
const minCachedPrefix = (model: string) => MIN_CACHED_PREFIX[model] ?? 1024;

/** One item's expected cost on one option: the static prefix read from the cache when it is long enough. */
export function optionCostMicros(item: Pick<OptimizerItem, 'estInputTokens' | 'estOutputTokens'>, model: string, rates: PriceRates, prefixTokens: number): number {
  const cached = prefixTokens >= minCachedPrefix(model) ? Math.min(prefixTokens, item.estInputTokens) : 0;
  return costAtRates({ inputTokens: item.estInputTokens, cachedInputTokens: cached, outputTokens: item.estOutputTokens }, rates);
}

const turnaroundOf = (inputs: OptimizerInputs, provider: string) => inputs.turnaround.get(provider) ?? DEFAULT_TURNAROUND;

/** The item's options its course approves and its agreement allows, with their cost (the prompt's own first). */
export function viableOptions(item: OptimizerItem, inputs: OptimizerInputs): Array<ModelOption & { costMicros: number }> {
  const approved = inputs.approved.get(item.courseId);
  const own: ModelOption = { provider: item.provider, model: item.model };
  const listed = inputs.options.get(item.promptVersionId) ?? [own];
  const priced = listed.filter((o) => approved?.has(o.provider) && inputs.prices.has(o.model));
  const known = priced.map((o) => inputs.agreement.get(`${o.provider}:${item.promptVersionId}`)).filter((a): a is Agreement => !!a && a.reviewed >= QUALITY_MIN_REVIEWED);
  const best = known.length ? Math.max(...known.map((a) => a.approvalRate)) : null;
  const good = priced.filter((o) => {
    const a = inputs.agreement.get(`${o.provider}:${item.promptVersionId}`);
    return best === null || !a || a.reviewed < QUALITY_MIN_REVIEWED || a.approvalRate >= best - QUALITY_MARGIN;
  });
  const prefix = inputs.prefixTokens.get(item.promptVersionId) ?? 0;
  return good.map((o) => ({ ...o, costMicros: optionCostMicros(item, o.model, inputs.prices.get(o.model)!, prefix) }));
}

/** The choice for one item, before the budget is asked (rule 3 of the module comment). */
export function chooseForItem(item: OptimizerItem, inputs: OptimizerInputs): Choice {
  const options = viableOptions(item, inputs);
  const pick = (o: ModelOption & { costMicros: number }, why: ChoiceReason): Choice => ({ itemId: item.id, provider: o.provider, model: o.model, costMicros: o.costMicros, why });
  if (!options.length) return { itemId: item.id, provider: item.provider, model: item.model, costMicros: 0, why: 'no_approved_option' };
  if (options.length === 1) return pick(options[0]!, 'only_option');
  // A stable sort keeps the prompt's own option first among equals.
  const cheapest = [...options].sort((a, b) => a.costMicros - b.costMicros);
  if (!item.deadline) return pick(cheapest[0]!, 'cheapest');
  const left = item.deadline.getTime() - inputs.now.getTime();
  const inTime = cheapest.find((o) => turnaroundOf(inputs, o.provider).p95Ms <= left);
  if (inTime) return pick(inTime, inTime === cheapest[0] ? 'cheapest' : 'cheapest_in_time');
  const fastest = [...options].sort((a, b) => turnaroundOf(inputs, a.provider).p50Ms - turnaroundOf(inputs, b.provider).p50Ms);
  return pick(fastest[0]!, 'fastest_none_in_time');
}

/**
 * Decides every item (in queue order) and keeps the choices within the budget left: the newest items chosen above
 * their cheapest option go back to it until the total fits (rule 4).
 */
export function decideProviders(items: OptimizerItem[], inputs: OptimizerInputs, minGroupSize = 1): Choice[] {
  const choices = keepGroupsWhole(items, items.map((i) => chooseForItem(i, inputs)), inputs, minGroupSize);
  if (inputs.budgetLeftMicros === null) return choices;
  let total = choices.reduce((a, c) => a + c.costMicros, 0);
  for (let k = items.length - 1; k >= 0 && total > inputs.budgetLeftMicros; k -= 1) {
    const choice = choices[k]!;
    if (choice.why !== 'cheapest_in_time' && choice.why !== 'fastest_none_in_time') continue;
    const cheapest = viableOptions(items[k]!, inputs).sort((a, b) => a.costMicros - b.costMicros)[0]!;
    if (cheapest.costMicros >= choice.costMicros) continue;
    total -= choice.costMicros - cheapest.costMicros;
    choices[k] = { itemId: choice.itemId, provider: cheapest.provider, model: cheapest.model, costMicros: cheapest.costMicros, why: 'budget' };
  }
  return choices;
}

/**
 * A model the optimizer would send fewer items than a batch's minimum stays unused: those of its items that came
 * from another prompt's model go back to it (a batch too small to make would leave them queued for nothing).
 */
function keepGroupsWhole(items: OptimizerItem[], choices: Choice[], inputs: OptimizerInputs, minGroupSize: number): Choice[] {
  if (minGroupSize <= 1) return choices;
  const perModel = new Map<string, number>();
  for (const c of choices) perModel.set(c.model, (perModel.get(c.model) ?? 0) + 1);
  return choices.map((c, k) => {
    const item = items[k]!;
    if (perModel.get(c.model)! >= minGroupSize || c.model === item.model) return c;
    const own = viableOptions(item, inputs).find((o) => o.model === item.model);
    return own ? { itemId: c.itemId, provider: own.provider, model: own.model, costMicros: own.costMicros, why: 'too_few' } : c;
  });
}
