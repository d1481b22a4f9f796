import type { RubricCriterion } from '../../grading/rubric.js';
import { fmt, LIMITS, parseNumber } from './prompt-draft-fields.js';

/**
 * The rubric of a prompt draft: its rows checked (messages keyed `rubric` and `rubric.<i>.<field>`, as the editor
 * names its inputs) and, once the whole draft is valid, every criterion given an id.
 */

export const CRITERION_ID = /^[a-z][a-z0-9_]{0,39}$/;

/** A rubric row as a front door hands it over: points may still be text (a form field). */
export interface DraftRubricRow {
  id?: string | null;
  name: string;
  description: string;
  maxPoints: string | number;
}

/** A criterion id from its name: "Use of evidence" → "use_of_evidence"; stable once given (the id is kept on rename). */
export function criterionIdFrom(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 36)
    .replace(/_+$/, '');
  if (!slug) return 'criterion';
  return /^[a-z]/.test(slug) ? slug : `c_${slug}`.slice(0, 36);
}

function uniqueId(base: string, taken: Set<string>): string {
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base.slice(0, 36)}_${n}`;
  taken.add(id);
  return id;
}

function normalizeName(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toLocaleLowerCase('en');
}

/**
 * Checks every row, writing its messages into `fields`, and returns the criteria as typed (a row without an id
 * keeps an empty one, points that do not parse become 0) with the ids the instructor gave, by criterion number.
 */
export function checkRubric(rows: DraftRubricRow[], fields: Record<string, string>): { rubric: RubricCriterion[]; givenIds: Map<string, number> } {
  if (rows.length === 0) fields.rubric = 'Add at least one criterion: the rubric is what the model scores against.';
  if (rows.length > LIMITS.criteria) fields.rubric = `A rubric can have at most ${LIMITS.criteria} criteria (this one has ${rows.length}).`;

  const rubric: RubricCriterion[] = [];
  const seenNames = new Map<string, number>();
  const givenIds = new Map<string, number>();
  rows.forEach((row, i) => rubric.push(checkCriterion(row, i, { seenNames, givenIds }, fields)));
  return { rubric, givenIds };
}

/** One row; `seen` carries the names and ids of the rows before it, so a duplicate names the criterion it repeats. */
function checkCriterion(
  row: DraftRubricRow,
  i: number,
  seen: { seenNames: Map<string, number>; givenIds: Map<string, number> },
  fields: Record<string, string>,
): RubricCriterion {
  const { seenNames, givenIds } = seen;
  const n = i + 1;
  const name = (row.name ?? '').trim().replace(/\s+/g, ' ');
  const description = (row.description ?? '').trim();
  if (!name) fields[`rubric.${i}.name`] = `Give criterion ${n} a name.`;
  else if (name.length > LIMITS.criterionNameChars) fields[`rubric.${i}.name`] = `The name of criterion ${n} is too long (at most ${LIMITS.criterionNameChars} characters).`;
  else {
    const first = seenNames.get(normalizeName(name));
    if (first !== undefined) fields[`rubric.${i}.name`] = `Criterion ${n} has the same name as criterion ${first} ("${name}"): each criterion needs its own name.`;
    else seenNames.set(normalizeName(name), n);
  }
  if (description.length > LIMITS.criterionDescriptionChars) {
    fields[`rubric.${i}.description`] = `The description of criterion ${n} is too long (at most ${fmt(LIMITS.criterionDescriptionChars)} characters).`;
  }
  const points = parseNumber(row.maxPoints, { min: 0, minExclusive: true, max: LIMITS.criterionPoints, decimals: 2 }, {
    missing: `Enter the points criterion ${n} is worth.`,
    invalid: `Points must be a number more than 0 and at most ${fmt(LIMITS.criterionPoints)}.`,
    decimals: 'Use at most two decimals for points (e.g. 2.5).',
  });
  if (!points.ok) fields[`rubric.${i}.maxPoints`] = points.message;
  const id = (row.id ?? '').trim();
  if (id) {
    if (!CRITERION_ID.test(id)) fields[`rubric.${i}.id`] = `Criterion ${n}'s id "${id}" must be lowercase letters, digits and underscores (at most 40), starting with a letter.`;
    else if (givenIds.has(id)) fields[`rubric.${i}.id`] = `Criterion ${n} has the same id as criterion ${givenIds.get(id)} ("${id}").`;
    else givenIds.set(id, n);
  }
  return { id, name, description, maxPoints: points.ok ? points.value : 0 };
}

/** Ids: kept when given (so a renamed criterion stays the same criterion across versions), else from the name. */
export function assignCriterionIds(rubric: RubricCriterion[], givenIds: Map<string, number>): void {
  const taken = new Set(givenIds.keys());
  for (const c of rubric) if (!c.id) c.id = uniqueId(criterionIdFrom(c.name), taken);
}
