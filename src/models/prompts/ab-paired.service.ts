import { recordAudit } from '../audit/audit.repository.js';
import type { KeyMaterial } from '../../crypto/content.js';
import { ContentDecryptionError, decryptContent } from '../../crypto/content.js';
import type { Db, RootDb } from '../../db/db.js';
import { Conflict } from '../../errors.js';
import { sendableText } from '../../grading/anonymize-text.js';
import { languageOfFile } from '../../grading/code-language.js';
import { evaluateAnswer } from '../../grading/evaluate.js';
import { scanSubmission } from '../../grading/injection.js';
import { gradingRequestFor, type GradingRequest } from '../../grading/request.js';
import { actualCostMicros, countRequestTokens, estimateCostMicros, ProviderError, type BatchProvider } from '../../providers/index.js';
import { spendRealtime } from '../budgets/realtime-spend.service.js';
import { getCoursePrivacy } from '../privacy/privacy.repository.js';
import { courseProtection } from '../submissions/submissions.service.js';
import type { TaskRow } from '../tasks/tasks.repository.js';
import type { AbArm } from './ab-tests.table.js';
import { findRunningTest, insertPairedGrade, listPairCandidates, type AbTestRow } from './ab-tests.repository.js';
import { findVersionById, type PromptVersionRow } from './prompts.repository.js';

/**
 * A paired comparison: submissions one arm graded are graded by the other version too, by a real-time call through
 * the one spending gate (spendRealtime: the worst case reserved against the course's and platform's budgets, refused
 * while frozen or over), and kept apart from assessments (ab_paired_grades), so the student only ever sees the
 * grade of the arm they were assigned. At most MAX_PAIRED_PER_RUN items per run: the instructor sees its cost first.
 */

export const MAX_PAIRED_PER_RUN = 20;

interface PairedRequest {
  submissionId: number;
  /** The arm grading it now (the other one than the submission's). */
  arm: AbArm;
  version: PromptVersionRow;
  request: GradingRequest;
  text: string;
}

export interface PairedPlan {
  test: AbTestRow;
  requests: PairedRequest[];
  /** The most the run may cost: exact input tokens and every answer at its maximum, real-time prices. */
  worstMicros: number;
}

/** What a paired run would send now, with its worst-case cost (shown to the instructor before they confirm). */
export async function planPairedGrading(db: Db, keys: KeyMaterial, task: TaskRow): Promise<PairedPlan | null> {
  const test = await findRunningTest(db, task.id);
  if (!test) return null;
  const [A, B] = [(await findVersionById(db, test.versionAId))!, (await findVersionById(db, test.versionBId))!];
  const anonymize = (await getCoursePrivacy(db, task.courseId)).anonymize;
  const protect = await courseProtection(db, task.courseId);
  const requests: PairedRequest[] = [];
  let worstMicros = 0;
  for (const c of await listPairCandidates(db, test.id, MAX_PAIRED_PER_RUN)) {
    const [arm, version] = c.promptVersionId === A.id ? (['B', B] as const) : c.promptVersionId === B.id ? (['A', A] as const) : [null, null];
    if (!arm || !c.content) continue;
    let plain: string;
    try {
      plain = decryptContent(keys, c.content, { taskId: task.id, studentId: c.studentId, attempt: c.attempt });
    } catch (err) {
      // A text under a key no longer configured cannot be sent: that item is left out, the others still pair.
      if (err instanceof ContentDecryptionError) continue;
      throw err;
    }
    // The same text the batch sent for the other arm (anonymization is deterministic), so only the prompt differs.
    const text = anonymize ? sendableText(plain, await protect(c.studentId), true).text : plain;
    const request = gradingRequestFor({ version, task }, text, `ab-${test.id}-${c.submissionId}`, languageOfFile(c.originalFilename));
    worstMicros += estimateCostMicros({ inputTokens: countRequestTokens(version.model, request.messages, request.responseFormat), outputTokens: version.maxOutputTokens }, version.model, 'standard');
    requests.push({ submissionId: c.submissionId, arm, version, request, text });
  }
  return { test, requests, worstMicros };
}

