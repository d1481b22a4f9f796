import { gradebookScale } from '../models/tasks/column-maximum.service.js';
import { renderMarkdown } from '../http/markdown.js';
import type { AgreementSummary } from '../analytics/agreement.js';
import type { OverrideCategoryGroup } from '../models/assessments/agreement.service.js';
import type { ReviewStatus, SyncStatus } from '../models/assessments/assessments.table.js';
import type { ReviewListItem } from '../models/assessments/review.repository.js';
import type { ReviewData } from '../models/assessments/review-page.service.js';
import type { AppealRow } from '../models/appeals/appeals.repository.js';
import { formatDateTime, formatScore } from './present.js';
import { formatUsd } from './prompts.present.js';
import { releasedToStudent } from '../models/assessments/release.js';
import { OVERRIDE_CATEGORIES, OVERRIDE_CATEGORY_LABELS, overrideCategoryLabel } from '../models/assessments/override-category.js';

/** The choices of "what was wrong with the grade", in the order the form lists them. */
export const OVERRIDE_CATEGORY_OPTIONS = OVERRIDE_CATEGORIES.map((value) => ({ value, label: OVERRIDE_CATEGORY_LABELS[value] }));

/** View models of the review area: what the templates print, already worded and formatted. */

export const STATUS_LABELS: Record<ReviewStatus, string> = {
  pending_review: 'Waiting for review',
  approved: 'Approved',
  overridden: 'Overridden',
  rejected: 'Rejected',
};

/** Work handed in for manual grading: no model result to approve, only the instructor's grade. */
const MANUAL_LABELS: Record<ReviewStatus, string> = {
  pending_review: 'To grade by hand',
  approved: 'Graded by hand',
  overridden: 'Graded by hand',
  rejected: 'To grade by hand',
};

const SYNC_LABELS: Record<SyncStatus, string> = {
  none: 'Not sent (nothing approved yet)',
  pending: 'Waiting to be sent to the LMS gradebook',
  synced: 'In the LMS gradebook',
  failed: 'Could not be sent to the LMS gradebook',
};

export function confidenceLabel(c: number | null): string {
  return c == null ? '—' : `${Math.round(c * 100)}%`;
}

export function presentListItem(i: ReviewListItem) {
  return {
    id: i.id,
    taskTitle: i.taskTitle,
    studentName: i.studentName,
    attempt: i.attempt,
    manual: i.kind === 'manual',
    appealOpen: i.appealOpen,
    score: i.kind === 'manual' ? 'graded by hand' : i.score == null ? 'no usable score' : `${formatScore(i.score)} / ${formatScore(i.maxScore)}`,
    finalScore: i.overrideScore == null ? null : formatScore(i.overrideScore),
    confidence: confidenceLabel(i.computedConfidence),
    flagged: i.needsReview || i.flags.length > 0,
    flags: i.flags,
    status: i.kind === 'manual' ? MANUAL_LABELS[i.reviewStatus] : STATUS_LABELS[i.reviewStatus] + (i.reviewStatus === 'rejected' && i.rejectedTo === 'manual' ? ' (manual grading)' : ''),
    pending: i.reviewStatus === 'pending_review',
    decisionSeq: i.decisionSeq,
    sync: SYNC_LABELS[i.gradeSyncStatus],
    createdAt: formatDateTime(i.createdAt),
  };
}

const asStrings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** The model's result beside the rubric: per criterion its score, justification and the override, if any. */
function presentResult(d: ReviewData & { version: NonNullable<ReviewData['version']> }) {
  const a = d.assessment;
  const result = a.result!;
  const llmCriteria = (result.criteria ?? {}) as Record<string, { score?: number; justification?: string }>;
  return {
    total: a.score == null ? '—' : formatScore(a.score),
    criteria: d.version.rubric.map((c) => ({
      id: c.id,
      name: c.name,
      maxPoints: c.maxPoints,
      score: typeof llmCriteria[c.id]?.score === 'number' ? formatScore(llmCriteria[c.id]!.score!) : '—',
      scoreValue: llmCriteria[c.id]?.score ?? null,
      justification: llmCriteria[c.id]?.justification ?? '',
      override: a.overrideCriteria?.[c.id] === undefined ? null : formatScore(a.overrideCriteria[c.id]!),
    })),
    strengths: asStrings(result.strengths),
    improvements: asStrings(result.improvements),
    // Sanitized HTML (renderMarkdown), printed unescaped by the view.
    commentsHtml: renderMarkdown(typeof result.comments === 'string' ? result.comments : ''),
    reasoning: typeof result.reasoning === 'string' ? result.reasoning : '',
  };
}

/**
 * The task's gradebook column when the LMS grades it out of another maximum than the rubric (Moodle shows 42.5/100
 * as 21.25/50): the same scores on the column's scale, so the instructor reads what students and the gradebook show.
 */
