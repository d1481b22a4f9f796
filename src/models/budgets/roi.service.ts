import type { Db } from '../../db/db.js';
import { NotFound } from '../../errors.js';
import { recordAudit } from '../audit/audit.repository.js';
import { compareProviders, shippedPrices, type ComparisonPrices, type ProviderComparison } from './provider-comparison.js';
import { currentMonth as currentMonthOf } from './budgets.repository.js';
import { findPlatformTask, getCostSettings, monthCharges, saveCostSettings, setTaskManualMinutes, type CostSettings, type MonthCharge, type PlatformTask } from './roi.repository.js';
import type { CostSettingsInput } from './roi.schema.js';

/**
 * The monthly cost report of a platform (issue 16, item 8): for the platform and each course, the provider
 * comparison of the month's charges (provider-comparison.ts) and the return on the LLM spend — instructor minutes
 * saved per assessment × the administrator's hourly rate, against what the month's LLM calls cost.
 *
 * Minutes per assessment come from settings, never from measurement (the tool does not record how long a review
 * takes): a task's own minutes, else the platform's default, else none (those assessments are not counted, and
 * the report says how many). An assessment is a result charged in the month (a batch's, or a real-time grading's);
 * sample tests cost money and save no grading, so they count in the cost only.
 */

export type MinutesSource = 'task' | 'default' | null;

export interface TaskReturn {
  taskId: number | null;
  title: string | null;
  courseId: number;
  /** Batch results charged in the month. */
  results: number;
  /** Every charge of the month for the task (batch and real-time). */
  chargedMicros: number;
  /** The task's own minutes (what its form shows), and the minutes that apply with where they come from. */
  taskMinutes: number | null;
  minutes: number | null;
  minutesSource: MinutesSource;
  /** results × minutes; null when no minutes apply. */
  minutesSaved: number | null;
  /** minutesSaved × hourly rate ÷ 60, rounded half up; null without minutes or a rate. */
  valueMicros: number | null;
}

export interface Return {
  results: number;
  /** The LLM cost: every charge of the month in scope. */
  chargedMicros: number;
  minutesSaved: number;
  /** Results whose task has no minutes and no default applies: not counted in the minutes or the value. */
  resultsWithoutMinutes: number;
  /** Value of the minutes saved; null when the hourly rate is not set. */
  valueMicros: number | null;
  /** Value − LLM cost; null with the value. */
  netMicros: number | null;
}

export interface CourseReport {
  courseId: number;
  title: string;
  comparison: ProviderComparison;
  roi: Return;
  tasks: TaskReturn[];
}

export interface CostReport {
  month: string;
  currentMonth: string;
  settings: CostSettings;
  platform: { comparison: ProviderComparison; roi: Return };
  courses: CourseReport[];
}

/** minutes × rate per hour ÷ 60, half up, in BigInt (a large month × a high rate passes 2^53 micro-dollars × 60). */
export function valueOfMinutes(minutes: number, hourlyRateMicros: number): number {
  const scaled = BigInt(minutes) * BigInt(hourlyRateMicros);
  return Number((scaled + 30n) / 60n);
}

/** The minutes that apply to a task's results: its own, else the default, else none. */
export function minutesFor(taskMinutes: number | null, settings: CostSettings): { minutes: number | null; source: MinutesSource } {
  if (taskMinutes != null) return { minutes: taskMinutes, source: 'task' };
  if (settings.defaultManualMinutes != null) return { minutes: settings.defaultManualMinutes, source: 'default' };
  return { minutes: null, source: null };
}

/** Each task's return from its charges (one course's or all), tasks in the order of the charges. */
export function taskReturns(charges: readonly MonthCharge[], settings: CostSettings): TaskReturn[] {
  const byTask = new Map<string, TaskReturn>();
  for (const c of charges) {
    const key = `${c.courseId}:${c.taskId ?? 'none'}`;
    let t = byTask.get(key);
    if (!t) {
      const { minutes, source } = minutesFor(c.taskMinutes, settings);
      t = { taskId: c.taskId, title: c.taskTitle, courseId: c.courseId, results: 0, chargedMicros: 0, taskMinutes: c.taskMinutes, minutes, minutesSource: source, minutesSaved: null, valueMicros: null };
      byTask.set(key, t);
    }
    t.chargedMicros += c.chargedMicros;
    if (c.result) t.results += c.requests;
  }
  for (const t of byTask.values()) {
    if (t.minutes == null) continue;
    t.minutesSaved = t.results * t.minutes;
    t.valueMicros = settings.hourlyRateMicros == null ? null : valueOfMinutes(t.minutesSaved, settings.hourlyRateMicros);
  }
  return [...byTask.values()];
}

