import type { KeyMaterial } from '../../crypto/content.js';
import { decryptContent } from '../../crypto/content.js';
import type { RootDb } from '../../db/db.js';
import { Conflict } from '../../errors.js';
import { compareModes, type ModeComparison, type ModePair } from '../../analytics/mode-compare.js';
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
import { sampleBatchResults } from './mode-check.repository.js';
import { findVersionById, type PromptVersionRow } from './prompts.repository.js';

/**
 * The batch-versus-real-time check (issue 22, item 2): a sample of a task's batch results graded again through the
 * provider's real-time call with the very request the batch sent (same version, text as sent, language), charged to
 * the task's course through the one spending gate, and the two scores compared (analytics/mode-compare.ts).
 */

export interface ModeCheck {
  comparison: ModeComparison;
  /** Items sent but without a usable real-time score (a provider error or an unusable answer). */
  unusable: number;
  costMicros: number;
}

interface Resend {
  batchScore: number;
  version: PromptVersionRow;
  request: GradingRequest;
  text: string;
}

async function resends(db: RootDb, keys: KeyMaterial, task: TaskRow, sample: number): Promise<Resend[]> {
  const anonymize = (await getCoursePrivacy(db, task.courseId)).anonymize;
  const protect = await courseProtection(db, task.courseId);
  const versions = new Map<number, PromptVersionRow>();
  const out: Resend[] = [];
  for (const r of await sampleBatchResults(db, task.id, sample)) {
    if (!versions.has(r.promptVersionId)) versions.set(r.promptVersionId, (await findVersionById(db, r.promptVersionId))!);
    const version = versions.get(r.promptVersionId)!;
    const plain = decryptContent(keys, r.content, { taskId: task.id, studentId: r.studentId, attempt: r.attempt });
    // As the send step made it (batch-send.service.ts): the same anonymized text, so only the way it is sent differs.
    const text = anonymize ? sendableText(plain, await protect(r.studentId), true).text : plain;
    out.push({ batchScore: r.score, version, text, request: gradingRequestFor({ version, task }, text, `mode-${r.assessmentId}`, languageOfFile(r.originalFilename)) });
  }
  return out;
}

/** Grades a sample of the task's batch results again in real time; 409 with nothing sent when a budget refuses. */
export async function checkBatchAgainstRealtime(
  db: RootDb,
  keys: KeyMaterial,
  providerFor: (model: string) => Pick<BatchProvider, 'realtimeGrade' | 'name'>,
  task: TaskRow & { platformId: number },
  sample: number,
): Promise<ModeCheck> {
  const items = await resends(db, keys, task, sample);
  if (!items.length) throw Conflict(`Task ${task.id} has no batch results to compare yet: run a batch first.`);
  const pairs: ModePair[] = [];
  let unusable = 0;
  let costMicros = 0;
  for (const model of new Set(items.map((i) => i.version.model))) {
    const group = items.filter((i) => i.version.model === model);
    const provider = providerFor(model);
    const worstMicros = group.reduce((s, i) => s + estimateCostMicros({ inputTokens: countRequestTokens(model, i.request.messages, i.request.responseFormat), outputTokens: i.version.maxOutputTokens }, model, 'standard'), 0);
    const scope = { platformId: task.platformId, courseId: task.courseId, taskId: task.id };
    await spendRealtime(db, { ...scope, provider: provider.name, model, what: 'batch vs real-time check', worstMicros }, async () => {
      const charge = { amountMicros: 0, inputTokens: 0, cachedInputTokens: 0, outputTokens: 0 };
      for (const i of group) {
        const answer = await provider.realtimeGrade(i.request).catch((err: unknown) => {
          if (err instanceof ProviderError) return null;
          throw err;
        });
        if (!answer) {
          unusable += 1;
          continue;
        }
        const ev = evaluateAnswer(answer, i.version.rubric, Number(i.version.maxScore), scanSubmission(i.text));
        if (ev.score === null) unusable += 1;
        else pairs.push({ batch: i.batchScore, realtime: ev.score });
        charge.amountMicros += actualCostMicros(answer.usage, model, 'standard');
        charge.inputTokens += answer.usage.inputTokens;
        charge.cachedInputTokens += answer.usage.cachedInputTokens;
        charge.outputTokens += answer.usage.outputTokens;
      }
      costMicros += charge.amountMicros;
      return { result: null, charge };
    });
  }
  return { comparison: compareModes(pairs, Number(items[0]!.version.maxScore)), unusable, costMicros };
}
