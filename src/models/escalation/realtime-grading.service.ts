import type { KeyMaterial } from '../../crypto/content.js';
import type { Db, RootDb } from '../../db/db.js';
import { HttpError } from '../../errors.js';
import type { SubmissionScan } from '../../grading/injection.js';
import type { GradingRequest } from '../../grading/request.js';
import type { Logger } from '../../log.js';
import { actualCostMicros, countRequestTokens, estimateCostMicros, ProviderError, type Providers, type RealtimeAnswer } from '../../providers/index.js';
import { TextBuffer } from '../../text-buffer.js';
import { recordAudit } from '../audit/audit.repository.js';
import { AssessmentsDoc } from '../assessments/assessments.repository.js';
import { versionsForRequests, type VersionForRequest } from '../batches/batch-work.repository.js';
import { judgedAssessment } from '../batches/chunk-outcomes.js';
import { peopleOfCourses, requestForItem } from '../batches/item-request.js';
import { spendRealtime } from '../budgets/realtime-spend.service.js';
import { notifyDeadItems, notifyFeedbackReady } from '../notifications/notices.service.js';
import { coursesRefusingBatch } from '../privacy/privacy.repository.js';
import { claimRequest, completeRealtimeItem, markSucceeded, resolveRequest, returnRealtimeItem, type ClaimedRequest } from './escalation.repository.js';
import { dueRealtimeOnlyItems, insertRealtimeAssessment, orphanedRequests, realtimeItemRow, type RealtimeItemRow } from './realtime-grading.repository.js';
import { startRealtimeOnly } from './escalation.service.js';

/**
 * The worker's half of a real-time grading (the `grade-realtime` job): the request claimed (pending → running,
 * once), the item's request built as a batch's send step builds it (item-request.ts), the call made through the
 * spending gate (spendRealtime: the worst case reserved, refused while a budget is frozen or would be exceeded),
 * the answer judged and written as ingestion writes a batch result (judgedAssessment, insertAssessmentsSql), with
 * its charge at the real-time price, the item completed and the student told, in one transaction. A refusal (the
 * gate, the course's settings) sends the item back to the queue, nothing charged; a provider failure uses one of
 * the item's sends (a dead letter after the last) and releases the reservation. Every outcome is audited.
 */

export interface RealtimeWorker {
  db: RootDb;
  providers: Providers;
  encryptionKey: KeyMaterial;
  logger: Pick<Logger, 'info' | 'warn'>;
}

/** How long a worker holds a request: the provider call's own timeouts and retries fit well inside it. */
export const REALTIME_LEASE_MS = 10 * 60 * 1000;
/** A real-time-only course's item tries again after a failed call, and after a refusal (a frozen or spent budget). */
const RETRY_AFTER_FAILURE_MS = 5 * 60 * 1000;
const RETRY_AFTER_REFUSAL_MS = 15 * 60 * 1000;

export type RealtimeOutcome = 'graded' | 'failed' | 'refused' | 'skipped';

/** Runs one request, if it is (still) to run. Idempotent: a second job for the same request does nothing. */
export async function runRealtimeGrading(w: RealtimeWorker, requestId: number): Promise<RealtimeOutcome> {
  const claimed = await claimRequest(w.db, requestId, REALTIME_LEASE_MS);
  if (!claimed) return 'skipped';
  const row = await realtimeItemRow(w.db, claimed.queue_item_id);
  if (!row || row.status !== 'processing' || row.batch_id !== null) {
    await resolveRequest(w.db, claimed.id, 'refused', 'The work was no longer waiting for this grading.');
    return 'refused';
  }
  const [refusal] = await coursesRefusingBatch(w.db, [row.course_id], row.provider, { realtime: true });
  if (refusal) return refuse(w, claimed, row, `the course's settings changed (${refusal.reason === 'llm_off' ? 'LLM assessment is off' : `${row.provider} is not approved`})`);
  const [version] = await versionsForRequests(w.db, [row.prompt_version_id]);
  let built: { req: GradingRequest; scan: SubmissionScan };
  try {
    built = requestForItem(w.encryptionKey, row, version!, (await peopleOfCourses(w.db, [row.course_id])).get(row.course_id), claimed.custom_id);
  } catch (err) {
    if (err instanceof ProviderError) return fail(w, claimed, row, err);
    throw err;
  }
  try {
    await callAndRecord(w, claimed, row, version!, built);
    return 'graded';
  } catch (err) {
    if (err instanceof HttpError && err.status === 409) return refuse(w, claimed, row, err.message);
    if (err instanceof ProviderError) return fail(w, claimed, row, err);
    // Our own failure (the database): the request stays running until its lease ends, and the sweep runs it again.
    throw err;
  }
}