/** The return of a scope: its tasks' figures added up (each task's value rounded once, as shown). */
export function returnOf(tasks: readonly TaskReturn[], settings: CostSettings): Return {
  const results = tasks.reduce((a, t) => a + t.results, 0);
  const chargedMicros = tasks.reduce((a, t) => a + t.chargedMicros, 0);
  const counted = tasks.filter((t) => t.minutesSaved != null);
  const valueMicros = settings.hourlyRateMicros == null ? null : counted.reduce((a, t) => a + t.valueMicros!, 0);
  return {
    results,
    chargedMicros,
    minutesSaved: counted.reduce((a, t) => a + t.minutesSaved!, 0),
    resultsWithoutMinutes: tasks.filter((t) => t.minutesSaved == null).reduce((a, t) => a + t.results, 0),
    valueMicros,
    netMicros: valueMicros == null ? null : valueMicros - chargedMicros,
  };
}

/** The report of a month (default: the current one) for the platform and each course with charges in it. */
export async function costReport(db: Db, platformId: number, month?: string, prices: ComparisonPrices = shippedPrices()): Promise<CostReport> {
  const currentMonth = await currentMonthOf(db);
  const selected = month ?? currentMonth;
  const settings = await getCostSettings(db, platformId);
  const charges = await monthCharges(db, platformId, selected);
  const tasks = taskReturns(charges, settings);
  const courseIds = [...new Set(charges.map((c) => c.courseId))];
  const courses = courseIds.map((courseId) => {
    const own = charges.filter((c) => c.courseId === courseId);
    const ownTasks = tasks.filter((t) => t.courseId === courseId);
    return { courseId, title: own[0]!.courseTitle, comparison: compareProviders(own, prices), roi: returnOf(ownTasks, settings), tasks: ownTasks };
  });
  return { month: selected, currentMonth, settings, platform: { comparison: compareProviders(charges, prices), roi: returnOf(tasks, settings) }, courses };
}

export interface ReportActor {
  platformId: number;
  userId: number;
}

/** Sets the platform's hourly rate and default minutes (empty clears one), audited with the values before and after. */
export async function changeCostSettings(db: Db, actor: ReportActor, input: CostSettingsInput): Promise<void> {
  const after = { hourlyRateMicros: input.hourlyRate, defaultManualMinutes: input.defaultMinutes };
  const before = await saveCostSettings(db, actor.platformId, actor.userId, after);
  await recordAudit(db, {
    platformId: actor.platformId,
    actorId: actor.userId,
    actorKind: 'user',
    action: 'cost_settings.changed',
    entityType: 'platform',
    entityId: actor.platformId,
    details: { before, after },
  });
}

/** A task of the actor's platform; any other id (another platform's task, or none) is not found. */
export async function platformTask(db: Db, actor: ReportActor, taskId: number, options: { lock?: boolean } = {}): Promise<PlatformTask> {
  const task = await findPlatformTask(db, actor.platformId, taskId, options);
  if (!task) throw NotFound('The task');
  return task;
}

/**
 * Sets a task's minutes per hand-graded submission (null: the platform's default), audited. A task of another
 * platform, or none, is not found: the administrator's platform bounds what they can name.
 */
export async function changeTaskMinutes(db: Db, actor: ReportActor, taskId: number, minutes: number | null): Promise<{ title: string }> {
  const task = await platformTask(db, actor, taskId, { lock: true });
  await setTaskManualMinutes(db, task.id, minutes);
  await recordAudit(db, {
    platformId: actor.platformId,
    courseId: task.courseId,
    actorId: actor.userId,
    actorKind: 'user',
    action: 'task.manual_minutes_changed',
    entityType: 'task',
    entityId: task.id,
    details: { before: task.manualMinutes, after: minutes },
  });
  return { title: task.title };
}
