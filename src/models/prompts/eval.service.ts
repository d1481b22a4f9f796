import { anonymize } from '../../grading/anonymize-text.js';
import { evaluateAnswer } from '../../grading/evaluate.js';
import { scanSubmission } from '../../grading/injection.js';
import type { TaskInput } from '../../grading/messages.js';
import { gradingRequestFor } from '../../grading/request.js';
import { scoreAgreement, type ScoreAgreement } from '../../analytics/agreement.js';
import { actualCostMicros, countRequestTokens, estimateCostMicros, ProviderError, type BatchProvider, type TokenUsage } from '../../providers/index.js';
import type { RootDb } from '../../db/db.js';
import { spendRealtime } from '../budgets/realtime-spend.service.js';
import type { LabelledItem } from './labelled-set.js';
import type { PromptContent } from './prompt-draft.js';
import { requestContextFor } from './request-context.js';

/**
 * `npm run eval`: a labelled set graded with a prompt through the provider's real-time call (the emulator in demo
 * mode), each answer judged as ingestion judges it, and the model's scores compared with the people's — the same
 * kappa as the Agreement page (src/analytics/agreement.ts), with MAE, exact and adjacent agreement, overall and per
 * criterion — with what it cost and how long it took. Nothing is written but the ledger's charge (when a task is named).
 */

export interface EvalItemResult {
  id: string;
  /** graded: a usable answer; flagged: usable, with flags a reviewer would see; unusable: no score; error: the call failed. */
  status: 'graded' | 'flagged' | 'unusable' | 'error';
  human: number;
  model: number | null;
  criteria: Array<{ id: string; human: number | null; model: number | null }>;
  confidence: number | null;
  flags: string[];
  error: string | null;
  latencyMs: number | null;
  usage: TokenUsage | null;
  costMicros: number;
}

export interface EvalRun {
  items: EvalItemResult[];
  /** Wall-clock time of the whole run. */
  elapsedMs: number;
}

/** Grades every item, `concurrency` calls at a time. The text sent is the item's with personal data by pattern removed. */
export async function gradeLabelledSet(provider: Pick<BatchProvider, 'realtimeGrade'>, content: PromptContent, task: TaskInput, items: LabelledItem[], options: { concurrency: number; runId: string }): Promise<EvalRun> {
  const ctx = requestContextFor(content, task);
  const results: EvalItemResult[] = new Array(items.length);
  const started = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await gradeOne(provider, ctx, content, items[i]!, `eval-${options.runId}-${i + 1}`);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, items.length)) }, worker));
  return { items: results, elapsedMs: Date.now() - started };
}

async function gradeOne(provider: Pick<BatchProvider, 'realtimeGrade'>, ctx: ReturnType<typeof requestContextFor>, content: PromptContent, item: LabelledItem, customId: string): Promise<EvalItemResult> {
  const text = anonymize(item.submission, {}).text;
  const base = { id: item.id, human: item.score, criteria: content.rubric.map((c) => ({ id: c.id, human: item.criteria[c.id] ?? null, model: null as number | null })) };
  let answer;
  try {
    answer = await provider.realtimeGrade(gradingRequestFor(ctx, text, customId));
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    return { ...base, status: 'error', model: null, confidence: null, flags: [], error: err.message, latencyMs: null, usage: null, costMicros: 0 };
  }
  const ev = evaluateAnswer(answer, content.rubric, Number(content.maxScore), scanSubmission(text));
  const modelCriteria = (ev.result?.criteria ?? {}) as Record<string, { score?: number }>;
  return {
    ...base,
    status: ev.result === null || ev.score === null ? 'unusable' : ev.flags.length ? 'flagged' : 'graded',
    model: ev.score,
    criteria: base.criteria.map((c) => ({ ...c, model: typeof modelCriteria[c.id]?.score === 'number' ? modelCriteria[c.id]!.score! : null })),
    confidence: ev.computedConfidence,
    flags: ev.flags.map((f) => f.code),
    error: null,
    latencyMs: answer.latencyMs,
    usage: answer.usage,
    costMicros: actualCostMicros(answer.usage, content.model, 'standard'),
  };
}

export interface EvalFigures {
  items: number;
  /** Items with a model score, which the figures count. */
  scored: number;
  flagged: number;
  unusable: number;
  errors: number;
  overall: ScoreAgreement & { max: number };
  criteria: Array<ScoreAgreement & { id: string; name: string; max: number }>;
  cost: { realtimeMicros: number; batchMicros: number; inputTokens: number; cachedInputTokens: number; outputTokens: number };
  time: { elapsedMs: number; meanLatencyMs: number | null; medianLatencyMs: number | null };
}

