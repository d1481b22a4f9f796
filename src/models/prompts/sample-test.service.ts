import { randomBytes } from 'node:crypto';
import type { TaskInput } from '../../grading/messages.js';
import { actualCostMicros, ProviderError, type BatchProvider, type TokenUsage } from '../../providers/index.js';
import { evaluateAnswer, type Evaluation } from '../assessments/evaluate.js';
import { gradingRequestFor } from '../batches/grading-request.js';
import { requestContextFor } from './grading-request.js';
import type { PromptContent } from './prompt-draft.js';

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
  const evaluation = evaluateAnswer(answer, content.rubric, Number(content.maxScore));
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

/** Grades each non-empty sample (at most MAX_SAMPLES, at once). */
export async function runSampleTests(
  provider: Pick<BatchProvider, 'realtimeGrade'>,
  content: PromptContent,
  task: TaskInput,
  samples: Array<{ index: number; text: string }>,
): Promise<SampleTestRun> {
  const runId = randomBytes(4).toString('hex');
  const results = await Promise.all(samples.slice(0, MAX_SAMPLES).map((s) => gradeOne(provider, content, task, s, runId)));
  return {
    results,
    usage: {
      inputTokens: results.reduce((acc, r) => acc + (r.usage?.inputTokens ?? 0), 0),
      outputTokens: results.reduce((acc, r) => acc + (r.usage?.outputTokens ?? 0), 0),
      costMicros: results.reduce((acc, r) => acc + (r.costMicros ?? 0), 0),
    },
  };
}
