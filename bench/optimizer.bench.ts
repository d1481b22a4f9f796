/**
 * The cost optimizer (issue 20, item 4): `npx tsx bench/optimizer.bench.ts`. Pure (no database): the decision
 * function of src/models/batches/optimizer.ts over 50,000 synthetic queued items, timed (median of 7 runs), and what
 * its choices cost against sending everything to each prompt's own provider (today's default policy).
 *
 * The synthetic mix, stated so the figures can be judged:
 * - 40 prompt versions: 16 on gpt-4o-mini, 8 on gpt-4o, 8 on claude-haiku-4-5, 8 on claude-sonnet-4-6; each with a
 *   static prefix (system, schema, template before the submission) of 600–3,000 tokens; options are the prompt's
 *   model and its stand-in at the other provider (data/prices/anthropic.yml), as optimizer.service.ts makes them.
 * - 200 courses: 60 % approve both providers, 30 % OpenAI only, 10 % Anthropic only (a prompt on a provider its
 *   course does not approve stays on it: no option, as in the app, where the batch is then refused).
 * - each item: its prefix plus a submission of 300–3,000 tokens, 300–700 output tokens; 30 % due in 4 h, 40 % in
 *   24 h, 30 % no deadline. Turnaround: OpenAI p50 1 h / p95 6 h, Anthropic p50 1 h / p95 3 h (assumed).
 * - prices: the price files on 2026-12-03, batch, with the prompt cache read after the first request of a prompt.
 */
import { decideProviders, optionCostMicros, type ModelOption, type OptimizerInputs, type OptimizerItem } from '../src/models/batches/optimizer.js';
import { optionsOfVersion } from '../src/models/batches/optimizer.service.js';
import { costAtRates, getModelPrice } from '../src/providers/pricing.js';
import { rng } from './lib/prng.js';
import { percentile, printTable } from './lib/stats.js';

const N = 50_000;
const H = 3_600_000;
const DAY = '2026-12-03';

function synthetic(seed: number): { items: OptimizerItem[]; inputs: OptimizerInputs } {
  const r = rng(seed);
  const now = new Date(`${DAY}T12:00:00Z`);
  const models = [...Array(16).fill('gpt-4o-mini'), ...Array(8).fill('gpt-4o'), ...Array(8).fill('claude-haiku-4-5'), ...Array(8).fill('claude-sonnet-4-6')] as string[];
  const options = new Map<number, ModelOption[]>(models.map((m, v) => [v, optionsOfVersion(m, 0.2)]));
  const prefixTokens = new Map(models.map((_, v) => [v, 600 + Math.floor(r() * 2400)]));
  const approved = new Map<number, Set<string>>();
  for (let c = 0; c < 200; c++) {
    const x = r();
    approved.set(c, new Set(x < 0.6 ? ['openai', 'anthropic'] : x < 0.9 ? ['openai'] : ['anthropic']));
  }
  const prices = new Map([...options.values()].flat().map((o) => [o.model, getModelPrice(o.model, DAY).batch]));
  const items: OptimizerItem[] = [];
  for (let id = 0; id < N; id++) {
    const v = Math.floor(r() * models.length);
    const model = models[v]!;
    const d = r();
    items.push({
      id,
      courseId: Math.floor(r() * 200),
      promptVersionId: v,
      provider: model.startsWith('claude') ? 'anthropic' : 'openai',
      model,
      estInputTokens: prefixTokens.get(v)! + 300 + Math.floor(r() * 2700),
      estOutputTokens: 300 + Math.floor(r() * 400),
      deadline: d < 0.3 ? new Date(now.getTime() + 4 * H) : d < 0.7 ? new Date(now.getTime() + 24 * H) : null,
    });
  }
  const turnaround = new Map([
    ['openai', { p50Ms: 1 * H, p95Ms: 6 * H, batches: 100 }],
    ['anthropic', { p50Ms: 1 * H, p95Ms: 3 * H, batches: 100 }],
  ]);
  return { items, inputs: { now, options, approved, prices, prefixTokens, turnaround, agreement: new Map(), budgetLeftMicros: null } };
}

const usd = (micros: number) => `$${(micros / 1_000_000).toFixed(2)}`;
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

export async function run() {
  const { items, inputs } = synthetic(42);
  const ms: number[] = [];
  let choices = decideProviders(items, inputs, 100);
  for (let k = 0; k < 7; k++) {
    const started = performance.now();
    choices = decideProviders(items, inputs, 100);
    ms.push(performance.now() - started);
  }
  const own = items.map((i) => optionCostMicros(i, i.model, inputs.prices.get(i.model)!, inputs.prefixTokens.get(i.promptVersionId)!));
  const defaultCost = own.reduce((a, b) => a + b, 0);
  const optimizedCost = choices.reduce((a, c, k) => a + (c.why === 'no_approved_option' ? own[k]! : c.costMicros), 0);
  const inTime = (provider: (k: number) => string) =>
    items.filter((i, k) => i.deadline && inputs.turnaround.get(provider(k))!.p95Ms <= i.deadline.getTime() - inputs.now.getTime()).length / items.filter((i) => i.deadline).length;
  const moved = choices.filter((c, k) => c.model !== items[k]!.model).length;
  const rows = [
    { policy: "default: each prompt's provider", cost: usd(defaultCost), 'deadlines met by p95': pct(inTime((k) => items[k]!.provider)), 'items moved': '0' },
    { policy: 'cheapest that meets the deadline', cost: usd(optimizedCost), 'deadlines met by p95': pct(inTime((k) => choices[k]!.provider)), 'items moved': moved.toLocaleString('en') },
  ];
  printTable(`Deciding for ${N.toLocaleString('en')} items: median ${percentile(ms, 50).toFixed(0)} ms over ${ms.length} runs (min ${Math.min(...ms).toFixed(0)}, max ${Math.max(...ms).toFixed(0)})`, rows);
  console.log(`Saving against the default policy: ${pct(1 - optimizedCost / defaultCost)}`);
  // Issue 20, item 5's KPI: the optimizer's choices (batch prices, prompt cache) against the same tokens sent in real
  // time with no cache, at each chosen model's standard prices.
  const realtime = choices.reduce((a, c, k) => a + costAtRates({ inputTokens: items[k]!.estInputTokens, outputTokens: items[k]!.estOutputTokens }, getModelPrice(c.model, DAY).standard), 0);
  const belowRealtime = 1 - optimizedCost / realtime;
  console.log(`Batch + caching against real time without a cache (${usd(realtime)}): ${pct(belowRealtime)} less (seed KPI: 60 %)`);
  return { items: N, realtimeUncachedMicros: realtime, belowRealtime, decideMs: { median: Math.round(percentile(ms, 50)), runs: ms.map((m) => Math.round(m)) }, defaultMicros: defaultCost, optimizedMicros: optimizedCost, saving: 1 - optimizedCost / defaultCost, moved, rows };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await run(), null, 2));
}
