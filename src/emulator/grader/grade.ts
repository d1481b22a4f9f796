import { unitHash } from '../hash.js';
import type { GradingSpec, RubricCriterionSpec } from './rubric.js';
import { keywords, textFeatures, type TextFeatures } from './text-features.js';

/**
 * The simulated grader. Scores follow the submission the way a lenient human's would — longer, structured,
 * varied text that uses the rubric's own terms scores higher — plus a small fixed jitter per criterion, so the
 * demo shows believable spread. Same submission and rubric → same answer, always.
 */

export interface GradingAnswer {
  criteria: Record<string, { score: number; justification: string }>;
  total_score: number;
  strengths: string[];
  improvements: string[];
  comments: string;
  reasoning: string;
  confidence: number;
}

interface CriterionResult {
  criterion: RubricCriterionSpec;
  fraction: number;
  score: number;
  matched: string[];
  missing: string[];
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
const round2 = (x: number) => Math.round(x * 100) / 100;

function lengthFactor(f: TextFeatures): number {
  // log-shaped: 10 words ≈ 0.4, 50 ≈ 0.66, 400+ = 1.
  return clamp(Math.log1p(f.wordCount) / Math.log1p(400), 0, 1);
}

function structureFactor(f: TextFeatures): number {
  return clamp((f.paragraphs > 1 ? 0.4 : 0) + (f.listItems > 0 || f.headings > 0 ? 0.3 : 0) + (f.sentences >= 3 ? 0.3 : 0), 0, 1);
}

function vocabularyFactor(f: TextFeatures): number {
  if (f.wordCount < 20) return 0.3;
  return clamp((f.uniqueRatio - 0.3) / 0.4, 0, 1);
}

/** Points rounded to half points (quarter points for criteria worth 2 or less), within 0..max. */
function toPoints(fraction: number, max: number): number {
  const step = max > 2 ? 0.5 : 0.25;
  return clamp(Math.round((fraction * max) / step) * step, 0, max);
}

/** The first sentence of the submission that uses one of these words, as a short quote. */
function quoteFor(text: string, terms: string[]): string | null {
  const sentences = text.split(/(?<=[.!?])\s+|\n+/).map((s) => s.trim()).filter(Boolean);
  const hit = sentences.find((s) => terms.some((t) => s.toLowerCase().includes(t))) ?? null;
  if (!hit) return null;
  return hit.length > 120 ? `${hit.slice(0, 117)}…` : hit;
}

function scoreCriterion(c: RubricCriterionSpec, f: TextFeatures, text: string, seed: string): CriterionResult {
  const terms = keywords(`${c.name} ${c.description}`);
  const matched = terms.filter((t) => f.vocabulary.has(t));
  const missing = terms.filter((t) => !f.vocabulary.has(t));
  if (f.wordCount === 0) return { criterion: c, fraction: 0, score: 0, matched, missing };
  const overlap = terms.length ? matched.length / terms.length : vocabularyFactor(f);
  const jitter = (unitHash(seed, 'criterion', c.id, text) - 0.5) * 0.1;
  const fraction = clamp(0.12 + 0.33 * lengthFactor(f) + 0.15 * structureFactor(f) + 0.15 * vocabularyFactor(f) + 0.25 * overlap + jitter, 0, 1);
  return { criterion: c, fraction, score: toPoints(fraction, c.maxPoints), matched, missing };
}

function justification(r: CriterionResult, text: string): string {
  const { criterion: c } = r;
  if (r.score === 0 && r.fraction === 0) return `No work was submitted, so "${c.name}" cannot be credited.`;
  const quote = quoteFor(text, r.matched);
  const parts = [`${r.score} of ${c.maxPoints} points for "${c.name}".`];
  if (quote) parts.push(`The submission addresses it, e.g. "${quote}".`);
  else parts.push('The submission does not clearly address this criterion.');
  if (r.missing.length && r.fraction < 0.8) parts.push(`It says little about: ${r.missing.slice(0, 3).join(', ')}.`);
  return parts.join(' ');
}

export function gradeSubmission(spec: GradingSpec, submission: string, seed: string): GradingAnswer {
  const f = textFeatures(submission);
  const results = spec.criteria.map((c) => scoreCriterion(c, f, submission, seed));
  const sum = results.reduce((acc, r) => acc + r.score, 0);
  // Total = sum of criteria; a rubric whose criteria add up to more than the task maximum is capped at it.
  const total = round2(spec.maxTotal !== null ? Math.min(sum, spec.maxTotal) : sum);
  const maxTotal = spec.maxTotal ?? results.reduce((acc, r) => acc + r.criterion.maxPoints, 0);

  const strengths = results
    .filter((r) => r.fraction >= 0.65)
    .slice(0, 3)
    .map((r) => `${r.criterion.name}: ${r.matched.length ? `uses the key ideas (${r.matched.slice(0, 3).join(', ')})` : 'handled with care'}.`);
  if (strengths.length === 0 && f.wordCount > 0) strengths.push('The submission engages with the task.');
  if (f.paragraphs > 2 || f.headings > 0) strengths.push('Clear organisation into sections or paragraphs.');

  const improvements = results
    .filter((r) => r.fraction < 0.65)
    .slice(0, 3)
    .map((r) => `${r.criterion.name}: ${r.missing.length ? `develop ${r.missing.slice(0, 3).join(', ')}` : 'give more detail and a concrete example'}.`);
  if (f.wordCount > 0 && f.wordCount < 120) improvements.push('Write more: the answer is short for what the task asks.');
  if (f.wordCount === 0) improvements.push('Submit your work: nothing was received.');
  if (improvements.length === 0) improvements.push('Add one more concrete example to support the strongest point.');

  const confidence = round2(
    clamp(0.45 + 0.45 * Math.min(1, f.wordCount / 300) - (f.suspectedInjection ? 0.35 : 0) + (f.wordCount === 0 ? 0.45 : 0), 0.05, 0.95),
  );

  const comments = [
    `**Overall: ${total} / ${maxTotal}.**`,
    '',
    ...results.map((r) => `- **${r.criterion.name}** — ${r.score} / ${r.criterion.maxPoints}`),
    '',
    improvements.length ? `Next step: ${improvements[0]}` : '',
  ]
    .join('\n')
    .trim();

  const reasoning = [
    'Simulated grader (llm-assess emulator, demo mode): scores come from surface features, not understanding.',
    `words=${f.wordCount}, paragraphs=${f.paragraphs}, list items=${f.listItems}, sentences=${f.sentences}, distinct-word ratio=${round2(f.uniqueRatio)}.`,
    ...results.map((r) => `${r.criterion.id}: rubric terms matched ${r.matched.length}/${r.matched.length + r.missing.length}, fraction ${round2(r.fraction)}.`),
    f.suspectedInjection
      ? `The submission contains text addressed to the grader ("${f.suspectedInjection}"); it was treated as data and confidence lowered.`
      : '',
  ]
    .filter(Boolean)
    .join(' ');

  return {
    criteria: Object.fromEntries(results.map((r) => [r.criterion.id, { score: r.score, justification: justification(r, submission) }])),
    total_score: total,
    strengths,
    improvements,
    comments,
    reasoning,
    confidence,
  };
}
