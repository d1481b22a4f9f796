import type { GradingResult } from '../grading/result.schema.js';
import { TEMPLATE_VARIABLES } from '../grading/template.js';
import { renderMarkdown } from '../http/markdown.js';
import type { Evaluation } from '../grading/evaluate.js';
import type { LibraryTemplate } from '../models/prompts/library.js';
import type { PromptPreview } from '../models/prompts/preview.service.js';
import type { VersionWithAuthor } from '../models/prompts/prompts.repository.js';
import type { RubricCriterion } from '../grading/rubric.js';
import type { SampleResult, SampleTestBudget, SampleTestRun } from '../models/prompts/sample-test.service.js';
import { listModels, type PricedProvider } from '../providers/index.js';
import { formatDateTime, formatScore, taskTypeLabel } from './present.js';

/** View models of the prompt pages: what templates print, already formatted. */

/**
 * Micro-dollars for people. A GPT-4o-mini assessment costs a fraction of a cent, so amounts under a dollar keep two
 * significant digits ("$0.00042", "$0.012", "$0.42"), down to one micro-dollar; a dollar or more shows cents.
 */
export function formatUsd(micros: number): string {
  if (micros === 0) return '$0';
  const usd = Math.abs(micros) / 1e6;
  const sign = micros < 0 ? '−' : '';
  if (usd >= 1) return `${sign}$${usd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  const decimals = Math.min(6, Math.max(2, 1 - Math.floor(Math.log10(usd))));
  return `${sign}$${usd.toFixed(decimals)}`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en');
}

function formatLatency(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export interface ModelOption {
  id: string;
  label: string;
  reasoning: boolean;
}

const usd = (n: number) => `$${n}`;

const PROVIDER_LABELS: Record<string, string> = { openai: 'OpenAI', anthropic: 'Anthropic' };

/**
 * The models of the providers a course may use, with their prices, for the editor's model menu (one group per
 * provider). A model without Structured Outputs says so — it answers JSON by instruction, so more answers come back
 * malformed and go to review — and how much more it costs than the first model of the price list that has them
 * (gpt-4o-mini, the default).
 */
export function modelOptions(providers: readonly string[]): Array<{ provider: string; label: string; models: ModelOption[] }> {
  return providers.map((provider) => ({ provider, label: PROVIDER_LABELS[provider] ?? provider, models: providerModels(provider as PricedProvider) }));
}

function providerModels(provider: PricedProvider): ModelOption[] {
  const models = listModels(undefined, provider);
  const reference = listModels(undefined, 'openai').find((m) => m.structuredOutputs);
  return models.map((m) => {
    const ratio = reference ? m.standard.inputUsdPerMTok / reference.standard.inputUsdPerMTok : 1;
    const costsMore = reference && ratio > 1 ? `; ${ratio >= 10 ? Math.round(ratio) : Math.round(ratio * 10) / 10}× ${reference.model}'s input price` : '';
    const note = m.structuredOutputs ? '' : ` — answers JSON by instruction (no schema enforcement)${costsMore}`;
    return {
      id: m.model,
      reasoning: m.reasoning,
      label: `${m.model} — ${usd(m.standard.inputUsdPerMTok)} in / ${usd(m.standard.outputUsdPerMTok)} out per million tokens (batch ${usd(m.batch.inputUsdPerMTok)} / ${usd(m.batch.outputUsdPerMTok)})${note}`,
    };
  });
}

export const VARIABLES = Object.entries(TEMPLATE_VARIABLES).map(([name, description]) => ({ name, token: `{${name}}`, description }));

export function presentPreview(p: PromptPreview) {
  return {
    ...p,
    inputTokensText: formatCount(p.inputTokens),
    promptTokensText: formatCount(p.promptTokens),
    submissionTokensText: formatCount(p.submissionTokens),
    outputTokensText: formatCount(p.outputTokens),
    outputBasisText:
      p.outputBasis.kind === 'observed'
        ? `the mean of ${formatCount(p.outputBasis.count)} graded ${p.outputBasis.count === 1 ? 'answer' : 'answers'} of this task with ${p.model}`
        : `${Math.round(p.outputBasis.fraction * 100)}% of max output tokens (no answers of this task to learn from yet)`,
    perAssessmentText: { batch: formatUsd(p.perAssessment.batch), standard: formatUsd(p.perAssessment.standard) },
    totalText: { batch: formatUsd(p.total.batch), standard: formatUsd(p.total.standard) },
    studentsText: formatCount(p.students),
  };
}

/** The most a test on the pasted samples can cost, and the cap, shown with the preview before anyone runs the test. */
export function presentTestBudget(b: SampleTestBudget) {
  return {
    samples: b.samples,
    worstCostMicros: b.worstCostMicros,
    maxCostMicros: b.maxCostMicros,
    samplesText: b.samples === 1 ? '1 sample' : `${formatCount(b.samples)} samples`,
    worstCost: formatUsd(b.worstCostMicros),
    maxCost: formatUsd(b.maxCostMicros),
    outputTokensText: formatCount(b.outputTokens),
    inputTokensText: formatCount(b.inputTokens),
    refusals: Object.entries(b.fields).map(([field, message]) => ({ field, message })),
  };
}

