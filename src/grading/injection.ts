import { z } from 'zod';
import type { AssessmentFlag } from './rubric.js';
import { PHRASE_KINDS, PERSONA_GRADING, PHRASE_RULES, type Rule, type SignalKind } from './injection-rules.js';
import { DELIMITER_TAG, ENCODED_ORDER, GRADING_WORDS, STRUCTURE_RULES, TRANSCRIPT_ASSISTANT, TRANSCRIPT_USER } from './injection-structure.js';
import { decodedPayloads, hiddenSegments, leetView, normalise, spacedView } from './injection-text.js';

/**
 * Prompt injection, looked for on both sides of the model. Before sending, `scanSubmission` reads the student's
 * text for what addresses the grader rather than the task: orders and requests to the grader or model, claimed
 * grades, fake delimiter tags, chat role markers, ready-made results, and text hidden from a human reader. After
 * grading, `assessResultForInjection` (injection-answer.ts) reads the answer for signs the model obeyed. Either one
 * flags the assessment for a human (flag code `possible_prompt_injection`), and such an assessment is never
 * approved in bulk.
 *
 * Signals are weighted and summed per kind; a submission is suspicious at INJECTION_THRESHOLD. Honest essays that
 * discuss prompts, AI or grading carry the same words, so phrases count by how they address the reader: an order
 * (imperative, "you must", a vocative to the grader) counts fully, a quotation half, an example ("such as …") a
 * quarter. Measured on test/fixtures/injection (see bench/injection-corpus.ts).
 */

export const INJECTION_FLAG = 'possible_prompt_injection';
/** Risk at which a submission is suspicious on its own. */
export const INJECTION_THRESHOLD = 1;
/** Risk below the threshold that still matters when the model gives a top score. */
export const WEAK_RISK = 0.4;

export type { SignalKind };

export interface InjectionSignal {
  kind: SignalKind;
  weight: number;
}

/** What the scan found: the total risk and its weight per kind (heaviest first). No text of the submission. */
export interface SubmissionScan {
  risk: number;
  signals: InjectionSignal[];
}

/** A scan as stored and read back (batch_requests.injection_scan). Kinds stay open: a later version may add some. */
export const submissionScanSchema = z.object({
  risk: z.number().min(0),
  signals: z.array(z.object({ kind: z.string(), weight: z.number() })),
});
export type StoredScan = z.infer<typeof submissionScanSchema>;

const LABELS: Record<SignalKind, string> = {
  delimiter_tag: 'a fake submission tag',
  role_marker: 'chat role markers or instruction tags',
  result_json: 'a ready-made grading result',
  override: 'an order to ignore the instructions',
  grader_address: 'text addressed to the grader',
  score_request: 'a request for a score',
  persona: 'a role-play or mode switch',
  policy_claim: 'a claimed rubric change or approval',
  output_control: 'instructions about the grading output',
  hidden_text: 'hidden text',
  obfuscation: 'obfuscated text',
  encoded: 'encoded instructions',
};

const PHRASE = new Set<SignalKind>(PHRASE_KINDS);
type Found = Map<SignalKind, number[]>;

function add(found: Found, kind: SignalKind, weight: number): void {
  const list = found.get(kind);
  if (list) list.push(weight);
  else found.set(kind, [weight]);
}

