import { encryptText, type KeyMaterial } from '../../crypto/content.js';
import { actualCostMicros, type PriceMode, type TokenUsage } from '../../providers/index.js';
import { evaluateAnswer, type AnswerInput } from '../../grading/evaluate.js';
import type { RubricCriterion } from '../../grading/rubric.js';
import { AssessmentsDoc, type NewAssessment } from '../assessments/assessments.repository.js';
import { releasedToStudent } from '../assessments/release.js';
import type { RequestProblem, RequestTarget } from './batch-work.repository.js';
import type { BatchRow } from './batches.repository.js';
import type { HeldAnswer, ResultChunk } from './result-chunk.js';

export type Rubric = { rubric: RubricCriterion[]; maxScore: number };

/** What one answer adds to the batch's totals, once its assessment is in. */
export type ResultFigures = { customId: string; inputTokens: number; outputTokens: number; costMicros: number };

/** A chunk's lines sorted by what they become; no database work, so the transaction only writes. */
export interface ChunkOutcomes {
  /** The assessments of the usable answers, as one document for one statement. */
  doc: AssessmentsDoc;
  /** What the chunk still needs once its statement is built: a few numbers per answer, not its text. */
  results: ResultFigures[];
  /** Errors and unreadable answers: a failed send. */
  failures: RequestProblem[];
  /** Requests the provider never ran: back to the queue. */
  notRun: RequestProblem[];
  /** Lines naming no request of this batch. */
  unmatched: number;
}

/**
 * Sorts a chunk's lines (and empties it): a line of a request still pending becomes an assessment (judged by
 * evaluateAnswer), a failure or a "not run"; a line seen twice, or of a request resolved earlier, does nothing.
 */
export function sortChunkLines(
  batch: Pick<BatchRow, 'id' | 'model'>,
  chunk: ResultChunk,
  targets: Map<string, RequestTarget>,
  rubrics: Map<number, Rubric>,
  warn: (message: string, details: Record<string, unknown>) => void,
  keys: KeyMaterial,
): ChunkOutcomes {
  const out: ChunkOutcomes = { doc: new AssessmentsDoc(chunk.buffers.doc), results: [], failures: [], notRun: [], unmatched: 0 };
  const seen = new Set<string>();
  for (const line of chunk.lines) {
    const target = line.customId ? targets.get(line.customId) : undefined;
    if (!target) {
      out.unmatched += 1;
      if (line.kind === 'unreadable' && !line.customId) warn('unreadable result line', { batchId: batch.id, message: line.message });
      continue;
    }
    // Resolved already (a line seen twice, or a request finished earlier): nothing to do.
    if (target.status !== 'pending' || seen.has(target.custom_id)) continue;
    seen.add(target.custom_id);
    if (line.kind === 'succeeded') {
      out.results.push(addAssessment(out.doc, batch.model, chunk, line, target, rubrics.get(target.prompt_version_id)!, keys));
    } else if (line.kind === 'not_run') {
      out.notRun.push({ customId: target.custom_id, code: line.code, message: `Not run: ${line.message}` });
    } else if (line.kind === 'errored') {
      out.failures.push({ customId: target.custom_id, code: line.code ?? `http_${line.statusCode ?? 'error'}`, message: `The provider answered with an error${line.statusCode ? ` (HTTP ${line.statusCode})` : ''}: ${line.message}` });
    } else {
      out.failures.push({ customId: target.custom_id, code: 'unreadable_result', message: line.message });
    }
  }
  chunk.lines.length = 0;
  return out;
}

/** One usable answer, judged, as a row of the document (judgedAssessment, at the batch price). */
function addAssessment(doc: AssessmentsDoc, batchModel: string, chunk: ResultChunk, line: HeldAnswer, target: RequestTarget, r: Rubric, keys: KeyMaterial): ResultFigures {
  const { row, costMicros } = judgedAssessment(chunk.answer(line), { usage: line.usage, answeredModel: line.model, pricedModel: batchModel, mode: 'batch' }, target, r, keys);
  doc.add(row);
  return { customId: target.custom_id, inputTokens: line.usage.inputTokens, outputTokens: line.usage.outputTokens, costMicros };
}

/** What an assessment row needs of its request: the item, the key, the scan of the text sent, the task's release rule. */
export type AssessedRequest = Pick<RequestTarget, 'queue_item_id' | 'custom_id' | 'injection_scan' | 'release_policy' | 'auto_release_min_confidence'>;

/**
 * A model's answer judged (evaluateAnswer) and made the assessment row every reader expects, priced at the mode
 * it ran in: a batch line at the batch price, a real-time answer at the standard one. Released at once when the
 * task's policy says so. The one place an answer becomes an assessment, so a real-time result is indistinguishable
 * downstream (review, release, grade passback, costs).
 */
export function judgedAssessment(
  answer: AnswerInput,
  billed: { usage: TokenUsage; answeredModel: string; pricedModel: string; mode: PriceMode },
  target: AssessedRequest,
  r: Rubric,
  keys: KeyMaterial,
): { row: NewAssessment; costMicros: number } {
  const ev = evaluateAnswer(answer, r.rubric, r.maxScore, target.injection_scan);
  const { usage } = billed;
  let cost = 0;
  try {
    cost = actualCostMicros(usage, billed.pricedModel, billed.mode);
  } catch {
    // A model without a price: the assessment still counts, at no recorded cost.
    cost = 0;
  }
  const row: NewAssessment = {
    queueItemId: target.queue_item_id,
    customId: target.custom_id,
    model: billed.answeredModel,
    result: ev.result,
    // The model's own words, which may quote the student's work: encrypted like it (bound to the queue item, as
    // the assessment's id does not exist before this insert).
    rawOutput: ev.result ? null : encryptText(keys, answer.content ?? answer.refusal, { queueItemId: target.queue_item_id, column: 'raw_output' }),
    score: ev.score,
    maxScore: r.maxScore,
    modelConfidence: ev.modelConfidence,
    computedConfidence: ev.computedConfidence,
    flags: ev.flags,
    needsReview: ev.needsReview,
    inputTokens: usage.inputTokens,
    cachedInputTokens: usage.cachedInputTokens,
    outputTokens: usage.outputTokens,
    actualCostMicros: cost,
    releasedAt: releasedToStudent({ reviewStatus: 'pending_review', needsReview: ev.needsReview, flagCount: ev.flags.length, releasePolicy: target.release_policy, confidence: ev.computedConfidence, minConfidence: target.auto_release_min_confidence }) ? new Date() : null,
  };
  return { row, costMicros: cost };
}

/** The totals of the answers whose assessment was inserted (not those refused as duplicates). */
export function insertedTotals(results: ResultFigures[], inserted: Set<string>): { inputTokens: number; outputTokens: number; costMicros: number } {
  const totals = { inputTokens: 0, outputTokens: 0, costMicros: 0 };
  for (const r of results) {
    if (!inserted.has(r.customId)) continue;
    totals.inputTokens += r.inputTokens;
    totals.outputTokens += r.outputTokens;
    totals.costMicros += r.costMicros;
  }
  return totals;
}
