import type { QueueListQuery } from '../models/queue/queue.filters.js';
import type { QueueItemView } from '../models/queue/queue.repository.js';
import type { CourseShare, QueueStats } from '../models/queue/queue-stats.repository.js';
import type { BatchRow, EstimateAccuracy } from '../models/batches/batches.repository.js';
import { isTerminal } from '../models/batches/batch-state.js';
import { isHeldByFreeze } from '../models/batches/batch-send.service.js';
import { formatDateTime, taskTypeLabel } from './present.js';
import { formatUsd as formatUsdSlow } from './prompts.present.js';

const COUNT = new Intl.NumberFormat('en');
/** 12,345: one shared formatter (a new one per call costs more than the rest of a table row). */
export const formatCount = (n: number): string => COUNT.format(n);

const DOLLARS = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
/** formatUsd of prompts.present.ts, with a shared formatter for amounts of a dollar or more (charts print dozens). */
export function formatUsd(micros: number): string {
  if (Math.abs(micros) < 1_000_000) return formatUsdSlow(micros);
  return `${micros < 0 ? '−' : ''}$${DOLLARS.format(Math.abs(micros) / 1e6)}`;
}
import type { TaskType } from '../models/tasks/tasks.table.js';

/** View models of the queue dashboard and the batch pages: what the templates print, already formatted. */

export const STATUS_LABELS: Record<string, string> = {
  queued: 'Queued',
  selected: 'In a batch',
  processing: 'Processing',
  completed: 'Completed',
  failed: 'Failed',
  skipped: 'Skipped',
};

export const BATCH_STATUS_LABELS: Record<string, string> = {
  created: 'Created, waiting for confirmation',
  submitted: 'Submitted to the provider',
  processing: 'Processing at the provider',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled',
  expired: 'Expired',
};