function presentColumn(a: ReviewData['assessment'], columnMax: number) {
  if (columnMax === a.maxScore) return null;
  const scaled = (v: number | null) => (v == null ? null : formatScore(gradebookScale(v, a.maxScore, columnMax)));
  return { max: formatScore(columnMax), llm: scaled(a.score), synced: scaled(a.gradeSyncedScore) };
}

/** Where the grade stands with the LMS gradebook, and whether the instructor may send it again. */
function presentSync(a: ReviewData['assessment']) {
  const decided = a.reviewStatus === 'approved' || a.reviewStatus === 'overridden';
  return {
    status: a.gradeSyncStatus,
    label: SYNC_LABELS[a.gradeSyncStatus],
    error: a.gradeSyncError,
    attempts: a.gradeSyncAttempts,
    syncedAt: a.gradeSyncedAt ? formatDateTime(a.gradeSyncedAt) : null,
    syncedScore: a.gradeSyncedScore == null ? null : formatScore(a.gradeSyncedScore),
    canRetry: decided && (a.gradeSyncStatus === 'failed' || (a.gradeSyncStatus === 'pending' && a.gradeSyncError != null)),
  };
}

/** The instructor's grade as it stands, when the result was overridden or graded by hand. */
function presentOverride(a: ReviewData['assessment']) {
  if (a.reviewStatus !== 'overridden' || a.overrideScore == null) return null;
  return {
    score: formatScore(a.overrideScore),
    feedbackHtml: a.overrideFeedback ? renderMarkdown(a.overrideFeedback) : null,
    reason: a.overrideReason ?? '',
    // A manual grade has no model's grade to have been wrong.
    category: a.kind === 'manual' ? null : overrideCategoryLabel(a.overrideCategory),
    // Whether the score is the sum of the criteria the instructor gave, or the overall score changed alone.
    scoreOf: a.overrideCriteria && Object.keys(a.overrideCriteria).length ? 'criteria' : 'overall',
  };
}

/** The prompt version and the request as sent, for a model's result (null for work graded by hand). */
function presentPrompt(d: ReviewData) {
  if (!d.version) return null;
  return {
    version: d.context.promptVersion,
    model: d.assessment.model,
    temperature: d.version.temperature,
    maxOutputTokens: d.version.maxOutputTokens,
    anonymized: d.anonymized,
    messages: d.messages.map((m) => ({ role: m.role, content: typeof m.content === 'string' ? m.content : JSON.stringify(m.content) })),
  };
}

export function presentReview(d: ReviewData) {
  const a = d.assessment;
  const version = d.version;
  const manual = a.kind === 'manual';
  return {
    id: a.id,
    manual,
    decisionSeq: a.decisionSeq,
    status: a.reviewStatus,
    statusLabel: manual
      ? MANUAL_LABELS[a.reviewStatus]
      : STATUS_LABELS[a.reviewStatus] + (a.reviewStatus === 'rejected' ? (a.rejectedTo === 'manual' ? ' — waiting for your manual grade' : ' — sent back to the LLM queue') : ''),
    // The rubric a person grades on (the prompt version's; none for work graded by hand without a prompt).
    rubric: (version?.rubric ?? []).map((c) => ({ id: c.id, name: c.name, maxPoints: c.maxPoints })),
    flags: a.flags,
    flagged: a.needsReview || a.flags.length > 0,
    task: { id: a.taskId, title: d.context.taskTitle },
    student: d.context.studentName,
    attempt: d.context.attempt,
    submittedAt: formatDateTime(d.context.submittedAt),
    // A text removed by retention (or a deletion request) says when.
    submission: {
      text: d.text,
      unavailable: d.context.purgedAt ? `The text of this submission was removed on ${formatDateTime(d.context.purgedAt)} under the course's retention policy (or at the student's request).` : d.textUnavailable,
      format: d.context.contentFormat,
    },
    prompt: manual ? null : presentPrompt(d),
    maxScore: formatScore(a.maxScore),
    maxScoreValue: a.maxScore,
    column: presentColumn(a, d.context.taskMaxScore),
    result: a.result && version && !manual ? presentResult({ ...d, version }) : null,
    rawOutput: a.rawOutput,
    modelConfidence: confidenceLabel(a.modelConfidence),
    computedConfidence: confidenceLabel(a.computedConfidence),
    // A grade reused from an identical earlier request: nothing was sent or charged for this attempt.
    reusedFrom: a.reusedFromId,
    cost: {
      amount: formatUsd(a.actualCostMicros),
      inputTokens: a.inputTokens.toLocaleString('en'),
      cachedInputTokens: a.cachedInputTokens.toLocaleString('en'),
      outputTokens: a.outputTokens.toLocaleString('en'),
    },
    override: presentOverride(a),
    // The last override's values, to prefill the form (also after a later approval is impossible: overrides only grow).
    overrideValues: { score: a.overrideScore == null ? '' : formatScore(a.overrideScore), feedback: a.overrideFeedback ?? '', criteria: a.overrideCriteria ?? {}, category: a.overrideCategory ?? '' },
    overrideCategories: OVERRIDE_CATEGORY_OPTIONS,
    reviewedBy: d.context.reviewerName,
    reviewedAt: a.reviewedAt ? formatDateTime(a.reviewedAt) : null,
    reviewNote: a.reviewNote,
    released: releasedToStudent({ reviewStatus: a.reviewStatus, needsReview: a.needsReview, flagCount: a.flags.length, releasePolicy: d.context.releasePolicy, confidence: a.computedConfidence, minConfidence: d.context.autoReleaseMinConfidence }),
    sync: presentSync(a),
    canApprove: !manual && a.reviewStatus === 'pending_review' && a.score != null,
    canReject: !manual && a.reviewStatus === 'pending_review',
    canOverride: !(a.reviewStatus === 'rejected' && a.rejectedTo === 'queue'),
  };
}