/** The figures of a run: agreement over the items the model scored, overall and per criterion where people gave points. */
export function evalFigures(run: EvalRun, content: PromptContent): EvalFigures {
  const scored = run.items.filter((r) => r.model !== null);
  const overall = scoreAgreement(scored.map((r) => ({ llm: r.model!, final: r.human })), Number(content.maxScore));
  const criteria = content.rubric.flatMap((c) => {
    const pairs = scored.flatMap((r) => {
      const x = r.criteria.find((k) => k.id === c.id);
      return x && x.human !== null && x.model !== null ? [{ llm: x.model, final: x.human }] : [];
    });
    return pairs.length ? [{ id: c.id, name: c.name, max: c.maxPoints, ...scoreAgreement(pairs, c.maxPoints) }] : [];
  });
  const usages = run.items.flatMap((r) => (r.usage ? [r.usage] : []));
  const latencies = run.items.flatMap((r) => (r.latencyMs === null ? [] : [r.latencyMs])).sort((a, b) => a - b);
  const mid = latencies.length >> 1;
  return {
    items: run.items.length,
    scored: scored.length,
    flagged: run.items.filter((r) => r.status === 'flagged').length,
    unusable: run.items.filter((r) => r.status === 'unusable').length,
    errors: run.items.filter((r) => r.status === 'error').length,
    overall: { ...overall, max: Number(content.maxScore) },
    criteria,
    cost: {
      realtimeMicros: run.items.reduce((acc, r) => acc + r.costMicros, 0),
      batchMicros: usages.reduce((acc, u) => acc + actualCostMicros(u, content.model, 'batch'), 0),
      inputTokens: usages.reduce((acc, u) => acc + u.inputTokens, 0),
      cachedInputTokens: usages.reduce((acc, u) => acc + u.cachedInputTokens, 0),
      outputTokens: usages.reduce((acc, u) => acc + u.outputTokens, 0),
    },
    time: {
      elapsedMs: run.elapsedMs,
      meanLatencyMs: latencies.length ? latencies.reduce((a, b) => a + b, 0) / latencies.length : null,
      medianLatencyMs: latencies.length ? (latencies.length % 2 ? latencies[mid]! : (latencies[mid - 1]! + latencies[mid]!) / 2) : null,
    },
  };
}

/** The most a run may cost before it starts: every item's exact input tokens and the prompt's max output, at real-time prices. */
export function evalWorstCaseMicros(content: PromptContent, task: TaskInput, items: LabelledItem[]): number {
  const ctx = requestContextFor(content, task);
  return items.reduce((acc, item) => {
    const req = gradingRequestFor(ctx, anonymize(item.submission, {}).text, 'estimate');
    const tokens = countRequestTokens(content.model, req.messages, req.responseFormat);
    return acc + estimateCostMicros({ inputTokens: tokens, outputTokens: content.maxOutputTokens }, content.model, 'standard');
  }, 0);
}

/**
 * A run charged to a task's course like a sample test: its worst case reserved against the course's and platform's
 * budgets first (409 while frozen or over a limit: nothing sent), the actual cost charged at real-time prices after.
 */
export async function runChargedEval(
  db: RootDb,
  scope: { platformId: number; courseId: number; taskId: number },
  provider: Pick<BatchProvider, 'realtimeGrade' | 'name'>,
  run: { content: PromptContent; task: TaskInput; items: LabelledItem[]; concurrency: number; runId: string },
): Promise<EvalRun> {
  const worstMicros = evalWorstCaseMicros(run.content, run.task, run.items);
  return spendRealtime(db, { ...scope, provider: provider.name, model: run.content.model, what: 'evaluation run', worstMicros }, async () => {
    const result = await gradeLabelledSet(provider, run.content, run.task, run.items, run);
    const usages = result.items.flatMap((r) => (r.usage ? [r.usage] : []));
    const charge = {
      amountMicros: result.items.reduce((acc, r) => acc + r.costMicros, 0),
      inputTokens: usages.reduce((a, u) => a + u.inputTokens, 0),
      cachedInputTokens: usages.reduce((a, u) => a + u.cachedInputTokens, 0),
      outputTokens: usages.reduce((a, u) => a + u.outputTokens, 0),
    };
    return { result, charge };
  });
}
