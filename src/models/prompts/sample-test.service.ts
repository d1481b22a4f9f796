import { randomBytes } from 'node:crypto';
import { charCount } from '../../chars.js';
import { scanSubmission } from '../../grading/injection.js';
import type { TaskInput } from '../../grading/messages.js';
import { Invalid } from '../../errors.js';
import { actualCostMicros, countRequestTokens, estimateCostMicros, ProviderError, type BatchProvider, type TokenUsage } from '../../providers/index.js';
import { evaluateAnswer, type Evaluation } from '../../grading/evaluate.js';
import { gradingRequestFor } from '../../grading/request.js';
import { requestContextFor } from './request-context.js';
import type { PromptContent } from './prompt-draft.js';
import type { RootDb } from '../../db/db.js';
import { spendRealtime } from '../budgets/realtime-spend.service.js';

/**
 * Grades sample submissions now, through the provider's real-time call (the local emulator in demo mode), with the
 * request the queue would send, judged as ingestion judges answers (scores clamped into range and flagged, anything
 * unusable kept raw with the reason). A test writes nothing: no submission, queue item, assessment or grade.
 */

export const MAX_SAMPLES = 5;

export type SampleStatus = 'graded' | 'flagged' | 'unreadable' | 'error';

export interface SampleResult {
  /** 1-based, as the instructor numbered the samples. */
  index: number;
  status: SampleStatus;
  /** The answer as ingestion would store it; null when the call failed. */
  evaluation: Evaluation | null;
  /** The model's text as returned (shown when it could not be used). */
  raw: string | null;
  usage: TokenUsage | null;
  /** What this call cost (real-time price). */
  costMicros: number | null;
  /** What the same tokens cost in a batch. */
  batchCostMicros: number | null;
  latencyMs: number | null;
  /** The model as the provider reports it (often a dated snapshot). */
  answeredModel: string | null;
  finishReason: string | null;
  /** Why the call failed (status 'error'), in words a person can act on. */
  error: string | null;
}

export interface SampleTestRun {
  results: SampleResult[];
  usage: { inputTokens: number; outputTokens: number; costMicros: number };
}

async function gradeOne(
  provider: Pick<BatchProvider, 'realtimeGrade'>,
  content: PromptContent,
  task: TaskInput,
  sample: { index: number; text: string },
  runId: string,
): Promise<SampleResult> {
  const empty = { evaluation: null, raw: null, usage: null, costMicros: null, batchCostMicros: null, latencyMs: null, answeredModel: null, finishReason: null };
  const req = gradingRequestFor(requestContextFor(content, task), sample.text, `test-${runId}-${sample.index}`);
  let answer;
  try {
    answer = await provider.realtimeGrade(req);
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    return { index: sample.index, status: 'error', ...empty, error: err.message };
  }
  // The same checks as a batch: the instructor testing a prompt sees a sample that tries to instruct the grader.
  const evaluation = evaluateAnswer(answer, content.rubric, Number(content.maxScore), scanSubmission(sample.text));
  return {
    index: sample.index,
    status: evaluation.result === null ? 'unreadable' : evaluation.flags.length ? 'flagged' : 'graded',
    evaluation,
    raw: answer.content,
    usage: answer.usage,
    costMicros: actualCostMicros(answer.usage, content.model, 'standard'),
    batchCostMicros: actualCostMicros(answer.usage, content.model, 'batch'),
    latencyMs: answer.latencyMs,
    answeredModel: answer.model,
    finishReason: answer.finishReason,
    error: null,
  };
}

/**
 * Grades the samples at once. Not exported: every test goes through runChargedSampleTests, which has checked its
 * limits and reserved its worst case first.
 */
async function runSampleTests(provider: Pick<BatchProvider, 'realtimeGrade'>, content: PromptContent, task: TaskInput, samples: Array<{ index: number; text: string }>): Promise<SampleTestRun> {
  const runId = randomBytes(4).toString('hex');
  const results = await Promise.all(samples.map((s) => gradeOne(provider, content, task, s, runId)));
  return {
    results,
    usage: {
      inputTokens: results.reduce((acc, r) => acc + (r.usage?.inputTokens ?? 0), 0),
      outputTokens: results.reduce((acc, r) => acc + (r.usage?.outputTokens ?? 0), 0),
      costMicros: results.reduce((acc, r) => acc + (r.costMicros ?? 0), 0),
    },
  };
}

