import type { AssessmentFlag } from './rubric.js';
import { describeSignals, INJECTION_FLAG, submissionInjectionFlag, WEAK_RISK, type StoredScan } from './injection.js';

/**
 * The post-check on a model's answer (src/grading/injection.ts scans the submission before it is sent): does the
 * answer look like the model followed the student's text rather than the rubric?
 */

/** A score this close to the maximum (share of it) is a "top score". */
const TOP_SHARE = 0.95;

/** What a model's own words say when it obeyed text from the submission. */
const OBEYED_RULES: RegExp[] = [
  /\b(?:as|per)\s+(?:the\s+)?(?:student(?:'s)?|submission(?:'s)?|author(?:'s)?|essay(?:'s)?|writer(?:'s)?)\s+(?:requested|asked|instructed|requests|asks|instructs|directed|notes?|instructions?|request|says|said|indicated)\b/i,
  /\bthe\s+(?:student|submission|author|essay|text|answer|writer)\s+(?:asks|asked|requests|requested|instructs|instructed|tells|told|directs|directed)\s+(?:me|us|the\s+grader|the\s+model|to)\b/i,
  /\b(?:following|per|according\s+to|in\s+line\s+with)\s+(?:the\s+)?(?:note|notes|instructions?|request|message|directive|system\s+message)s?\s+(?:in|from|within|inside|embedded\s+in|included\s+in)\s+(?:the\s+)?(?:submission|essay|answer|text|student)/i,
  /\b(?:updated|new|revised)\s+(?:rubric|grading\s+policy|grading\s+instructions)\b/i,
  /\b(?:pre-?approved|pre-?graded|already\s+(?:graded|approved|verified)|(?:instructor|teacher|admin(?:istrator)?)\s+(?:has\s+)?(?:approved|authori[sz]ed|requested|pre-?approved))\b/i,
  /\b(?:system|admin(?:istrator)?|developer)\s+(?:override|note|message|instruction)\b/i,
  /\b(?:developer|grading)\s+mode\b/i,
  /\baccommodation\b/i,
];

/** The model says it was told how to grade (by whom is the question a human answers). */
const TOLD_TO_GRADE = /\b(?:i\s+(?:was|have\s+been|am)|we\s+were|i'm)\s+(?:told|instructed|asked|directed|required)\s+to\s+(?:give|award|assign|grade|score|mark|rate)\b/i;

/**
 * The model reports an attempt to instruct it (what DATA_BOUNDARY_INSTRUCTION asks of it). Not the bare words
 * "prompt injection" or "ignore previous instructions": a model summing up an honest essay about injection uses them.
 */
const MODEL_REPORTS_INJECTION =
  /\b(?:(?:contains?|includes?|is|attempts?|possible|suspected|likely|an?)\s+(?:an?\s+)?(?:attempted\s+)?prompt[\s-]injection|prompt[\s-]injection\s+(?:attempt|detected|found)|instructs?\s+(?:the\s+)?(?:grader|model|you)|attempts?\s+to\s+(?:instruct|manipulate|influence\s+the\s+grad)|(?:text|note|instructions?|requests?)\s+(?:addressed|aimed|directed)\s+(?:to|at)\s+the\s+(?:grader|model|evaluator)|treated\s+(?:it\s+)?as\s+data)\b/i;

/** The parts of a grading result the post-check reads. */
export interface ResultText {
  total_score: number;
  reasoning: string;
  comments: string;
  criteria: Record<string, { justification: string }>;
}

function excerpt(text: string, re: RegExp): string {
  const m = re.exec(text);
  if (!m) return '';
  const start = Math.max(0, text.lastIndexOf('.', m.index) + 1);
  return text.slice(start, Math.min(text.length, m.index + m[0].length + 80)).trim().slice(0, 200);
}

/**
 * The post-check: does the answer look like the model followed the submission? Flags a suspicious submission
 * (the scan), a model reporting an attempt to instruct it or saying it was told how to grade, and a top score
 * whose reasoning cites instructions from the submission or that comes with weaker submission signals. Cheap (a few
 * regular expressions over the model's own short texts): ingestion runs it per result line.
 */
export function assessResultForInjection(result: ResultText, scan: StoredScan | null, maxScore: number): AssessmentFlag | null {
  const reasons: string[] = [];
  const fromScan = submissionInjectionFlag(scan);
  if (fromScan) reasons.push(fromScan.message);
  if (MODEL_REPORTS_INJECTION.test(result.reasoning)) reasons.push('The model says the submission tries to instruct the grader.');
  const told = excerpt(result.reasoning, TOLD_TO_GRADE);
  if (told) reasons.push(`The model says it was told how to grade: "${told}".`);

  if (maxScore > 0 && result.total_score >= TOP_SHARE * maxScore) {
    const own = [result.reasoning, result.comments, ...Object.values(result.criteria).map((c) => c.justification)].join('\n');
    const cited = OBEYED_RULES.map((re) => excerpt(own, re)).find(Boolean);
    if (cited) reasons.push(`A top score (${result.total_score} of ${maxScore}) whose reasoning follows the submission: "${cited}".`);
    else if (!fromScan && scan && scan.risk >= WEAK_RISK) reasons.push(`A top score (${result.total_score} of ${maxScore}) for a submission with ${describeSignals(scan)}.`);
  }
  return reasons.length ? { code: INJECTION_FLAG, message: reasons.join(' ') } : null;
}