/** A graded answer as the student would see it, plus what only graders see. */
function presentAnswer(evaluation: Evaluation, rubric: RubricCriterion[], maxScore: number) {
  // evaluateAnswer returns a result only once it passed the strict schema.
  const r = evaluation.result as GradingResult | null;
  if (!r) return null;
  const clamped = evaluation.flags.filter((f) => f.code === 'score_out_of_range').map((f) => f.message);
  return {
    total: formatScore(r.total_score),
    maxScore: formatScore(maxScore),
    criteria: rubric.map((c) => {
      const s = r.criteria[c.id];
      return {
        name: c.name,
        score: s ? formatScore(s.score) : '–',
        max: formatScore(c.maxPoints),
        justification: s?.justification ?? '',
        flagged: clamped.some((m) => m.includes(`"${c.name}"`)),
      };
    }),
    strengths: r.strengths,
    improvements: r.improvements,
    // Sanitized: the model's markdown can carry anything a student wrote, <script> included.
    commentsHtml: renderMarkdown(r.comments),
    reasoning: r.reasoning,
    confidence: `${Math.round(r.confidence * 100)}%`,
  };
}

function prettyRaw(raw: string | null): string {
  if (raw === null) return '';
  try {
    return JSON.stringify(JSON.parse(raw), null, 2);
  } catch {
    return raw;
  }
}

const STATUS_LABELS: Record<SampleResult['status'], string> = {
  graded: 'Graded',
  flagged: 'Graded, flagged for review',
  unreadable: 'Answer could not be used',
  error: 'Not graded',
};

export function presentTestRun(run: SampleTestRun, rubric: RubricCriterion[], maxScore: number, samples: Array<{ index: number; text: string }>) {
  return {
    results: run.results.map((r) => {
      const text = samples.find((s) => s.index === r.index)?.text ?? '';
      return {
        index: r.index,
        status: r.status,
        statusLabel: STATUS_LABELS[r.status],
        excerpt: text.length > 160 ? `${text.slice(0, 157)}…` : text,
        view: r.evaluation ? presentAnswer(r.evaluation, rubric, maxScore) : null,
        flags: r.evaluation?.flags ?? [],
        raw: prettyRaw(r.raw),
        tokens: r.usage
          ? {
              input: formatCount(r.usage.inputTokens),
              cached: formatCount(r.usage.cachedInputTokens),
              output: formatCount(r.usage.outputTokens),
              reasoning: formatCount(r.usage.reasoningTokens),
            }
          : null,
        cost: r.costMicros === null ? null : formatUsd(r.costMicros),
        batchCost: r.batchCostMicros === null ? null : formatUsd(r.batchCostMicros),
        latency: r.latencyMs === null ? null : formatLatency(r.latencyMs),
        model: r.answeredModel,
        error: r.error,
      };
    }),
    totalCost: formatUsd(run.usage.costMicros),
  };
}

export function presentHistory(versions: VersionWithAuthor[], activeVersionId: number | null) {
  return versions.map((v) => ({
    version: v.version,
    note: v.note,
    author: v.authorName ?? 'no recorded author',
    when: formatDateTime(v.createdAt),
    iso: v.createdAt.toISOString(),
    model: v.model,
    criteria: v.rubric.length,
    maxScore: formatScore(v.maxScore),
    restoredFrom: v.restoredFromVersion,
    active: v.id === activeVersionId,
  }));
}

export function presentVersion(v: VersionWithAuthor, activeVersionId: number | null) {
  return {
    version: v.version,
    note: v.note,
    author: v.authorName ?? 'no recorded author',
    when: formatDateTime(v.createdAt),
    active: v.id === activeVersionId,
    model: v.model,
    temperature: formatScore(v.temperature),
    maxOutputTokens: formatCount(v.maxOutputTokens),
    maxScore: formatScore(v.maxScore),
    rubric: v.rubric.map((c) => ({ ...c, maxPoints: formatScore(c.maxPoints) })),
    template: v.template,
    // Sanitized: a template is instructor-written markdown, and may quote anything.
    templateHtml: renderMarkdown(v.template),
    systemInstructions: v.systemInstructions,
    graderInstructions: v.graderInstructions,
    restoredFrom: v.restoredFromVersion,
  };
}

const SCOPE_LABELS: Record<LibraryTemplate['scope'], string> = { course: 'This course', shared: 'Shared', builtin: 'Built in' };

export function presentLibrary(templates: LibraryTemplate[], taskType: string) {
  return templates.map((t) => ({
    key: t.key,
    id: t.id,
    name: t.name,
    description: t.description,
    scope: t.scope,
    scopeLabel: SCOPE_LABELS[t.scope],
    typeLabel: taskTypeLabel(t.taskType),
    matchesTask: t.taskType === taskType,
    criteria: t.content.rubric.length,
    maxScore: formatScore(t.content.maxScore),
    model: t.content.model,
    deletable: t.scope === 'course',
  }));
}
