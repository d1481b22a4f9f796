import type { GradeSyncSettings } from '../../config.js';
import type { Db } from '../../db/db.js';
import type { Logger } from '../../log.js';
import { AgsError, type Gradebook } from './gradebook.js';
import { recordAudit, recordAudits } from '../audit/audit.repository.js';
import { updateTaskLineItem } from '../tasks/tasks.repository.js';
import { claimDueSyncs, deferSync, loadSyncFactsOf, markNothingToSync, markSyncFailure, markSyncedMany, releaseClaim, syncAttemptsOf, type ClaimedSync, type SyncFacts } from './grade-sync.repository.js';

/** The resource id of a task's gradebook column: set on the deep-linking line item, looked up before creating one. */
export function resourceIdFor(taskId: number): string {
  return `llm-assess-task-${taskId}`;
}

export const SYNC_COMMENTS = {
  approved: 'Assessed with AI, reviewed by your instructor.',
  overridden: 'Graded by your instructor (AI-assisted feedback in llm-assess).',
} as const;

const MAX_DELAY_MS = 3_600_000;
/** Long enough for a token request, a line item lookup and a score post, each with its own timeout. */
const LEASE_MS = 120_000;

/** The wait before try `attempt + 1`: what the LMS asked for, else doubling from the base, at most an hour. */
export function syncBackoffMs(settings: Pick<GradeSyncSettings, 'backoffMs'>, failedAttempts: number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.min(MAX_DELAY_MS, retryAfterMs);
  return Math.min(MAX_DELAY_MS, settings.backoffMs * 2 ** Math.max(0, failedAttempts - 1));
}

/**
 * The score the gradebook gets for this decision: its own (the last attempt decided counts), or where the task counts
 * the best attempt, the best decided one's share of the maximum (a worse later attempt does not lower the grade).
 */
export function countingScore(facts: Pick<SyncFacts, 'reviewStatus' | 'overrideScore' | 'score' | 'maxScore' | 'attemptPolicy' | 'bestFraction'>): number | null {
  const own = facts.reviewStatus === 'overridden' ? facts.overrideScore : facts.score;
  if (own == null || facts.attemptPolicy !== 'best' || facts.bestFraction == null) return own;
  const best = Math.round(facts.bestFraction * facts.maxScore * 100) / 100;
  return best > own ? best : own;
}

export interface SyncRunResult {
  synced: number[];
  retrying: number[];
  failed: number[];
}

/** How a run spreads its posts: per LMS registration at most `perLms` at once; claims taken `chunk` at a time. */
export interface SyncPace {
  perLms: number;
  chunk: number;
  /** A run stops claiming after this long (the next run goes on), so one run never holds a worker for hours. */
  maxRunMs: number;
}

export const DEFAULT_SYNC_PACE: SyncPace = { perLms: 8, chunk: 200, maxRunMs: 5 * 60_000 };

/**
 * Posts every due grade (or one assessment's, when given) to its LMS gradebook, chunk after chunk until none is
 * due. Each claim posts the decision it claimed; the conditional "synced" update means a decision is recorded
 * once, and a newer decision made during the post stays pending for the next run. Posts to one LMS run at most
 * `pace.perLms` at a time; when an LMS answers 429, every post to it waits until its Retry-After has passed (the
 * waiting ones are deferred without using a try), so a rate-limited LMS is sent exactly as fast as it allows.
 */
export async function runGradeSync(
  db: Db,
  ags: Gradebook,
  settings: GradeSyncSettings,
  logger: Logger,
  options: { assessmentId?: number; limit?: number; pace?: Partial<SyncPace> } = {},
): Promise<SyncRunResult> {
  const pace = { ...DEFAULT_SYNC_PACE, ...options.pace, ...(options.limit ? { chunk: options.limit } : {}) };
  const result: SyncRunResult = { synced: [], retrying: [], failed: [] };
  const run: SyncRun = { db, ags, settings, logger, lms: new LmsPacer(pace.perLms), columns: new Map() };
  const started = Date.now();
  for (;;) {
    const claims = await claimDueSyncs(db, { limit: pace.chunk, leaseMs: LEASE_MS, assessmentId: options.assessmentId });
    if (!claims.length) return result;
    const facts = await loadSyncFactsOf(db, claims.map((c) => c.id));
    const posted: PostedGrade[] = [];
    await Promise.all(claims.map(async (claim) => {
      const outcome = await syncOne(run, claim, facts.get(claim.id), posted);
      if (outcome === 'pending') result.retrying.push(claim.id);
      else if (outcome === 'failed') result.failed.push(claim.id);
    }));
    result.synced.push(...(await recordPosted(db, posted)));
    // A chunk that was not full took everything due; what failed meanwhile waits for its backoff and a later run.
    if (options.assessmentId || claims.length < pace.chunk || Date.now() - started > pace.maxRunMs) return result;
  }
}