/**
 * A test as the people who run it see it: within its limits (else 422), its worst case reserved against the
 * budgets of its course and platform (409 while frozen or over a limit, nothing sent), its actual cost charged to
 * the ledger at real-time prices.
 */
export async function runChargedSampleTests(
  db: RootDb,
  scope: { platformId: number; courseId: number; taskId: number },
  provider: Pick<BatchProvider, 'realtimeGrade' | 'name'>,
  test: { content: PromptContent; task: TaskInput; samples: Array<{ index: number; text: string }>; limits: SampleTestLimits },
): Promise<SampleTestRun> {
  const samples = test.samples.slice(0, MAX_SAMPLES);
  const { fields, worstCostMicros } = sampleTestBudget(test.content, test.task, samples, test.limits);
  if (Object.keys(fields).length) throw Invalid(fields, 'Nothing was tested: the test is over its limits (see the samples).');
  return spendRealtime(db, { ...scope, provider: provider.name, model: test.content.model, what: 'sample test', worstMicros: worstCostMicros }, async () => {
    const run = await runSampleTests(provider, test.content, test.task, samples);
    const billed = run.results.flatMap((r) => (r.usage ? [r.usage] : []));
    const charge = {
      amountMicros: run.usage.costMicros,
      inputTokens: billed.reduce((a, u) => a + u.inputTokens, 0),
      cachedInputTokens: billed.reduce((a, u) => a + u.cachedInputTokens, 0),
      outputTokens: billed.reduce((a, u) => a + u.outputTokens, 0),
    };
    return { result: run, charge };
  });
}

/** What one test may take (SAMPLE_TEST_MAX_CHARS, SAMPLE_TEST_MAX_COST_MICROS). */
export interface SampleTestLimits {
  maxChars: number;
  maxCostMicros: number;
}

export interface SampleTestBudget {
  samples: number;
  /** Exact input tokens of every sample's request, summed. */
  inputTokens: number;
  /** Max output tokens, once per sample: what the provider may bill at most. */
  outputTokens: number;
  /** The most the test can cost at real-time prices (each request rounded as the ledger rounds). */
  worstCostMicros: number;
  maxCostMicros: number;
  /** Field → message for what the limits refuse (samples.<i> too long, samples: too dear); empty when it may run. */
  fields: Record<string, string>;
}

/** As the editor shows money (formatUsd): cents from a dollar up, two significant digits below. */
function usd(micros: number): string {
  const v = micros / 1e6;
  return `$${v >= 1 || v === 0 ? v.toFixed(2) : v.toFixed(Math.min(6, Math.max(2, 1 - Math.floor(Math.log10(v)))))}`;
}

/**
 * The worst case of a test before anything is sent: each sample's exact input tokens through the request builder
 * the test sends, plus the prompt's max output tokens, priced at real-time (standard) prices, against the limits.
 */
export function sampleTestBudget(content: PromptContent, task: TaskInput, samples: Array<{ index: number; text: string }>, limits: SampleTestLimits): SampleTestBudget {
  const fields: Record<string, string> = {};
  const ctx = requestContextFor(content, task);
  let inputTokens = 0;
  let worstCostMicros = 0;
  for (const s of samples) {
    const chars = charCount(s.text);
    if (chars > limits.maxChars) {
      fields[`samples.${s.index - 1}`] = `Sample ${s.index} has ${chars.toLocaleString('en')} characters; a test takes samples of at most ${limits.maxChars.toLocaleString('en')}.`;
      continue;
    }
    const req = gradingRequestFor(ctx, s.text, 'estimate');
    const tokens = countRequestTokens(content.model, req.messages, req.responseFormat);
    inputTokens += tokens;
    worstCostMicros += estimateCostMicros({ inputTokens: tokens, outputTokens: content.maxOutputTokens }, content.model, 'standard');
  }
  const counted = samples.length - Object.keys(fields).length;
  if (worstCostMicros > limits.maxCostMicros) {
    fields.samples =
      `This test could cost up to ${usd(worstCostMicros)} at real-time prices (${counted} ${counted === 1 ? 'sample' : 'samples'}: ${inputTokens.toLocaleString('en')} input tokens in all, ` +
      `and up to ${content.maxOutputTokens.toLocaleString('en')} output tokens per sample), more than the ${usd(limits.maxCostMicros)} one test may cost. ` +
      'Test fewer or shorter samples, or lower the maximum output tokens.';
  }
  return { samples: counted, inputTokens, outputTokens: counted * content.maxOutputTokens, worstCostMicros, maxCostMicros: limits.maxCostMicros, fields };
}
