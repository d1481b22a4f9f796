import { z } from 'zod';
import type { RubricCriterion } from '../../grading/rubric.js';
import { Invalid } from '../../errors.js';

/**
 * A labelled set for `npm run eval`: JSON Lines, one piece of work a person graded per line —
 * `{"id": "…", "submission": "…", "score": 7, "criteria": {"<criterion id>": 3, …}}`, `criteria` optional (all of the
 * rubric's criteria or some; each compared where given). Checked whole before anything is sent: every problem is
 * reported with its line, and nothing runs while one is left.
 */

export const LABELLED_SET_MAX_ITEMS = 2000;
export const LABELLED_SUBMISSION_MAX_CHARS = 100_000;

const itemSchema = z.strictObject({
  id: z.union([z.string().trim().min(1).max(200), z.number().int()], { error: 'id: a name or number for the item is required.' }).transform(String),
  submission: z.string({ error: 'submission: the work, as text, is required.' }).max(LABELLED_SUBMISSION_MAX_CHARS, `submission: at most ${LABELLED_SUBMISSION_MAX_CHARS.toLocaleString('en')} characters.`),
  score: z.number({ error: 'score: the human score, a number, is required.' }).finite(),
  criteria: z.record(z.string(), z.number({ error: 'criteria: each criterion\'s points must be a number.' }).finite()).optional(),
  /** Free text for the people who made the set (why this score); never sent. */
  note: z.string().optional(),
});

export interface LabelledItem {
  id: string;
  submission: string;
  /** The score a person gave. */
  score: number;
  /** Criterion id → the points a person gave, where given. */
  criteria: Record<string, number>;
}

/** The set's lines, checked against the prompt's rubric and maximum; a 422 listing every problem with its line. */
export function parseLabelledSet(text: string, rubric: RubricCriterion[], maxScore: number): LabelledItem[] {
  const problems: string[] = [];
  const items: LabelledItem[] = [];
  const ids = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    const n = i + 1;
    if (!line.trim()) return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      problems.push(`line ${n}: not JSON (each line is one object: {"id", "submission", "score", "criteria"}).`);
      return;
    }
    const parsed = itemSchema.safeParse(json);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`line ${n}: ${issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')} (allowed: id, submission, score, criteria, note).` : issue.message}`);
      return;
    }
    const item = parsed.data;
    const first = ids.get(item.id);
    if (first !== undefined) problems.push(`line ${n}: id "${item.id}" is used already on line ${first}.`);
    else ids.set(item.id, n);
    if (item.score < 0 || item.score > maxScore) problems.push(`line ${n}: score ${item.score} is outside 0–${maxScore}.`);
    for (const [key, points] of Object.entries(item.criteria ?? {})) {
      const c = rubric.find((r) => r.id === key);
      if (!c) problems.push(`line ${n}: criterion "${key}" is not in the rubric (${rubric.map((r) => r.id).join(', ')}).`);
      else if (points < 0 || points > c.maxPoints) problems.push(`line ${n}: ${key} ${points} is outside 0–${c.maxPoints}.`);
    }
    items.push({ id: item.id, submission: item.submission, score: item.score, criteria: item.criteria ?? {} });
  });
  if (!items.length && !problems.length) problems.push('the set has no items (one JSON object per line).');
  if (items.length > LABELLED_SET_MAX_ITEMS) problems.push(`the set has ${items.length} items; one run takes at most ${LABELLED_SET_MAX_ITEMS}.`);
  if (problems.length) {
    const shown = problems.slice(0, 20);
    throw Invalid({ set: shown[0]! }, `The labelled set cannot be used:\n${shown.map((p) => `  - ${p}`).join('\n')}${problems.length > shown.length ? `\n  … and ${problems.length - shown.length} more` : ''}`);
  }
  return items;
}
