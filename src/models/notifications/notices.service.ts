import type { Db } from '../../db/db.js';
import { describeEta, etaForBatched, etaForQueued, observedThroughput } from '../queue/eta.js';
import { queuePosition } from '../queue/queue-stats.repository.js';
import { DEFAULT_WORDINGS, isEventKind, parseWording, renderWording, type EventKind, type ParsedWording, type VarsOf } from './events.js';
import { insertNotices, type NoticeRow } from './notifications.repository.js';
import {
  actionFacts, batchItemFacts, deadItemFacts, deadLetterFacts, feedbackReadyOfAssessments, feedbackReadyOfResults, instructorsOf, itemFacts, overdueFacts,
  platformLmsUrl, recordEtasTold, reviewsWaitingFacts, type ItemFact,
} from './notices.repository.js';
import { wordingsOf } from './templates.repository.js';

/**
 * Telling people what happened. Every event comes here as notices (who, which event, the values of its wording);
 * each is worded in its platform's wording (or the default), written once (its dedupe key names the event and the
 * recipient, so a retried job or a second run writes nothing) and, in the same statement, queued as e-mail for
 * those who want it (`insertNotices`). Called inside the caller's transaction: a notice exists exactly when the
 * event it reports committed.
 */

export interface Notice<K extends EventKind = EventKind> {
  kind: K;
  platformId: number;
  courseId: number | null;
  /** Null: every administrator of the platform. */
  userId: number | null;
  severity: NoticeRow['severity'];
  /** Where the notice leads inside the tool (the inbox's link). */
  link: string | null;
  /** Where its e-mail leads: the course or activity in the LMS, as the tool opens only through a launch. */
  lmsUrl: string | null;
  dedupeKey: string;
  vars: VarsOf<K>;
}

/** Any event's notice (each with its own variables). */
export type AnyNotice = { [K in EventKind]: Notice<K> }[EventKind];

export type NoticeCounts = { notices: number; emails: number };

export async function notify(db: Db, notices: AnyNotice[]): Promise<NoticeCounts> {
  if (!notices.length) return { notices: 0, emails: 0 };
  const own = new Map<string, ParsedWording>();
  for (const w of await wordingsOf(db, notices.map((n) => n.platformId))) {
    if (!isEventKind(w.kind)) continue;
    // Saved wordings were checked when saved; one that no longer parses (a variable since removed) falls back.
    try {
      own.set(`${w.platformId}:${w.kind}`, parseWording(w.kind, w));
    } catch {
      /* the default wording stands in */
    }
  }
  const rows: NoticeRow[] = notices.map((n) => {
    const wording = own.get(`${n.platformId}:${n.kind}`) ?? DEFAULT_WORDINGS[n.kind];
    const { subject, body } = renderWording(wording, n.vars);
    return { platformId: n.platformId, courseId: n.courseId, userId: n.userId, kind: n.kind, severity: n.severity, title: subject, body, link: n.link, lmsUrl: n.lmsUrl, dedupeKey: n.dedupeKey };
  });
  return insertNotices(db, rows);
}

/** "Feedback ready", once per assessment, to the student whose work it is, for those released to them. */
export async function notifyFeedbackReady(db: Db, which: { assessmentIds: number[] } | { customIds: string[] }): Promise<NoticeCounts> {
  const facts = 'assessmentIds' in which
    ? which.assessmentIds.length ? await feedbackReadyOfAssessments(db, which.assessmentIds) : []
    : which.customIds.length ? await feedbackReadyOfResults(db, which.customIds) : [];
  return notify(db, facts.map((f) => ({
    kind: 'feedback_ready', platformId: f.platformId, courseId: f.courseId, userId: f.studentId, severity: 'info',
    link: `/student/submissions/${f.submissionId}/feedback`, lmsUrl: f.lmsUrl, dedupeKey: `feedback_ready:${f.assessmentId}`,
    vars: { course_title: f.courseTitle, task_title: f.taskTitle, attempt: String(f.attempt), score: f.score, max_score: f.maxScore },
  })));
}

/** "Failed for good", once per dead-lettered item: to each instructor of its course and to the platform's administrators. */
export async function notifyDeadLetters(db: Db, batchId: number, customIds: string[]): Promise<NoticeCounts> {
  return notifyDead(db, await deadLetterFacts(db, batchId, customIds));
}