const EXAMPLE_BEFORE =
  /(?<![\p{L}])(?:for example|for instance|such as|like|e\.g\.|i\.e\.|the phrase|the sentence|the words|saying|says|said|wrote|writes|write|typing|typed|called|known as|zum Beispiel|z\.\s?B\.|beispielsweise|etwa|der Satz|par exemple|tel(?:le)?s? que|comme|la phrase|por ejemplo|como|la frase|ad esempio|per esempio|come|por exemplo|bijvoorbeeld|zoals|de zin|например|такие как|na przykład|np\.|takie jak|例如|比如|像是|譬如|例えば|たとえば)[\s:,"'“”„«»「」『』]*[^.!?\n]{0,25}$/iu;
const QUOTE = /["“”„«»「」『』]/gu;
const HAS_QUOTE = /["“”„«»「」『』]/u;

/** An even number of quote marks before it in its paragraph, or an opening quote that is a JSON value: not quoted. */
function quoted(text: string, index: number): boolean {
  const start = Math.max(text.lastIndexOf('\n\n', index) + 1, index - 300);
  const before = text.slice(start, index);
  const marks = [...before.matchAll(QUOTE)];
  if (marks.length % 2 === 0) return false;
  const open = marks.at(-1)!.index;
  // "content": "…" — a JSON value is the data itself, not a citation of it. (Not "Professor: "…"": that is speech.)
  if (/"\s*:\s*$/.test(before.slice(Math.max(0, open - 6), open))) return false;
  const paragraphEnd = text.indexOf('\n\n', index);
  const after = text.slice(index, Math.min(paragraphEnd < 0 ? text.length : paragraphEnd, index + 300));
  return HAS_QUOTE.test(after);
}

/** How much a phrase counts where it stands: an example of what someone might write counts least. */
function contextFactor(text: string, index: number): number {
  if (EXAMPLE_BEFORE.test(text.slice(Math.max(0, index - 60), index))) return 0.25;
  return quoted(text, index) ? 0.5 : 1;
}

const FRACTION = /(\d+(?:[.,]\d+)?)\s*(?:\/|out\s+of|von|sur|de|su|van|из|na)\s*(\d+(?:[.,]\d+)?)/giu;

/** "10/10" claims a full score; "7/10" does not. A match with no fraction ("full marks") passes. */
function fullFractions(s: string): boolean {
  const fractions = [...s.matchAll(FRACTION)];
  return fractions.length === 0 || fractions.some((f) => Number(f[1]!.replace(',', '.')) === Number(f[2]!.replace(',', '.')));
}

/**
 * Every phrase rule begins with one of its literal hints. One pass over the text finds where hints start (the
 * longest at each place, which begins with every shorter one found there); each rule then runs, anchored, only
 * there. About a hundred full scans become one, plus a few anchored tries.
 */
const HINTS = (() => {
  const own = new Map<string, number[]>();
  PHRASE_RULES.forEach((r, i) => {
    for (const h of new Set(r.hints ?? [])) own.set(h, [...(own.get(h) ?? []), i]);
  });
  const unhinted = PHRASE_RULES.flatMap((r, i) => (r.hints ? [] : [i]));
  if (unhinted.length) throw new Error(`phrase rules without a literal start: ${unhinted.join(', ')}`);
  // The hint found at a place is the longest there; the rules of every shorter hint it starts with apply too.
  const rules = new Map<string, number[]>();
  for (const h of own.keys()) rules.set(h, [...new Set([...own].filter(([other]) => h.startsWith(other)).flatMap(([, ids]) => ids))]);
  const words = [...own.keys()].sort((a, b) => b.length - a.length).map((h) => h.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&'));
  const source = `(?=(${words.join('|')}))`;
  // Case-insensitive Unicode matching of ~500 alternatives is ten times slower than plain matching of the
  // lower-cased text; the slow one is kept for texts whose lower case changes their length (offsets would shift).
  return { lower: new RegExp(source, 'g'), anyCase: new RegExp(source, 'giu'), rules };
})();

function hintHits(text: string): IterableIterator<RegExpExecArray> {
  const lower = text.toLowerCase();
  return lower.length === text.length ? lower.matchAll(HINTS.lower) : text.matchAll(HINTS.anyCase);
}

const WORD_CHAR = /[\p{L}\p{N}_]/u;

/** A rule's match starting exactly at `at`, if it is one that counts there. */
function matchAt(text: string, r: Rule, at: number): RegExpExecArray | null {
  // Most rules start at a word: a hint inside one ("ai" in "said") is not worth running the pattern for.
  if (r.wordStart && at > 0 && WORD_CHAR.test(text[at - 1]!)) return null;
  r.at.lastIndex = at;
  const m = r.at.exec(text);
  if (!m) return null;
  if (r.before && !r.before.test(text.slice(Math.max(0, at - 80), at))) return null;
  if (r.fullFraction && !fullFractions(m[0])) return null;
  return m;
}

function scanPhrases(text: string): Found {
  const found: Found = new Map();
  // Per rule, where its last match ended: matches do not overlap, as in a global scan.
  const next = new Map<number, number>();
  for (const hit of hintHits(text)) {
    for (const i of HINTS.rules.get(hit[1]!.toLowerCase()) ?? []) {
      if ((next.get(i) ?? 0) > hit.index) continue;
      const r = PHRASE_RULES[i]!;
      const m = matchAt(text, r, hit.index);
      if (!m) continue;
      next.set(i, hit.index + Math.max(1, m[0].length));
      const weight = r.gradingPersona && PERSONA_GRADING.test(text.slice(hit.index, hit.index + 160)) ? 1 : r.weight;
      add(found, r.kind, weight * contextFactor(text, hit.index));
    }
  }
  return found;
}

function scanStructure(text: string, found: Found): void {
  const keys = new Set<string>();
  for (const r of STRUCTURE_RULES) {
    for (const m of text.matchAll(r.re)) {
      // Keys of our result schema count once each: two of them make a result, one may be a coincidence.
      if (r.kind === 'result_json' && r.weight < 1) keys.add(m[0].replace(/[^a-z_]/gi, '').toLowerCase());
      else add(found, r.kind, r.weight);
    }
  }
  if (keys.size) add(found, 'result_json', Math.min(1, 0.5 * keys.size));
  DELIMITER_TAG.lastIndex = 0;
  if (DELIMITER_TAG.test(text)) add(found, 'delimiter_tag', 1.2);
  if (TRANSCRIPT_USER.test(text) && TRANSCRIPT_ASSISTANT.test(text)) add(found, 'role_marker', 0.8);
  for (const m of text.matchAll(ENCODED_ORDER)) add(found, 'encoded', 0.5 * contextFactor(text, m.index));
}

function hasPhrase(found: Found): boolean {
  return [...found.entries()].some(([kind, ws]) => PHRASE.has(kind) && ws.some((w) => w >= 0.3));
}

/**
 * Phrases in a view of the text a reader does not see as such (decoded, de-obfuscated, hidden): what the plain
 * text did not already show is added, and the trick itself counts as `trick`.
 */
function mergeView(found: Found, view: string, trick: SignalKind, weight: number): void {
  const seen = scanPhrases(view);
  scanStructure(view, seen);
  let fresh = false;
  for (const [kind, ws] of seen) {
    if (kind === trick || found.has(kind)) continue;
    for (const w of ws) add(found, kind, w);
    fresh = true;
  }
  if (fresh) add(found, trick, weight);
}

function hiddenSignals(n: ReturnType<typeof normalise>, found: Found): void {
  if (n.invisibleInWords) add(found, 'hidden_text', n.invisibleInWords >= 3 ? 0.5 : 0.3);
  if (n.bidiControls) add(found, 'hidden_text', 0.5);
  if (n.tagText.trim()) {
    add(found, 'hidden_text', 1.2);
    mergeView(found, n.tagText, 'hidden_text', 0.3);
  }
  for (const run of n.reversedRuns) mergeView(found, run, 'hidden_text', 0.6);
  if (n.mixedScriptWords) add(found, 'obfuscation', n.mixedScriptWords >= 2 ? 0.5 : 0.3);
  for (const seg of hiddenSegments(n.clean)) {
    add(found, 'hidden_text', seg.weight);
    // Hidden text that speaks to the grader is the attack; a hidden menu or a code comment is not.
    if (hasPhrase(scanPhrases(seg.text))) add(found, 'hidden_text', 0.6);
    else if (GRADING_WORDS.test(seg.text)) add(found, 'hidden_text', 0.3);
  }
}

/** One kind's weight: its strongest signal, plus a quarter of the others (repeating a phrase adds little). */
function kindWeight(ws: number[]): number {
  const sorted = [...ws].sort((a, b) => b - a);
  const top = sorted[0]!;
  const rest = sorted.slice(1).reduce((s, w) => s + w, 0);
  return Math.min(1.5 * top, top + 0.25 * rest);
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/** Reads a submission, as sent to the model, for text aimed at the grader. Pure; about linear in the text. */
export function scanSubmission(text: string): SubmissionScan {
  const n = normalise(text);
  const found = scanPhrases(n.clean);
  scanStructure(n.clean, found);
  hiddenSignals(n, found);
  const leet = leetView(n.clean);
  if (leet) mergeView(found, leet, 'obfuscation', 0.4);
  const spaced = spacedView(n.clean);
  if (spaced) mergeView(found, spaced, 'obfuscation', 0.4);
  for (const payload of decodedPayloads(n.clean)) mergeView(found, payload, 'encoded', 0.6);

  const signals = [...found.entries()]
    .map(([kind, ws]) => ({ kind, weight: round2(kindWeight(ws)) }))
    .filter((s) => s.weight > 0)
    .sort((a, b) => b.weight - a.weight);
  return { risk: round2(signals.reduce((s, x) => s + x.weight, 0)), signals };
}

export function isSuspicious(scan: Pick<SubmissionScan, 'risk'> | null): boolean {
  return scan !== null && scan.risk >= INJECTION_THRESHOLD;
}

/** "a fake submission tag, hidden text" — the kinds found, in words, for a flag's message. */
export function describeSignals(scan: Pick<StoredScan, 'signals'>): string {
  return scan.signals.map((s) => LABELS[s.kind as SignalKind] ?? s.kind.replace(/_/g, ' ')).join(', ');
}

/** The flag for a suspicious submission, whatever the model answered (also when its answer is unusable). */
export function submissionInjectionFlag(scan: StoredScan | null): AssessmentFlag | null {
  if (!scan || !isSuspicious(scan)) return null;
  return { code: INJECTION_FLAG, message: `The submission contains ${describeSignals(scan)}: read it before deciding.` };
}