/** The call through the spending gate, and its answer written with its charge. */
async function callAndRecord(w: RealtimeWorker, claimed: ClaimedRequest, row: RealtimeItemRow, v: VersionForRequest, built: { req: GradingRequest; scan: SubmissionScan }): Promise<void> {
  const provider = w.providers.get(row.provider);
  const inputTokens = countRequestTokens(v.model, built.req.messages, built.req.responseFormat);
  const worstMicros = estimateCostMicros({ inputTokens, outputTokens: v.max_output_tokens }, v.model, 'standard');
  const spend = { platformId: row.platform_id, courseId: row.course_id, taskId: row.task_id, provider: row.provider, model: v.model, what: 'real-time grading', worstMicros, customId: claimed.custom_id, queueItemId: row.queue_item_id };
  await spendRealtime(
    w.db,
    spend,
    async () => {
      const answer = await provider.realtimeGrade(built.req);
      const u = answer.usage;
      return { result: answer, charge: { amountMicros: actualCostMicros(u, v.model, 'standard'), inputTokens: u.inputTokens, cachedInputTokens: u.cachedInputTokens, outputTokens: u.outputTokens } };
    },
    (tx, answer) => recordAnswer(tx, w, claimed, row, v, built.scan, answer),
  );
}

/** The answer as ingestion writes a result: judged, the assessment inserted, the item completed, the student told. */
async function recordAnswer(tx: Db, w: RealtimeWorker, claimed: ClaimedRequest, row: RealtimeItemRow, v: VersionForRequest, scan: SubmissionScan, answer: RealtimeAnswer): Promise<{ assessmentId: number | null }> {
  const doc = new AssessmentsDoc(new TextBuffer(4 * 1024));
  const target = { queue_item_id: row.queue_item_id, custom_id: claimed.custom_id, injection_scan: scan.risk > 0 ? scan : null, release_policy: row.release_policy, auto_release_min_confidence: row.auto_release_min_confidence };
  const { row: assessment, costMicros } = judgedAssessment(answer, { usage: answer.usage, answeredModel: answer.model, pricedModel: v.model, mode: 'standard' }, target, { rubric: v.rubric, maxScore: v.max_score }, w.encryptionKey);
  doc.add(assessment);
  const assessmentId = await insertRealtimeAssessment(tx, row.queue_item_id, doc);
  const call = { provider: row.provider, model: v.model, customId: claimed.custom_id, requestId: answer.requestId, latencyMs: answer.latencyMs, inputTokens: answer.usage.inputTokens, outputTokens: answer.usage.outputTokens, costMicros };
  await recordAudit(tx, { platformId: row.platform_id, courseId: row.course_id, actorKind: 'system', action: 'provider.realtime_called', entityType: 'queue_item', entityId: row.queue_item_id, details: { ...call, outcome: 'answered' } });
  if (assessmentId === null) {
    // Taken meanwhile (a double run's twin got there first): the money is spent, nothing is written twice.
    await resolveRequest(tx, claimed.id, 'refused', 'The work was graded by another run meanwhile.');
    return { assessmentId: null };
  }
  await completeRealtimeItem(tx, row.queue_item_id);
  await markSucceeded(tx, claimed.id, assessmentId, costMicros);
  await notifyFeedbackReady(tx, { customIds: [claimed.custom_id] });
  await recordAudit(tx, {
    platformId: row.platform_id, courseId: row.course_id, actorKind: 'system', action: 'escalation.graded',
    entityType: 'queue_item', entityId: row.queue_item_id, details: { ...call, source: claimed.source, requestedBy: claimed.requested_by, requestId: claimed.id, assessmentId, needsReview: assessment.needsReview ?? false },
  });
  w.logger.info('graded in real time', { queueItemId: row.queue_item_id, requestId: claimed.id, source: claimed.source });
  return { assessmentId };
}