/** The same, for items a real-time grading failed for good (no batch names them). */
export async function notifyDeadItems(db: Db, queueItemIds: number[]): Promise<NoticeCounts> {
  return notifyDead(db, await deadItemFacts(db, queueItemIds));
}

async function notifyDead(db: Db, dead: ItemFact[]): Promise<NoticeCounts> {
  if (!dead.length) return { notices: 0, emails: 0 };
  const instructors = await instructorsOf(db, dead.map((d) => d.courseId));
  const notices: AnyNotice[] = [];
  for (const d of dead) {
    const recipients = [...instructors.filter((i) => i.courseId === d.courseId).map((i) => i.userId), null];
    for (const userId of recipients) {
      notices.push({
        kind: 'dead_letter', platformId: d.platformId, courseId: d.courseId, userId, severity: 'error',
        link: userId === null ? '/admin/queue?status=failed' : `/instructor/tasks/${d.taskId}?status=failed`,
        lmsUrl: userId === null ? await adminLmsUrl(db, d.platformId) : d.lmsUrl,
        dedupeKey: `dead_letter:${d.queueItemId}:${userId ?? 'admins'}`,
        vars: { course_title: d.courseTitle, task_title: d.taskTitle, attempt: String(d.attempt), error: d.lastError ? `${d.lastError.replace(/\.?$/, '.')}` : 'no reason was given.' },
      });
    }
  }
  return notify(db, notices);
}

/** "Reviews waiting": one digest a day (`day`, YYYY-MM-DD, keys it) per instructor and course with results waiting. */
export async function notifyReviewsWaiting(db: Db, day: string): Promise<NoticeCounts> {
  const facts = await reviewsWaitingFacts(db);
  return notify(db, facts.map((f) => ({
    kind: 'reviews_waiting', platformId: f.platformId, courseId: f.courseId, userId: f.instructorId, severity: 'info',
    link: '/instructor/review', lmsUrl: f.lmsUrl, dedupeKey: `reviews_waiting:${f.courseId}:${f.instructorId}:${day}`,
    vars: { course_title: f.courseTitle, results: `${f.waiting} ${f.waiting === 1 ? 'result' : 'results'}` },
  })));
}

/** The estimate told to the student is recorded on the item: when it passes, they hear it is late (`notifyDelays`). */
function itemNotice<K extends 'queued' | 'processing_started' | 'delayed'>(kind: K, f: ItemFact, key: string, vars: Omit<VarsOf<K>, 'course_title' | 'task_title' | 'attempt'>): Notice<K> {
  return {
    kind, platformId: f.platformId, courseId: f.courseId, userId: f.studentId, severity: kind === 'delayed' ? 'warning' : 'info',
    link: `/student/tasks/${f.taskId}`, lmsUrl: f.lmsUrl, dedupeKey: key,
    vars: { course_title: f.courseTitle, task_title: f.taskTitle, attempt: String(f.attempt), ...vars } as VarsOf<K>,
  };
}

/** "Queued", once per queue item: to its student, with where it stands and when feedback is expected. */
export async function notifyQueued(db: Db, queueItemId: number, defaultBatchSize: number, now = new Date()): Promise<NoticeCounts> {
  const [f] = await itemFacts(db, [queueItemId]);
  if (!f) return { notices: 0, emails: 0 };
  const eta = await queuedEta(db, f, defaultBatchSize, now);
  await recordEtasTold(db, [{ queueItemId, eta }]);
  return notify(db, [itemNotice('queued', f, `queued:${queueItemId}`, { eta: describeEta(eta, now) })]);
}

async function queuedEta(db: Db, f: ItemFact, defaultBatchSize: number, now: Date): Promise<Date> {
  const throughput = await observedThroughput(db, f.platformId, defaultBatchSize);
  const position = await queuePosition(db, f.platformId, f.queueItemId, f.priorityRank, f.createdAt);
  return etaForQueued(position, throughput, now);
}