/**
 * Per LMS registration: how many posts run now (at most `limit`), until when it asked us to wait (429), and, once it
 * has refused us, the pace it showed it takes: as many posts a second as it accepted in the second before refusing.
 * From then on posts to it start evenly spaced at that pace, so a rate-limited LMS is sent about as fast as it
 * allows instead of in bursts that it cuts off.
 */
class LmsPacer {
  private running = new Map<number, number>();
  private waiting = new Map<number, Array<() => void>>();
  private pausedUntil = new Map<number, number>();
  private accepted = new Map<number, number[]>();
  private spacing = new Map<number, { intervalMs: number; next: number }>();
  constructor(private readonly limit: number) {}

  /** Runs `fn` when a slot of this LMS is free; null (without running it) while the LMS asked us to wait. */
  async run<T>(key: number, fn: () => Promise<T>): Promise<T | null> {
    if (this.pausedMs(key) > 0) return null;
    while ((this.running.get(key) ?? 0) >= this.limit) await new Promise<void>((resolve) => this.waiting.set(key, [...(this.waiting.get(key) ?? []), resolve]));
    if (this.pausedMs(key) > 0) {
      // Paused while it waited: it gives its turn to the next one waiting (which will find the pause too).
      this.waiting.get(key)?.shift()?.();
      return null;
    }
    this.running.set(key, (this.running.get(key) ?? 0) + 1);
    try {
      const pace = this.spacing.get(key);
      if (pace) {
        const at = Math.max(Date.now(), pace.next);
        pace.next = at + pace.intervalMs;
        if (at > Date.now()) await new Promise((r) => setTimeout(r, at - Date.now()));
      }
      const value = await fn();
      this.accepted.set(key, [...(this.accepted.get(key) ?? []).filter((t) => t > Date.now() - 1000), Date.now()]);
      return value;
    } finally {
      this.running.set(key, this.running.get(key)! - 1);
      this.waiting.get(key)?.shift()?.();
    }
  }

  /** The LMS refused a post (429): wait `ms`, then keep to the pace it accepted in the last second. */
  pause(key: number, ms: number): void {
    const until = Date.now() + ms;
    this.pausedUntil.set(key, Math.max(this.pausedUntil.get(key) ?? 0, until));
    const lastSecond = (this.accepted.get(key) ?? []).filter((t) => t > Date.now() - 1000).length;
    const intervalMs = 1000 / Math.max(1, lastSecond);
    const pace = this.spacing.get(key);
    // Only ever slower: a refusal never speeds the pace up.
    if (!pace || intervalMs > pace.intervalMs) this.spacing.set(key, { intervalMs, next: until });
    else pace.next = Math.max(pace.next, until);
  }

  pausedMs(key: number): number {
    return Math.max(0, (this.pausedUntil.get(key) ?? 0) - Date.now());
  }
}

/** What a run shares: its connections, its pacing per LMS, and each task's column as found (or made) once. */
interface SyncRun {
  db: Db;
  ags: Gradebook;
  settings: GradeSyncSettings;
  logger: Logger;
  lms: LmsPacer;
  columns: Map<number, Promise<string>>;
}

type PostedGrade = { claim: ClaimedSync; facts: SyncFacts; scoreGiven: number };

/**
 * Records a chunk's posts in one statement, and their audit entries in another. A post whose decision changed
 * meanwhile is not recorded: its claim is let go and the newer decision goes out next (with a later timestamp).
 */
async function recordPosted(db: Db, posted: PostedGrade[]): Promise<number[]> {
  const recorded = await markSyncedMany(db, posted.map((p) => ({ id: p.claim.id, seq: p.claim.decisionSeq, score: p.scoreGiven })));
  for (const p of posted) if (!recorded.has(p.claim.id)) await releaseClaim(db, p.claim.id);
  const done = posted.filter((p) => recorded.has(p.claim.id));
  await recordAudits(db, done.map(({ claim, facts, scoreGiven }) => ({
    platformId: facts.platformId, courseId: facts.courseId, actorKind: 'system' as const, action: 'grade.synced', entityType: 'assessment', entityId: claim.id,
    details: { decisionSeq: claim.decisionSeq, scoreGiven, scoreMaximum: facts.maxScore },
  })));
  return done.map((p) => p.claim.id);
}

