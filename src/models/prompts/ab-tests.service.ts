import type { Db } from '../../db/db.js';
import { Conflict, Invalid, NotFound } from '../../errors.js';
import { compareArms, comparePaired, type AbComparison, type ArmItem, type PairedComparison, type PairedItem } from '../../analytics/ab-report.js';
import { recordAudit } from '../audit/audit.repository.js';
import type { TaskRow } from '../tasks/tasks.repository.js';
import { armOf } from './ab-split.js';
import type { AbArm } from './ab-tests.table.js';
import { countArms, findLatestTest, findRunningTest, insertAbTest, listDecidedInTest, markEnded, setActiveVersion, type AbTestRow, type DecidedArmRow } from './ab-tests.repository.js';
import { findPromptForTask, findVersion, findVersionById, type PromptVersionRow } from './prompts.repository.js';
import type { PromptActor } from './prompts.service.js';

/**
 * Prompt A/B tests (issue 22): two versions of a task's prompt grade new submissions side by side, split by
 * submission (ab-split.ts); the results page compares each with the instructor's decisions; ending the test makes
 * the winner the task's active version. Callers run these in a transaction and have checked the task is the actor's.
 */

async function activeVersionOfTask(db: Db, taskId: number): Promise<{ promptId: number; active: PromptVersionRow }> {
  const prompt = await findPromptForTask(db, taskId);
  const active = prompt && prompt.status === 'active' && prompt.activeVersionId !== null ? await findVersionById(db, prompt.activeVersionId) : undefined;
  if (!prompt || !active) throw Conflict('This task has no active grading prompt: save a version before testing another against it.');
  return { promptId: prompt.id, active };
}

/** Starts a test of version `versionB` against the active version, B grading `shareB` percent of new submissions. */
export async function startAbTest(db: Db, actor: PromptActor, task: TaskRow, input: { versionB: number; shareB: number }): Promise<AbTestRow> {
  const { promptId, active } = await activeVersionOfTask(db, task.id);
  if (await findRunningTest(db, task.id, true)) throw Conflict('An A/B test is already running on this task: end it before starting another.');
  const b = await findVersion(db, promptId, input.versionB);
  if (!b) throw NotFound(`Version ${input.versionB} of this prompt`);
  if (b.id === active.id) throw Invalid({ versionB: `Version ${b.version} is the active version (A): choose another version to test against it.` });
  // Both arms' scores are compared on one scale: kappa's categories and the MAE's points must mean the same.
  if (Number(b.maxScore) !== Number(active.maxScore)) throw Invalid({ versionB: `Version ${b.version} scores out of ${Number(b.maxScore)}, the active version out of ${Number(active.maxScore)}: only versions with the same maximum can be compared.` });
  const test = await insertAbTest(db, { platformId: actor.platformId, courseId: task.courseId, taskId: task.id, versionAId: active.id, versionBId: b.id, shareB: input.shareB, startedBy: actor.userId });
  await recordAudit(db, {
    platformId: actor.platformId, courseId: task.courseId, actorId: actor.userId, actorKind: 'user', action: 'ab_test.started', entityType: 'prompt_ab_test', entityId: test.id,
    details: { taskId: task.id, versionA: active.version, versionB: b.version, shareB: input.shareB },
  });
  return test;
}

/** The version that grades a new submission: its arm's while a test runs, else the active one. */
export async function versionForSubmission(db: Db, taskId: number, active: PromptVersionRow, submissionId: number): Promise<{ version: PromptVersionRow; abTestId: number | null }> {
  const test = await findRunningTest(db, taskId);
  if (!test) return { version: active, abTestId: null };
  const id = armOf(test.id, submissionId, test.shareB) === 'B' ? test.versionBId : test.versionAId;
  return { version: (await findVersionById(db, id))!, abTestId: test.id };
}

/** Ends the running test and makes the winner the task's active version (audited). */
export async function endAbTest(db: Db, actor: PromptActor, task: TaskRow, winner: AbArm): Promise<{ test: AbTestRow; winner: PromptVersionRow }> {
  const running = await findRunningTest(db, task.id, true);
  if (!running) throw Conflict('No A/B test is running on this task: nothing was changed.');
  const winnerId = winner === 'A' ? running.versionAId : running.versionBId;
  const test = (await markEnded(db, running.id, winnerId, actor.userId))!;
  await setActiveVersion(db, task.id, winnerId);
  const version = (await findVersionById(db, winnerId))!;
  await recordAudit(db, {
    platformId: actor.platformId, courseId: task.courseId, actorId: actor.userId, actorKind: 'user', action: 'ab_test.ended', entityType: 'prompt_ab_test', entityId: test.id,
    details: { taskId: task.id, winner, promotedVersion: version.version, promotedVersionId: winnerId, versionAId: test.versionAId, versionBId: test.versionBId },
  });
  return { test, winner: version };
}

export interface AbTestResults {
  test: AbTestRow;
  A: PromptVersionRow;
  B: PromptVersionRow;
  /** Submissions each arm was given so far (graded or not). */
  assigned: { A: number; B: number };
  comparison: AbComparison;
  /** Items both versions graded (a paired comparison); null before any was made. */
  paired: PairedComparison | null;
}

const decidedScore = (r: DecidedArmRow) => (r.reviewStatus === 'overridden' ? (r.overrideScore ?? r.score) : r.score);

/** An approval speaks for every criterion; an override for the criteria the instructor gave. */
function armItem(r: DecidedArmRow, version: PromptVersionRow): ArmItem {
  const model = (r.result?.criteria ?? {}) as Record<string, { score?: number }>;
  const criteria: ArmItem['criteria'] = {};
  for (const c of version.rubric) {
    const llm = model[c.id]?.score;
    if (typeof llm !== 'number') continue;
    const given = r.overrideCriteria?.[c.id];
    if (r.reviewStatus === 'overridden' && given === undefined) continue;
    criteria[c.id] = { llm, final: r.reviewStatus === 'overridden' ? given! : llm };
  }
  return { llm: r.score, final: decidedScore(r), approved: r.reviewStatus === 'approved', criteria };
}

/** The task's running (or last) test and its figures; null when the task never had one. */
export async function abTestResults(db: Db, taskId: number): Promise<AbTestResults | null> {
  const test = await findLatestTest(db, taskId);
  if (!test) return null;
  const [A, B, rows, counts] = await Promise.all([findVersionById(db, test.versionAId), findVersionById(db, test.versionBId), listDecidedInTest(db, test.id), countArms(db, test.id)]);
  const items = { A: [] as ArmItem[], B: [] as ArmItem[] };
  const paired: PairedItem[] = [];
  for (const r of rows) {
    const arm = r.promptVersionId === A!.id ? 'A' : r.promptVersionId === B!.id ? 'B' : null;
    if (!arm) continue;
    items[arm].push(armItem(r, arm === 'A' ? A! : B!));
    if (r.pairedScore !== null) paired.push(arm === 'A' ? { a: r.score, b: r.pairedScore, final: decidedScore(r) } : { a: r.pairedScore, b: r.score, final: decidedScore(r) });
  }
  const shared = A!.rubric.filter((c) => B!.rubric.some((d) => d.id === c.id));
  const maxScore = Number(A!.maxScore);
  return {
    test,
    A: A!,
    B: B!,
    assigned: { A: counts.get(A!.id) ?? 0, B: counts.get(B!.id) ?? 0 },
    comparison: compareArms(items.A, items.B, maxScore, shared),
    paired: paired.length ? comparePaired(paired, maxScore) : null,
  };
}