export function formatAge(ms: number): string {
  const min = Math.floor(ms / 60_000);
  if (min < 1) return 'under a minute';
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ${min % 60} min`;
  return `${Math.floor(h / 24)} days`;
}

export function formatDuration(ms: number | null): string {
  if (ms === null || ms < 0) return '—';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return formatAge(ms);
}

export function presentItem(i: QueueItemView) {
  return {
    id: i.id,
    status: i.status,
    statusLabel: STATUS_LABELS[i.status] ?? i.status,
    priority: i.priority,
    model: i.model,
    tokens: formatCount(i.estInputTokens),
    cost: formatUsd(i.estCostMicros),
    submittedAt: formatDateTime(i.createdAt),
    submittedAtIso: i.createdAt.toISOString(),
    course: i.courseTitle || `Course ${i.courseId}`,
    task: i.taskTitle,
    taskType: taskTypeLabel(i.taskType as TaskType),
    student: i.studentName ?? `User ${i.studentId}`,
    attempt: i.attempt,
    chars: formatCount(i.charCount),
    sends: `${i.attempts} of ${i.maxAttempts}`,
    notes: i.adminNotes,
    notBefore: i.notBefore ? formatDateTime(i.notBefore) : null,
    notBeforeIso: i.notBefore?.toISOString() ?? null,
    lastError: i.lastError,
    batchId: i.batchId,
  };
}

/** One bar of a chart: a label, a value relative to the largest, and what to print beside it. */
export interface Bar {
  label: string;
  value: number;
  display: string;
  /** 0–100: share of the largest bar. */
  width: number;
}

export function bars(rows: Array<{ label: string; value: number; display: string }>): Bar[] {
  const max = Math.max(1, ...rows.map((r) => r.value));
  return rows.map((r) => ({ ...r, width: Math.round((r.value / max) * 1000) / 10 }));
}

export function presentCharts(shares: CourseShare[]) {
  return {
    items: bars(shares.map((s) => ({ label: s.courseTitle, value: s.items, display: formatCount(s.items) }))),
    cost: bars(shares.map((s) => ({ label: s.courseTitle, value: s.estCostMicros, display: formatUsd(s.estCostMicros) }))),
  };
}

export function presentStats(stats: QueueStats, enqueuedTokenLimit: number, now: Date) {
  return {
    pending: formatCount(stats.pending),
    pendingCost: formatUsd(stats.pendingCostMicros),
    pendingTokens: formatCount(stats.pendingTokens),
    oldestAge: stats.oldestQueuedAt ? formatAge(now.getTime() - stats.oldestQueuedAt.getTime()) : '—',
    oldestIso: stats.oldestQueuedAt?.toISOString() ?? null,
    high: formatCount(stats.byPriority.high),
    normal: formatCount(stats.byPriority.normal),
    low: formatCount(stats.byPriority.low),
    deferred: formatCount(stats.deferred),
    inFlight: formatCount(stats.inFlight),
    deadLetter: stats.deadLetter,
    tokenLimit: formatCount(enqueuedTokenLimit),
    models: stats.models.map((m) => {
      const used = m.inFlightTokens;
      const free = Math.max(0, enqueuedTokenLimit - used);
      return {
        model: m.model,
        pending: formatCount(m.pending),
        pendingTokens: formatCount(m.pendingTokens),
        pendingCost: formatUsd(m.pendingCostMicros),
        inFlight: formatCount(m.inFlight),
        inFlightTokens: formatCount(used),
        freeTokens: formatCount(free),
        usedPercent: Math.min(100, Math.round((used / Math.max(1, enqueuedTokenLimit)) * 100)),
        // How many more tokens the provider would take now: the next batch must fit in this.
        fitsAll: m.pendingTokens <= free,
      };
    }),
  };
}

/** The filter as query parameters (links keep it when sorting or paging). */
export function filterParams(q: QueueListQuery, overrides: Record<string, string | number | undefined> = {}): Record<string, string | number | undefined> {
  return {
    course: q.course,
    instructor: q.instructor,
    task: q.task,
    taskType: q.taskType,
    from: q.from,
    to: q.to,
    priority: q.priority,
    status: q.status,
    sort: q.sort,
    pageSize: q.pageSize,
    page: q.page,
    ...overrides,
  };
}

/**
 * What a batch's status says to people: the provider's "completed" only means it stopped working on it, so a batch
 * whose every request failed reads "Failed" and one with some failures "Completed with failures" (issue 18, item 7).
 * `tone` is the colour class; the status itself stays the state machine's.
 */
export function batchStatusView(b: Pick<BatchRow, 'status' | 'submitRequestedAt' | 'requestTotal' | 'requestCompleted' | 'requestFailed'>): { label: string; tone: string } {
  if (b.status === 'created' && b.submitRequestedAt) return { label: 'Confirmed, being sent', tone: 'created' };
  if (b.status === 'completed' && b.requestFailed > 0 && b.requestCompleted === 0) {
    return { label: `Failed: none of the ${b.requestFailed} request${b.requestFailed === 1 ? '' : 's'} succeeded`, tone: 'failed' };
  }
  if (b.status === 'completed' && b.requestFailed > 0) return { label: `Completed with failures (${b.requestFailed} of ${b.requestTotal} failed)`, tone: 'partial' };
  return { label: BATCH_STATUS_LABELS[b.status] ?? b.status, tone: b.status };
}

export function presentBatch(b: BatchRow) {
  const done = b.requestCompleted + b.requestFailed;
  const shown = batchStatusView(b);
  const finished = isTerminal(b.status);
  const t = (d: Date | null) => (d ? { label: formatDateTime(d), iso: d.toISOString() } : null);
  return {
    id: b.id,
    model: b.model,
    provider: b.provider,
    status: b.status,
    statusLabel: shown.label,
    tone: shown.tone,
    providerStatus: b.providerStatus,
    providerBatchId: b.providerBatchId,
    total: b.requestTotal,
    completed: b.requestCompleted,
    failed: b.requestFailed,
    done,
    percent: b.requestTotal ? Math.round((done / b.requestTotal) * 100) : 0,
    estCost: formatUsd(b.estCostMicros),
    actualCost: formatUsd(b.actualCostMicros),
    estTokens: formatCount(b.estInputTokens),
    inputTokens: formatCount(b.inputTokens),
    outputTokens: formatCount(b.outputTokens),
    notes: b.notes,
    error: b.error,
    // A cancellation's reason or a freeze's hold is said as it is; a failure is called one.
    errorIsProblem: b.status !== 'cancelled' && !isHeldByFreeze(b),
    awaitingConfirmation: b.status === 'created' && !b.submitRequestedAt && !b.cancelRequestedAt,
    cancellable: !finished && !b.cancelRequestedAt,
    cancelRequested: Boolean(b.cancelRequestedAt) && !finished,
    finished,
    // The monitor keeps polling until the batch is finished and its results are read.
    live: !finished || !b.ingestedAt,
    ingestedLines: b.ingestedLines,
    times: {
      created: t(b.createdAt),
      confirmed: t(b.submitRequestedAt),
      submitted: t(b.submittedAt),
      processing: t(b.processingAt),
      finished: t(b.finishedAt),
      ingested: t(b.ingestedAt),
      lastPolled: t(b.lastPolledAt),
    },
    durations: {
      waiting: b.submittedAt ? formatDuration(b.submittedAt.getTime() - b.createdAt.getTime()) : '—',
      atProvider: b.submittedAt ? formatDuration((b.finishedAt ?? new Date()).getTime() - b.submittedAt.getTime()) : '—',
      ingest: b.finishedAt && b.ingestedAt ? formatDuration(b.ingestedAt.getTime() - b.finishedAt.getTime()) : '—',
    },
  };
}

/** The JSON API's batch: machine-readable, money in micro-dollars. */
export function batchJson(b: BatchRow) {
  return {
    id: b.id,
    provider: b.provider,
    model: b.model,
    status: b.status,
    providerStatus: b.providerStatus,
    providerBatchId: b.providerBatchId,
    requestCounts: { total: b.requestTotal, completed: b.requestCompleted, failed: b.requestFailed },
    estCostMicros: b.estCostMicros,
    actualCostMicros: b.actualCostMicros,
    estInputTokens: b.estInputTokens,
    inputTokens: b.inputTokens,
    outputTokens: b.outputTokens,
    notes: b.notes,
    error: b.error,
    submitRequestedAt: b.submitRequestedAt?.toISOString() ?? null,
    cancelRequestedAt: b.cancelRequestedAt?.toISOString() ?? null,
    createdAt: b.createdAt.toISOString(),
    submittedAt: b.submittedAt?.toISOString() ?? null,
    processingAt: b.processingAt?.toISOString() ?? null,
    finishedAt: b.finishedAt?.toISOString() ?? null,
    ingestedAt: b.ingestedAt?.toISOString() ?? null,
  };
}

export function itemJson(i: QueueItemView) {
  return {
    id: i.id,
    status: i.status,
    priority: i.priority,
    model: i.model,
    estInputTokens: i.estInputTokens,
    estOutputTokens: i.estOutputTokens,
    estCostMicros: i.estCostMicros,
    attempts: i.attempts,
    maxAttempts: i.maxAttempts,
    lastError: i.lastError,
    notBefore: i.notBefore?.toISOString() ?? null,
    notes: i.adminNotes,
    batchId: i.batchId,
    createdAt: i.createdAt.toISOString(),
    course: { id: i.courseId, title: i.courseTitle },
    task: { id: i.taskId, title: i.taskTitle, type: i.taskType },
    submission: { id: i.submissionId, attempt: i.attempt, chars: i.charCount },
    student: { id: i.studentId, name: i.studentName },
    promptVersionId: i.promptVersionId,
  };
}

/** What a budget left queued when batches were made (audit details, checked again: they are read back from JSON). */
export function presentLeftQueued(raw: Record<string, unknown> | null) {
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  if (!raw || n(raw.items) === null || n(raw.estCostMicros) === null || n(raw.budgetLeftMicros) === null || typeof raw.budgetScope !== 'string') return null;
  return { items: n(raw.items)!, estCost: formatUsdSlow(n(raw.estCostMicros)!), budgetScope: raw.budgetScope, budgetLeft: formatUsdSlow(n(raw.budgetLeftMicros)!) };
}

/** Estimate against actual for a batch's charged results; null before any. */
export function presentAccuracy(a: EstimateAccuracy) {
  if (!a.charged || !a.actualMicros) return null;
  const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
  const overall = (a.estimatedMicros - a.actualMicros) / a.actualMicros;
  return {
    charged: a.charged,
    estimated: formatUsdSlow(a.estimatedMicros),
    actual: formatUsdSlow(a.actualMicros),
    overall: `${overall >= 0 ? '+' : '−'}${pct(Math.abs(overall))}`,
    median: a.medianAbsError === null ? '—' : pct(a.medianAbsError),
  };
}