const pct = (v: number | null) => (v == null ? '—' : `${(v * 100).toFixed(1)}%`);
const num = (v: number | null, digits = 2) => (v == null ? '—' : v.toFixed(digits));

export function presentSummary(s: AgreementSummary) {
  return {
    reviewed: s.reviewed,
    approvalRate: pct(s.approvalRate),
    overrideRate: pct(s.overrideRate),
    mad: num(s.meanAbsoluteDifference),
    madPct: s.meanAbsoluteDifferencePct == null ? '—' : `${s.meanAbsoluteDifferencePct.toFixed(1)}%`,
    kappa: num(s.kappa, 3),
  };
}

/**
 * The override categories table: a column per category (and one for overrides from before categories, when there
 * are any), a row per prompt version and criterion, with the most frequent category named for the row.
 */
export function presentOverrideCategories(groups: OverrideCategoryGroup[]) {
  const withNone = groups.some((g) => g.counts.none > 0);
  const columns = [...OVERRIDE_CATEGORY_OPTIONS.map((o) => ({ key: o.value as string, label: o.label })), ...(withNone ? [{ key: 'none', label: 'Not categorized' }] : [])];
  return {
    columns,
    rows: groups.map((g) => {
      const top = OVERRIDE_CATEGORIES.reduce<{ key: string; n: number } | null>((best, c) => (g.counts[c] > (best?.n ?? 0) ? { key: c, n: g.counts[c] } : best), null);
      return {
        version: g.versionLabel,
        criterion: g.criterionName,
        counts: columns.map((c) => g.counts[c.key as keyof typeof g.counts]),
        total: g.total,
        mostly: top ? OVERRIDE_CATEGORY_LABELS[top.key as keyof typeof OVERRIDE_CATEGORY_LABELS] : '—',
      };
    }),
  };
}

/** The JSON API's assessment: the model's result and the human decision side by side. */
export function assessmentJson(a: ReviewData['assessment']) {
  return {
    id: a.id,
    kind: a.kind,
    courseId: a.courseId,
    taskId: a.taskId,
    submissionId: a.submissionId,
    promptVersionId: a.promptVersionId,
    model: a.model,
    score: a.score,
    maxScore: a.maxScore,
    result: a.result,
    modelConfidence: a.modelConfidence,
    computedConfidence: a.computedConfidence,
    flags: a.flags,
    needsReview: a.needsReview,
    costMicros: a.actualCostMicros,
    usage: { inputTokens: a.inputTokens, cachedInputTokens: a.cachedInputTokens, outputTokens: a.outputTokens },
    review: {
      status: a.reviewStatus,
      decisionSeq: a.decisionSeq,
      reviewedBy: a.reviewedBy,
      reviewedAt: a.reviewedAt?.toISOString() ?? null,
      note: a.reviewNote,
      rejectedTo: a.rejectedTo,
      override: a.overrideScore == null ? null : { score: a.overrideScore, criteria: a.overrideCriteria, feedback: a.overrideFeedback, category: a.overrideCategory, reason: a.overrideReason },
    },
    finalScore: a.reviewStatus === 'overridden' ? a.overrideScore : a.reviewStatus === 'approved' ? a.score : null,
    releasedAt: a.releasedAt?.toISOString() ?? null,
    gradeSync: { status: a.gradeSyncStatus, attempts: a.gradeSyncAttempts, error: a.gradeSyncError, syncedAt: a.gradeSyncedAt?.toISOString() ?? null, syncedScore: a.gradeSyncedScore },
    createdAt: a.createdAt.toISOString(),
  };
}

const APPEAL_LABELS = { open: 'Waiting for your answer', upheld: 'Result upheld', changed: 'Grade changed' } as const;

/** A student's appeal as the review page and the student's feedback page show it. */
export function presentAppeal(ap: AppealRow) {
  return {
    id: ap.id,
    status: ap.status,
    statusLabel: APPEAL_LABELS[ap.status],
    open: ap.status === 'open',
    reason: ap.reason,
    reply: ap.reply,
    createdAt: formatDateTime(ap.createdAt),
    createdAtIso: ap.createdAt.toISOString(),
    resolvedAt: ap.resolvedAt ? formatDateTime(ap.resolvedAt) : null,
  };
}