async function syncOne(run: SyncRun, claim: ClaimedSync, facts: SyncFacts | undefined, posted: PostedGrade[]): Promise<'posted' | 'pending' | 'failed' | 'skipped'> {
  const { db, settings, logger, lms } = run;
  if (!facts) return 'skipped';
  if (facts.decisionSeq !== claim.decisionSeq) {
    await releaseClaim(db, claim.id);
    return 'skipped';
  }
  if (facts.reviewStatus !== 'approved' && facts.reviewStatus !== 'overridden') {
    await markNothingToSync(db, claim.id, claim.decisionSeq);
    return 'skipped';
  }
  const scoreGiven = countingScore(facts);
  if (scoreGiven == null) {
    await markSyncFailure(db, claim.id, claim.decisionSeq, { message: 'This assessment has no score to send.', retryable: false, delayMs: 0, maxAttempts: settings.maxAttempts });
    return 'failed';
  }
  try {
    const sent = await lms.run(facts.registrationId, () => postScore(run, facts, { status: facts.reviewStatus as keyof typeof SYNC_COMMENTS, scoreGiven }).then(() => true));
    if (sent === null) {
      // The LMS asked us to wait (429): this one goes when it allows, without using a try.
      await deferSync(db, claim.id, claim.decisionSeq, lms.pausedMs(facts.registrationId));
      return 'pending';
    }
  } catch (err) {
    if (err instanceof AgsError && err.status === 429) {
      lms.pause(facts.registrationId, err.retryAfterMs ?? syncBackoffMs(settings, 1));
      await deferSync(db, claim.id, claim.decisionSeq, lms.pausedMs(facts.registrationId));
      return 'pending';
    }
    return recordSyncFailure(db, { settings, logger }, claim, facts, err);
  }
  posted.push({ claim, facts, scoreGiven });
  return 'posted';
}

/** Finds (or creates) the task's gradebook column and posts the student's score to it. */
async function postScore(run: SyncRun, facts: SyncFacts, decision: { status: keyof typeof SYNC_COMMENTS; scoreGiven: number }): Promise<void> {
  const { ags } = run;
  const platform = { issuer: facts.issuer, clientId: facts.clientId };
  // Posts of one task run side by side: its column is found (or made) once per run, never twice at once.
  let column = run.columns.get(facts.taskId);
  if (!column) {
    column = findColumn(run, facts, platform);
    run.columns.set(facts.taskId, column);
    column.catch(() => run.columns.delete(facts.taskId));
  }
  await ags.submitScore(platform, await column, {
    userId: facts.studentSub,
    scoreGiven: decision.scoreGiven,
    scoreMaximum: facts.maxScore,
    comment: SYNC_COMMENTS[decision.status],
    timestamp: facts.reviewedAt ?? new Date(),
  });
}

async function findColumn(run: SyncRun, facts: SyncFacts, platform: { issuer: string; clientId: string }): Promise<string> {
  const { db, ags } = run;
  const lineItemUrl = await ags.ensureLineItem(platform, {
    lineItemUrl: facts.lineItemUrl,
    lineItemsUrl: facts.lineItemsUrl,
    resourceLinkId: facts.resourceLinkId,
    resourceId: resourceIdFor(facts.taskId),
    label: facts.taskTitle,
    scoreMaximum: facts.taskMaxScore,
  });
  // Remember the column, so later syncs post straight to it (and never look for, or create, another).
  if (lineItemUrl !== facts.lineItemUrl) await updateTaskLineItem(db, facts.taskId, lineItemUrl, facts.lineItemsUrl, facts.registrationId);
  return lineItemUrl;
}

/**
 * A failed post: retried with backoff when the LMS (or an unexpected error) allows it, else left failed and
 * audited. A claim the failure could not be recorded under (a newer decision) is released.
 */
async function recordSyncFailure(
  db: Db,
  run: { settings: GradeSyncSettings; logger: Logger },
  claim: ClaimedSync,
  facts: SyncFacts,
  err: unknown,
): Promise<'pending' | 'failed' | 'skipped'> {
  const agsError = err instanceof AgsError ? err : null;
  if (!agsError) run.logger.error('grade sync failed unexpectedly', { err, assessmentId: claim.id });
  const message = agsError?.message ?? 'An unexpected error stopped the grade from being sent; it will be tried again.';
  const attemptsBefore = await syncAttemptsOf(db, claim.id);
  const state = await markSyncFailure(db, claim.id, claim.decisionSeq, {
    message,
    retryable: agsError ? agsError.retryable : true,
    delayMs: syncBackoffMs(run.settings, attemptsBefore + 1, agsError?.retryAfterMs),
    maxAttempts: run.settings.maxAttempts,
  });
  if (state === 'failed') {
    await recordAudit(db, { platformId: facts.platformId, courseId: facts.courseId, actorKind: 'system', action: 'grade.sync_failed', entityType: 'assessment', entityId: claim.id, details: { decisionSeq: claim.decisionSeq, error: message } });
  }
  if (state === null) await releaseClaim(db, claim.id);
  return state ?? 'skipped';
}
