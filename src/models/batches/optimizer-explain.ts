import { DEFAULT_TURNAROUND, viableOptions, type Choice, type ChoiceReason, type OptimizerInputs, type OptimizerItem } from './optimizer.js';

/**
 * Why a batch went where it went, in words an administrator can check against the figures (issue 20, item 4):
 * what the batch's items would cost on each option and how long each provider has taken, then the rule that decided.
 * Pure, like the optimizer; kept with the batch's audit entry and shown on its page.
 */

export interface OptionFigure {
  provider: string;
  model: string;
  /** The batch's items on this option (those it was open to), at batch prices with prompt caching. */
  costMicros: number;
  items: number;
  p50Ms: number;
  p95Ms: number;
  /** Completed batches behind the turnaround figures (0: the 24-hour assumption). */
  history: number;
}

export interface BatchExplanation {
  provider: string;
  model: string;
  options: OptionFigure[];
  reasons: Partial<Record<ChoiceReason, number>>;
  earliestDeadline: string | null;
  text: string;
}

export const PROVIDER_NAMES: Record<string, string> = { openai: 'OpenAI', anthropic: 'Anthropic' };
const nameOf = (provider: string) => PROVIDER_NAMES[provider] ?? provider;

const REASON_WORDS: Record<ChoiceReason, string> = {
  only_option: 'the only option their courses approve',
  cheapest: 'the cheapest option',
  cheapest_in_time: 'the cheapest that meets their deadline (a cheaper one would miss it)',
  fastest_none_in_time: 'the fastest, as no option meets their deadline',
  budget: 'the cheaper option, to stay within the budget',
  no_approved_option: "their prompt's provider (no option is approved)",
  too_few: "their prompt's model (too few items for a batch of the other)",
};

export function formatDollars(micros: number): string {
  const usd = micros / 1_000_000;
  return `$${usd < 0.01 && usd > 0 ? usd.toFixed(4) : usd.toFixed(2)}`;
}

export const formatHours = (ms: number): string => `${(ms / 3_600_000).toFixed(1)} h`;

/** The figures of each option over the items of one batch (its options as their own rules saw them). */
export function optionFigures(items: OptimizerItem[], inputs: OptimizerInputs): OptionFigure[] {
  const byKey = new Map<string, OptionFigure>();
  for (const item of items) {
    for (const o of viableOptions(item, inputs)) {
      const key = `${o.provider}:${o.model}`;
      const t = inputs.turnaround.get(o.provider) ?? DEFAULT_TURNAROUND;
      const f = byKey.get(key) ?? { provider: o.provider, model: o.model, costMicros: 0, items: 0, p50Ms: t.p50Ms, p95Ms: t.p95Ms, history: t.batches };
      f.costMicros += o.costMicros;
      f.items += 1;
      byKey.set(key, f);
    }
  }
  return [...byKey.values()].sort((a, b) => a.costMicros - b.costMicros);
}

/** "Anthropic: $0.83, p95 2.1 h; OpenAI: $0.91, p95 3.4 h" — then what decided, by how many items. */
export function explainBatch(batch: { provider: string; model: string }, items: OptimizerItem[], choices: Choice[], inputs: OptimizerInputs): BatchExplanation {
  const options = optionFigures(items, inputs);
  const reasons: Partial<Record<ChoiceReason, number>> = {};
  for (const c of choices) reasons[c.why] = (reasons[c.why] ?? 0) + 1;
  const deadlines = items.map((i) => i.deadline?.getTime()).filter((t): t is number => t !== undefined);
  const earliest = deadlines.length ? new Date(Math.min(...deadlines)).toISOString() : null;
  const figures = options
    .map((o) => `${nameOf(o.provider)} (${o.model}): ${formatDollars(o.costMicros)}${o.items < items.length ? ` for ${o.items} of ${items.length}` : ''}, p95 ${formatHours(o.p95Ms)}${o.history ? '' : ' (assumed)'}`)
    .join('; ');
  const why = (Object.entries(reasons) as Array<[ChoiceReason, number]>)
    .sort((a, b) => b[1] - a[1])
    .map(([reason, n]) => `${n === items.length ? (n === 1 ? 'its item' : 'all items') : `${n} ${n === 1 ? 'item' : 'items'}`}: ${REASON_WORDS[reason]}`)
    .join('; ');
  const due = earliest ? ` Earliest deadline ${earliest.slice(0, 16).replace('T', ' ')} UTC.` : ' No deadline.';
  const text = `${figures}. Sent to ${nameOf(batch.provider)} (${batch.model}) — ${why}.${due}`;
  return { provider: batch.provider, model: batch.model, options, reasons, earliestDeadline: earliest, text };
}
