import type { ScoreAgreement } from '../analytics/agreement.js';
import type { EvalFigures, EvalRun } from '../models/prompts/eval.service.js';
import type { PromptContent } from '../models/prompts/prompt-draft.js';

/** What `npm run eval` prints and writes: the figures worded once, for the terminal, the JSON report and the HTML one. */

export interface EvalReportInput {
  generatedAt: Date;
  provider: { label: string; demoMode: boolean; baseUrl: string };
  prompt: { source: string; content: PromptContent };
  set: { file: string; items: number };
  run: EvalRun;
  figures: EvalFigures;
  /** Where the cost was charged: a task's course ledger, or nowhere (the emulator without a task). */
  chargedTo: string | null;
}

export const pct = (v: number | null) => (v == null ? '—' : `${(v * 100).toFixed(1)} %`);
export const num = (v: number | null, digits: number) => (v == null ? '—' : v.toFixed(digits));

/** Dollars as the editor shows them: cents from a dollar up, two significant digits below. */
export function usd(micros: number): string {
  const v = micros / 1e6;
  return `$${v >= 1 || v === 0 ? v.toFixed(2) : v.toFixed(Math.min(6, Math.max(2, 1 - Math.floor(Math.log10(v)))))}`;
}

const seconds = (ms: number | null) => (ms == null ? '—' : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`);

function agreementLine(a: ScoreAgreement): string {
  return `QWK ${num(a.qwk, 3)}   MAE ${num(a.mae, 2)}   exact ${pct(a.exact)}   adjacent ${pct(a.adjacent)}   (${a.n} item${a.n === 1 ? '' : 's'})`;
}

/** The lines printed on the terminal. */
export function summaryLines(r: EvalReportInput, files: string[]): string[] {
  const f = r.figures;
  const lines = [
    `Graded ${f.scored} of ${f.items} items of ${r.set.file} with ${r.prompt.source} (${r.prompt.content.model}, ${r.provider.label}) in ${seconds(f.time.elapsedMs)}.`,
  ];
  const left = [f.unusable ? `${f.unusable} without a usable answer` : '', f.errors ? `${f.errors} failed calls` : ''].filter(Boolean);
  if (left.length) lines.push(`Not in the figures: ${left.join(', ')} (see the report).`);
  if (f.flagged) lines.push(`Flagged for a reviewer: ${f.flagged}.`);
  lines.push('', `Agreement with the human scores (0–${f.overall.max}):`, `  ${agreementLine(f.overall)}`);
  if (f.criteria.length) {
    lines.push('Per criterion:');
    const width = Math.max(...f.criteria.map((c) => `${c.name} (0–${c.max})`.length));
    for (const c of f.criteria) lines.push(`  ${`${c.name} (0–${c.max})`.padEnd(width)}  ${agreementLine(c)}`);
  }
  lines.push(
    '',
    `Cost: ${usd(f.cost.realtimeMicros)} at real-time prices (${usd(f.cost.batchMicros)} as a batch); ${f.cost.inputTokens.toLocaleString('en')} input and ${f.cost.outputTokens.toLocaleString('en')} output tokens.` +
      (r.provider.demoMode ? ' Demo mode: the simulated grader bills nothing; this is what the same tokens would cost.' : ''),
  );
  if (r.chargedTo) lines.push(`Charged to ${r.chargedTo}.`);
  lines.push(`Time: ${seconds(f.time.elapsedMs)} in all; per call ${seconds(f.time.meanLatencyMs)} mean, ${seconds(f.time.medianLatencyMs)} median.`);
  lines.push('', `Report: ${files.join(', ')}`);
  return lines;
}

/** The JSON report: every figure as a number, every item with both scores. */
export function reportJson(r: EvalReportInput) {
  return {
    generatedAt: r.generatedAt.toISOString(),
    provider: r.provider,
    prompt: { source: r.prompt.source, model: r.prompt.content.model, temperature: r.prompt.content.temperature, maxScore: r.prompt.content.maxScore, rubric: r.prompt.content.rubric.map((c) => ({ id: c.id, name: c.name, maxPoints: c.maxPoints })) },
    set: r.set,
    figures: r.figures,
    chargedTo: r.chargedTo,
    items: r.run.items.map((i) => ({
      id: i.id,
      status: i.status,
      human: i.human,
      model: i.model,
      difference: i.model == null ? null : Math.round((i.model - i.human) * 100) / 100,
      criteria: Object.fromEntries(i.criteria.map((c) => [c.id, { human: c.human, model: c.model }])),
      confidence: i.confidence,
      flags: i.flags,
      error: i.error,
      latencyMs: i.latencyMs,
      costMicros: i.costMicros,
    })),
  };
}

/** The HTML report's view model (views/reports/eval.ejs): everything already worded. */
export function reportView(r: EvalReportInput) {
  const f = r.figures;
  const row = (label: string, a: ScoreAgreement) => ({ label, n: a.n, qwk: num(a.qwk, 3), mae: num(a.mae, 2), exact: pct(a.exact), adjacent: pct(a.adjacent) });
  return {
    title: `Evaluation: ${r.prompt.source}`,
    generatedAt: r.generatedAt.toISOString().replace('T', ' ').slice(0, 16) + ' UTC',
    provider: r.provider.label,
    demoMode: r.provider.demoMode,
    model: r.prompt.content.model,
    setFile: r.set.file,
    counts: { items: f.items, scored: f.scored, flagged: f.flagged, unusable: f.unusable, errors: f.errors },
    agreement: [row(`Score (0–${f.overall.max})`, f.overall), ...f.criteria.map((c) => row(`${c.name} (0–${c.max})`, c))],
    cost: { realtime: usd(f.cost.realtimeMicros), batch: usd(f.cost.batchMicros), inputTokens: f.cost.inputTokens.toLocaleString('en'), outputTokens: f.cost.outputTokens.toLocaleString('en') },
    chargedTo: r.chargedTo,
    time: { total: seconds(f.time.elapsedMs), mean: seconds(f.time.meanLatencyMs), median: seconds(f.time.medianLatencyMs) },
    criteria: r.prompt.content.rubric.map((c) => ({ id: c.id, name: c.name })),
    items: r.run.items.map((i) => ({
      id: i.id,
      status: i.status,
      human: String(i.human),
      model: i.model == null ? '—' : String(i.model),
      difference: i.model == null ? '—' : (i.model - i.human > 0 ? '+' : '') + String(Math.round((i.model - i.human) * 100) / 100),
      criteria: i.criteria.map((c) => `${c.human ?? '—'} / ${c.model ?? '—'}`),
      confidence: i.confidence == null ? '—' : `${Math.round(i.confidence * 100)} %`,
      note: i.error ?? i.flags.join(', '),
    })),
  };
}
