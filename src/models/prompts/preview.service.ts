import type { ChatMessage, TaskInput } from '../../grading/messages.js';
import {
  countRequestTokens,
  encodingForModel,
  estimateCostMicros,
  estimateOutputTokens,
  getModelPrice,
  type BatchProvider,
  type PriceMode,
} from '../../providers/index.js';
import { DEFAULT_OUTPUT_FRACTION } from '../../providers/tokens.js';
import { gradingRequestFor } from '../../grading/request.js';
import { requestContextFor } from './request-context.js';
import type { PromptContent } from './prompt-draft.js';

/**
 * What a prompt would send, before anything is sent: the exact request (built by the same function the queue uses),
 * its exact input token count and what it would cost per assessment and for the class, in batch and real-time prices.
 */

export const PLACEHOLDER_SUBMISSION =
  "(The student's submission goes here. Paste a sample under \"Test on samples\" to preview with real text.)";

/** Below this, a reasoning model's hidden reasoning may use up max output tokens before the answer is written. */
const REASONING_MIN_OUTPUT_TOKENS = 4_000;

export interface PreviewOptions {
  content: PromptContent;
  task: TaskInput & { maxScore: number };
  /** A sample submission to preview with; null uses a placeholder. */
  sample: string | null;
  students: number;
  /** Mean output tokens of this task's graded answers with this model, when there are some. */
  observed: { mean: number; count: number } | null;
  provider: Pick<BatchProvider, 'requestBody'>;
}

export type Costs = Record<PriceMode, number>;

export interface PromptPreview {
  messages: ChatMessage[];
  sampleUsed: boolean;
  /** The body of the batch request line, pretty-printed: exactly what the provider receives. */
  requestBody: string;
  /** The strict JSON schema of the expected answer, pretty-printed. */
  schema: string;
  model: string;
  encoding: string;
  reasoning: boolean;
  contextWindow: number | null;
  inputTokens: number;
  /** Input tokens with an empty submission: what every assessment pays before the student's text. */
  promptTokens: number;
  submissionTokens: number;
  outputTokens: number;
  outputBasis: { kind: 'observed'; count: number; mean: number } | { kind: 'default'; fraction: number };
  perAssessment: Costs;
  students: number;
  total: Costs;
  prices: Record<PriceMode, { input: number; output: number; checked: string }>;
  warnings: string[];
}

export function buildPreview(o: PreviewOptions): PromptPreview {
  const { content, task } = o;
  const text = o.sample && o.sample.trim() ? o.sample : PLACEHOLDER_SUBMISSION;
  const ctx = requestContextFor(content, task);
  const req = gradingRequestFor(ctx, text, 'preview');
  const requestBody = o.provider.requestBody(req);
  // What is billed: the messages and the answer's schema (a grading schema is a few hundred tokens of its own).
  const inputTokens = countRequestTokens(content.model, req.messages, req.responseFormat);
  const empty = gradingRequestFor(requestContextFor(content, task), '', 'preview');
  const promptTokens = countRequestTokens(content.model, empty.messages, empty.responseFormat);
  const outputTokens = estimateOutputTokens(content.maxOutputTokens, o.observed?.mean, content.rubric.length);
  const price = getModelPrice(content.model);
  const perAssessment: Costs = {
    batch: estimateCostMicros({ inputTokens, outputTokens }, content.model, 'batch'),
    standard: estimateCostMicros({ inputTokens, outputTokens }, content.model, 'standard'),
  };
  const students = Math.max(0, Math.floor(o.students));

  const warnings: string[] = [];
  if (price.contextWindow !== null && inputTokens + content.maxOutputTokens > price.contextWindow) {
    warnings.push(
      `This request needs ${(inputTokens + content.maxOutputTokens).toLocaleString('en')} tokens (input + max output), more than ${content.model}'s context window of ${price.contextWindow.toLocaleString('en')}: the provider would refuse it.`,
    );
  }
  if (price.reasoning && content.maxOutputTokens < REASONING_MIN_OUTPUT_TOKENS) {
    warnings.push(
      `${content.model} reasons before it answers, and its hidden reasoning counts towards max output tokens: with ${content.maxOutputTokens.toLocaleString('en')} the answer may be cut off. ${REASONING_MIN_OUTPUT_TOKENS.toLocaleString('en')} or more is safer.`,
    );
  }
  if (Number(content.maxScore) !== Number(task.maxScore)) {
    warnings.push(`This prompt grades out of ${Number(content.maxScore)}, but the task's gradebook column is out of ${Number(task.maxScore)}.`);
  }

  return {
    messages: req.messages,
    sampleUsed: text !== PLACEHOLDER_SUBMISSION,
    requestBody: JSON.stringify(requestBody, null, 2),
    // The answer's schema, whether it is sent as the response format or (older models) in the system message.
    schema: JSON.stringify(ctx.version.outputSchema, null, 2),
    model: content.model,
    encoding: encodingForModel(content.model),
    reasoning: price.reasoning,
    contextWindow: price.contextWindow,
    inputTokens,
    promptTokens,
    submissionTokens: inputTokens - promptTokens,
    outputTokens,
    outputBasis: o.observed ? { kind: 'observed', count: o.observed.count, mean: o.observed.mean } : { kind: 'default', fraction: DEFAULT_OUTPUT_FRACTION },
    perAssessment,
    students,
    total: { batch: perAssessment.batch * students, standard: perAssessment.standard * students },
    prices: {
      batch: { input: price.batch.inputUsdPerMTok, output: price.batch.outputUsdPerMTok, checked: price.batch.checked },
      standard: { input: price.standard.inputUsdPerMTok, output: price.standard.outputUsdPerMTok, checked: price.standard.checked },
    },
    warnings,
  };
}