/** Not sent (the gate, the course's settings): the item back to the queue, no send used, nothing charged. */
async function refuse(w: RealtimeWorker, claimed: ClaimedRequest, row: RealtimeItemRow, why: string): Promise<RealtimeOutcome> {
  await w.db.transaction(async (tx) => {
    if (!(await resolveRequest(tx, claimed.id, 'refused', why))) return;
    const notBefore = row.realtime_only ? new Date(Date.now() + RETRY_AFTER_REFUSAL_MS) : null;
    await returnRealtimeItem(tx, row.queue_item_id, { usedSend: false, final: false, message: `Not graded in real time: ${why}`, notBefore, first: claimed.source !== 'realtime_only' });
    await recordAudit(tx, { platformId: row.platform_id, courseId: row.course_id, actorKind: 'system', action: 'escalation.refused', entityType: 'queue_item', entityId: row.queue_item_id, details: { source: claimed.source, requestedBy: claimed.requested_by, requestId: claimed.id, reason: why } });
  });
  w.logger.info('a real-time grading was refused', { queueItemId: row.queue_item_id, requestId: claimed.id, reason: why });
  return 'refused';
}

/** The call failed: one send used (a dead letter after the last, or at once when it can never work), the reservation already released. */
async function fail(w: RealtimeWorker, claimed: ClaimedRequest, row: RealtimeItemRow, err: ProviderError): Promise<RealtimeOutcome> {
  const message = `Real-time grading failed: ${err.message}`;
  await w.db.transaction(async (tx) => {
    if (!(await resolveRequest(tx, claimed.id, 'failed', err.message))) return;
    const notBefore = row.realtime_only ? new Date(Date.now() + RETRY_AFTER_FAILURE_MS) : null;
    const status = await returnRealtimeItem(tx, row.queue_item_id, { usedSend: true, final: !err.retryable && err.httpStatus === null, message, notBefore, first: claimed.source !== 'realtime_only' });
    if (status === 'failed') await notifyDeadItems(tx, [row.queue_item_id]);
    await recordAudit(tx, { platformId: row.platform_id, courseId: row.course_id, actorKind: 'system', action: 'provider.realtime_called', entityType: 'queue_item', entityId: row.queue_item_id, details: { provider: row.provider, customId: claimed.custom_id, outcome: 'failed', code: err.code, httpStatus: err.httpStatus } });
    await recordAudit(tx, { platformId: row.platform_id, courseId: row.course_id, actorKind: 'system', action: 'escalation.failed', entityType: 'queue_item', entityId: row.queue_item_id, details: { source: claimed.source, requestedBy: claimed.requested_by, requestId: claimed.id, error: err.message, itemStatus: status } });
  });
  w.logger.warn('a real-time grading failed', { queueItemId: row.queue_item_id, requestId: claimed.id, error: err.message });
  return 'failed';
}

/** A pending request older than this was not picked up after its enqueue (lost, or no worker was running). */
const ORPHANED_AFTER_MS = 60 * 1000;

/**
 * What the recurring run finds to do: the due items of real-time-only courses waiting in the queue (new ones whose
 * job was lost, ones back after a failure or a refusal, work queued again by a retry or a rejection) get their
 * request, and requests nobody is running are handed out again. Returns the request ids to run.
 */
export async function realtimeWork(db: RootDb, limit = 50): Promise<number[]> {
  const started: number[] = [];
  for (const itemId of await dueRealtimeOnlyItems(db, limit)) {
    const requestId = await db.transaction((tx) => startRealtimeOnly(tx, itemId));
    if (requestId !== null) started.push(requestId);
  }
  return [...new Set([...started, ...(await orphanedRequests(db, ORPHANED_AFTER_MS, limit))])];
}
