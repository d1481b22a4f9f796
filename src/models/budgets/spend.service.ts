import type { Db } from '../../db/db.js';
import { listModels, type ModelPrice } from '../../providers/pricing.js';
import { currentMonth, ledgerSums, listCourses, realtimeComparison, taskSpend, type StandardRate, type TaskSpend } from './budgets.repository.js';

/**
 * Spend of a platform from its cost ledger, per month and course, batch and real-time. Committed = reservations − releases + charges,
 * the figure budgets are enforced against ("releases" counting the reservations charges settled): a reservation
 * ends when its result is charged or its request fails, so committed is "charged" plus "still reserved for
 * batches in flight".
 */

/** How many months the report covers, the current one included. */
export const REPORT_MONTHS = 12;

export interface SpendFigures {
  committedMicros: number;
  chargedMicros: number;
  /** Reserved for requests that have neither a charge nor a release yet. */
  inFlightMicros: number;
  /** Of the charges, those of real-time calls (sample tests, real-time gradings) at standard prices; the rest are batch results. */
  realtimeMicros: number;
}

export interface Savings {
  /** Charges compared (each has its result's token usage and a model with a standard price). */
  pricedCharges: number;
  chargedMicros: number;
  /** The same results at real-time (standard) prices, cached input at the cached price. */
  standardMicros: number;
  /** The same tokens at real-time prices without a prompt cache: what batch pricing and caching are measured against. */
  uncachedMicros: number;
  savedMicros: number;
  /** Charges left out of the comparison. */
  unpricedCharges: number;
}

export interface MonthSpend extends SpendFigures {
  month: string;
  savings: Savings | null;
}

export interface CourseSpend extends SpendFigures {
  courseId: number;
  courseTitle: string;
  savings: Savings | null;
}

export interface SpendReport {
  currentMonth: string;
  selectedMonth: string;
  /** Oldest first, zero-filled: the current month and the REPORT_MONTHS − 1 before it. */
  months: MonthSpend[];
  /** Courses with any ledger movement in the selected month, most committed first. */
  courses: CourseSpend[];
  /** The selected month by task, with the tokens of its charged results. */
  tasks: TaskSpend[];
  selected: SpendFigures & { savings: Savings | null };
  period: { savings: Savings | null; committedMicros: number; chargedMicros: number; realtimeMicros: number };
}

/** 'YYYY-MM-01' plus n months (n may be negative). */
export function addMonths(month: string, n: number): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const index = y * 12 + (m - 1) + n;
  return `${String(Math.floor(index / 12)).padStart(4, '0')}-${String((index % 12) + 1).padStart(2, '0')}-01`;
}

/**
 * Standard rates of every priced model and alias (default: the price file's), in micro-dollars per million tokens
 * (pricing.ts' unit): one row per recorded price period with the days it applied, so each charge is compared at
 * the price of its own day. The current period is open-ended; the oldest is open back in time, as pricing.ts
 * prices a day before the first recorded one at the earliest price.
 */
export function standardRates(models: readonly ModelPrice[] = listModels()): StandardRate[] {
  const micro = (usd: number) => Math.round(usd * 1_000_000);
  return models.flatMap((m) =>
    m.periods.flatMap((p, i) =>
      [m.model, ...m.aliases].map((model) => ({
        model,
        since: i === 0 ? null : p.since,
        until: p.until,
        input: micro(p.standard.inputUsdPerMTok),
        cachedInput: micro(p.standard.cachedInputUsdPerMTok),
        output: micro(p.standard.outputUsdPerMTok),
      })),
    ),
  );
}

const zero = (): SpendFigures => ({ committedMicros: 0, chargedMicros: 0, inFlightMicros: 0, realtimeMicros: 0 });
const emptySavings = (): Savings => ({ pricedCharges: 0, chargedMicros: 0, standardMicros: 0, uncachedMicros: 0, savedMicros: 0, unpricedCharges: 0 });

function addSavings(into: Savings, s: { pricedCharges: number; chargedMicros: number; standardMicros: number; uncachedMicros: number; unpricedCharges: number }): void {
  into.pricedCharges += s.pricedCharges;
  into.chargedMicros += s.chargedMicros;
  into.standardMicros += s.standardMicros;
  into.uncachedMicros += s.uncachedMicros;
  into.savedMicros = into.standardMicros - into.chargedMicros;
  into.unpricedCharges += s.unpricedCharges;
}

/** Savings are only claimed where at least one charge could be priced both ways. */
const shown = (s: Savings): Savings | null => (s.pricedCharges > 0 ? s : null);