/** "Grading started", once per item and batch: its students, when the batch reached the provider. */
export async function notifyProcessingStarted(db: Db, batchId: number, defaultBatchSize: number, now = new Date()): Promise<NoticeCounts> {
  const items = await batchItemFacts(db, batchId);
  if (!items.length) return { notices: 0, emails: 0 };
  const throughput = await observedThroughput(db, items[0]!.platformId, defaultBatchSize);
  const eta = etaForBatched(now, throughput, now);
  await recordEtasTold(db, items.map((f) => ({ queueItemId: f.queueItemId, eta })));
  const typical = describeEta(new Date(now.getTime() + throughput.turnaroundMs), now).replace(/^in /, '');
  return notify(db, items.map((f) => itemNotice('processing_started', f, `processing_started:${f.queueItemId}:${batchId}`, { typical_time: typical })));
}

/**
 * "Delayed": students whose expected time has passed while their work still waits hear the new estimate, once per
 * estimate missed (the missed time keys it). Where work waits in the queue at normal priority, the note says their
 * instructor can have it graded first.
 */
export async function notifyDelays(db: Db, defaultBatchSize: number, now = new Date(), limit = 500): Promise<NoticeCounts> {
  const overdue = await overdueFacts(db, now, limit);
  const notices: AnyNotice[] = [];
  const told: Array<{ queueItemId: number; eta: Date }> = [];
  const throughputs = new Map<number, Awaited<ReturnType<typeof observedThroughput>>>();
  for (const f of overdue) {
    if (!throughputs.has(f.platformId)) throughputs.set(f.platformId, await observedThroughput(db, f.platformId, defaultBatchSize));
    const eta = f.status === 'queued' ? await queuedEta(db, f, defaultBatchSize, now) : etaForBatched(null, throughputs.get(f.platformId)!, now);
    told.push({ queueItemId: f.queueItemId, eta });
    const priorityNote = f.status === 'queued' && f.priority !== 'high' ? 'If the feedback is urgent, ask your instructor: they can have it graded first.' : '';
    notices.push(itemNotice('delayed', f, `delayed:${f.queueItemId}:${f.etaToldAt.getTime()}`, { eta: describeEta(eta, now), priority_note: priorityNote }));
  }
  await recordEtasTold(db, told);
  return notify(db, notices);
}

/** The administrators' e-mail link: their LMS (the origin of a course page it gave us), where they open the tool. */
async function adminLmsUrl(db: Db, platformId: number): Promise<string | null> {
  const url = await platformLmsUrl(db, platformId);
  return url ? `${new URL(url).origin}/` : null;
}

/** A notice to every administrator of a platform (budget alerts and freezes, batches that failed). */
export async function notifyAdministrators<K extends 'budget_alert' | 'budget_frozen' | 'batch_failed'>(
  db: Db,
  n: { kind: K; platformId: number; courseId: number | null; severity: NoticeRow['severity']; link: string; dedupeKey: string; vars: VarsOf<K> },
): Promise<NoticeCounts> {
  const notice: Notice<K> = { ...n, userId: null, lmsUrl: await adminLmsUrl(db, n.platformId) };
  return notify(db, [notice as unknown as AnyNotice]);
}

/** "Budget frozen": the platform's administrators hear who froze which budget (unfreezing tells nobody). */
export async function notifyBudgetFrozen(db: Db, budget: { id: number; platformId: number; courseId: number | null; month: string }, byUserId: number): Promise<NoticeCounts> {
  const facts = await actionFacts(db, budget.courseId, byUserId);
  return notifyAdministrators(db, {
    kind: 'budget_frozen', platformId: budget.platformId, courseId: budget.courseId, severity: 'warning', link: '/admin/budgets',
    dedupeKey: `budget_frozen:${budget.id}:${Date.now()}`,
    vars: { scope: budget.courseId == null ? 'the platform' : `course "${facts.courseTitle ?? budget.courseId}"`, month: budget.month.slice(0, 7), actor: facts.actorName ?? 'An administrator' },
  });
}

/** "Batch failed or expired": the platform's administrators, once per batch. */
export async function notifyBatchEnded(db: Db, batch: { id: number; platformId: number; status: 'failed' | 'expired'; requestTotal: number }, reason: string | null): Promise<NoticeCounts> {
  return notifyAdministrators(db, {
    kind: 'batch_failed', platformId: batch.platformId, courseId: null, severity: 'error', link: `/admin/batches/${batch.id}`,
    dedupeKey: `batch_failed:${batch.id}`,
    vars: { batch_id: String(batch.id), batch_status: batch.status, requests: String(batch.requestTotal), reason: reason ? reason.replace(/\.?$/, '.') : 'the provider gave no reason.' },
  });
}