/** Calls at once in a paired run: a person waits for it, and 20 calls one after another could take a minute. */
const CONCURRENCY = 4;

async function gradeGroup(db: RootDb, provider: Pick<BatchProvider, 'realtimeGrade'>, test: AbTestRow, group: PairedRequest[]) {
  let graded = 0;
  const charge = { amountMicros: 0, inputTokens: 0, cachedInputTokens: 0, outputTokens: 0 };
  const gradeOne = async (r: PairedRequest) => {
    let answer;
    try {
      answer = await provider.realtimeGrade(r.request);
    } catch (err) {
      // One item the provider refused is left for the next run; the others still count.
      if (err instanceof ProviderError) return;
      throw err;
    }
    const ev = evaluateAnswer(answer, r.version.rubric, Number(r.version.maxScore), scanSubmission(r.text));
    const cost = actualCostMicros(answer.usage, r.version.model, 'standard');
    const criteria = Object.fromEntries(Object.entries((ev.result?.criteria ?? {}) as Record<string, { score?: number }>).flatMap(([id, c]) => (typeof c.score === 'number' ? [[id, c.score]] : [])));
    await insertPairedGrade(db, { abTestId: test.id, submissionId: r.submissionId, promptVersionId: r.version.id, arm: r.arm, score: ev.score, criteria, costMicros: cost });
    charge.amountMicros += cost;
    charge.inputTokens += answer.usage.inputTokens;
    charge.cachedInputTokens += answer.usage.cachedInputTokens;
    charge.outputTokens += answer.usage.outputTokens;
    graded += 1;
  };
  let next = 0;
  const worker = async () => {
    while (next < group.length) await gradeOne(group[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, group.length) }, worker));
  return { result: { graded, costMicros: charge.amountMicros }, charge };
}

/**
 * Grades the planned items with the other version, one reservation per version called (each has its own model and
 * provider). 409 when a budget is frozen or would be exceeded: nothing of that version is sent.
 */
export async function runPairedGrading(
  db: RootDb,
  keys: KeyMaterial,
  providerFor: (model: string) => Pick<BatchProvider, 'realtimeGrade' | 'name'>,
  task: TaskRow & { platformId: number },
  actorId: number | null = null,
): Promise<{ graded: number; costMicros: number }> {
  const plan = await planPairedGrading(db, keys, task);
  if (!plan) throw Conflict('No A/B test is running on this task: nothing was sent.');
  const total = { graded: 0, costMicros: 0 };
  for (const arm of ['A', 'B'] as const) {
    const group = plan.requests.filter((r) => r.arm === arm);
    if (!group.length) continue;
    const model = group[0]!.version.model;
    const provider = providerFor(model);
    const worstMicros = group.reduce((s, r) => s + estimateCostMicros({ inputTokens: countRequestTokens(model, r.request.messages, r.request.responseFormat), outputTokens: r.version.maxOutputTokens }, model, 'standard'), 0);
    const scope = { platformId: task.platformId, courseId: task.courseId, taskId: task.id };
    const done = await spendRealtime(db, { ...scope, provider: provider.name, model, what: 'A/B paired grading', worstMicros }, () => gradeGroup(db, provider, plan.test, group));
    total.graded += done.graded;
    total.costMicros += done.costMicros;
  }
  // Money spent (or a run that found nothing to pair) is on the record, with who asked.
  await recordAudit(db, {
    platformId: task.platformId, courseId: task.courseId, actorId, actorKind: actorId ? 'user' : 'system', action: 'ab_test.paired_run', entityType: 'prompt_ab_test', entityId: plan.test.id,
    details: { taskId: task.id, planned: plan.requests.length, graded: total.graded, costMicros: total.costMicros },
  });
  return total;
}