/** The platform's spend report: the last REPORT_MONTHS months, and one month (default: the current) by course. */
export async function spendReport(db: Db, platformId: number, selectedMonth?: string): Promise<SpendReport> {
  const now = await currentMonth(db);
  const windowStart = addMonths(now, -(REPORT_MONTHS - 1));
  const selected = selectedMonth ?? now;
  const from = selected < windowStart ? selected : windowStart;
  const sums = await ledgerSums(db, platformId, from);
  const comparison = await realtimeComparison(db, platformId, from, standardRates());
  const courses = await listCourses(db, platformId);
  const titles = new Map(courses.map((c) => [c.id, c.title]));

  const months = new Map<string, MonthSpend>();
  for (let i = 0; i < REPORT_MONTHS; i += 1) {
    const month = addMonths(windowStart, i);
    months.set(month, { month, ...zero(), savings: null });
  }
  const { byCourse, selectedTotals } = addLedgerSums(sums, { months, selected, titles });
  const { selectedSavings, periodSavings } = addSavingsFigures(comparison, { months, selected, byCourse });

  const monthList = [...months.values()];
  return {
    currentMonth: now,
    selectedMonth: selected,
    months: monthList,
    courses: [...byCourse.values()].sort((a, b) => b.committedMicros - a.committedMicros || a.courseTitle.localeCompare(b.courseTitle)),
    tasks: await taskSpend(db, platformId, selected),
    selected: { ...selectedTotals, savings: shown(selectedSavings) },
    period: {
      savings: shown(periodSavings),
      committedMicros: monthList.reduce((a, m) => a + m.committedMicros, 0),
      chargedMicros: monthList.reduce((a, m) => a + m.chargedMicros, 0),
      realtimeMicros: monthList.reduce((a, m) => a + m.realtimeMicros, 0),
    },
  };
}

/**
 * Adds the ledger's sums into the report's months (those in the window) and, for the selected month, into its
 * courses and its total. Returns the selected month's courses and total.
 */
function addLedgerSums(
  sums: Awaited<ReturnType<typeof ledgerSums>>,
  report: { months: Map<string, MonthSpend>; selected: string; titles: Map<number, string> },
): { byCourse: Map<number, CourseSpend>; selectedTotals: SpendFigures } {
  const byCourse = new Map<number, CourseSpend>();
  const selectedTotals = zero();
  for (const s of sums) {
    const f = { committedMicros: s.reservedMicros - s.releasedMicros + s.chargedMicros, chargedMicros: s.chargedMicros, inFlightMicros: s.reservedMicros - s.releasedMicros, realtimeMicros: s.realtimeMicros };
    const m = report.months.get(s.month);
    if (m) addFigures(m, f);
    if (s.month === report.selected) {
      const c = byCourse.get(s.courseId) ?? { courseId: s.courseId, courseTitle: report.titles.get(s.courseId) ?? `Course ${s.courseId}`, ...zero(), savings: null };
      addFigures(c, f);
      byCourse.set(s.courseId, c);
      addFigures(selectedTotals, f);
    }
  }
  return { byCourse, selectedTotals };
}

/**
 * Adds the real-time price comparison up per month (in the window) and per course (in the selected month), and
 * sets each month's and course's savings where any could be shown. Returns the selected month's and the window's.
 */
function addSavingsFigures(
  comparison: Awaited<ReturnType<typeof realtimeComparison>>,
  report: { months: Map<string, MonthSpend>; selected: string; byCourse: Map<number, CourseSpend> },
): { selectedSavings: Savings; periodSavings: Savings } {
  const monthSavings = new Map<string, Savings>();
  const courseSavings = new Map<number, Savings>();
  const selectedSavings = emptySavings();
  const periodSavings = emptySavings();
  for (const c of comparison) {
    if (report.months.has(c.month)) {
      const ms = monthSavings.get(c.month) ?? emptySavings();
      addSavings(ms, c);
      monthSavings.set(c.month, ms);
      addSavings(periodSavings, c);
    }
    if (c.month === report.selected) {
      const cs = courseSavings.get(c.courseId) ?? emptySavings();
      addSavings(cs, c);
      courseSavings.set(c.courseId, cs);
      addSavings(selectedSavings, c);
    }
  }
  for (const [month, s] of monthSavings) report.months.get(month)!.savings = shown(s);
  for (const [courseId, s] of courseSavings) {
    const c = report.byCourse.get(courseId);
    if (c) c.savings = shown(s);
  }
  return { selectedSavings, periodSavings };
}

function addFigures(into: SpendFigures, f: SpendFigures): void {
  into.committedMicros += f.committedMicros;
  into.chargedMicros += f.chargedMicros;
  into.inFlightMicros += f.inFlightMicros;
  into.realtimeMicros += f.realtimeMicros;
}
