/**
 * The prompt-injection detector over its labelled corpus (test/fixtures/injection): detection and false-positive
 * rates overall, per language and per technique, the texts it gets wrong, and what scanning costs per KB of text
 * (the send step scans every request of a batch, 50,000 for a large one).
 *
 * `npx tsx bench/injection-corpus.ts [--rounds 20]`
 */
import { parseArgs } from 'node:util';
import { assessResultForInjection, type ResultText } from '../src/grading/injection-answer.js';
import { isSuspicious, scanSubmission } from '../src/grading/injection.js';
import { loadInjectionCorpus, measure, percent, type Rate } from '../test/fixtures/injection/corpus.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '20' } } });
const rounds = Number(values.rounds);
const corpus = loadInjectionCorpus();
const m = measure(corpus, (text) => isSuspicious(scanSubmission(text)));

const table = (title: string, rows: Map<string, Rate>) => {
  console.log(`\n${title}`);
  for (const [k, r] of rows) console.log(`  ${k.padEnd(24)} ${percent(r)}`);
};

console.log(`detected:        ${percent(m.detection)}`);
console.log(`false positives: ${percent(m.falsePositives)}`);
table('detection by set (dev: built against; holdout1: measured before its fixes; holdout2: never tuned on)', m.detectionBy.set);
table('false positives by set', m.falsePositivesBy.set);
table('detection by language', m.detectionBy.language);
table('detection by technique', m.detectionBy.technique);
table('false positives by language', m.falsePositivesBy.language);
table('false positives by kind of honest text', m.falsePositivesBy.technique);
if (m.missed.length) console.log(`\nmissed:\n${m.missed.map((e) => `  ${e.id} ${e.language} ${e.technique}: ${e.note}`).join('\n')}`);
if (m.wronglyFlagged.length) console.log(`\nwrongly flagged:\n${m.wronglyFlagged.map((e) => `  ${e.id} ${e.language} ${e.technique}: ${e.note}`).join('\n')}`);

// Cost: every text of the corpus scanned once per round after a warm-up round, the fastest round kept (other work
// on the machine only ever slows a round down); then one ~100 KB text (the largest submission allowed), to show the
// cost stays linear; then the post-check ingestion runs per result line, on a typical answer.
const texts = [...corpus.attacks, ...corpus.honest].map((e) => e.text);
const kb = texts.reduce((s, t) => s + Buffer.byteLength(t), 0) / 1024;
const fastest = (n: number, run: () => void) => {
  run();
  let best = Infinity;
  for (let i = 0; i < n; i += 1) {
    const start = performance.now();
    run();
    best = Math.min(best, performance.now() - start);
  }
  return best;
};
const perKb = fastest(rounds, () => texts.forEach((t) => scanSubmission(t))) / kb;
const long = corpus.honest.map((e) => e.text).join('\n\n').repeat(2).slice(0, 100_000);
const longPerKb = fastest(5, () => scanSubmission(long)) / (Buffer.byteLength(long) / 1024);
const answer: ResultText = {
  total_score: 9.5,
  reasoning: 'The thesis is explicit and arguable. Evidence: two studies, one cited with its year; the counterargument is named but answered in one sentence only. Language is clear with minor comma splices.',
  comments: 'A **clear** argument. Develop the counterargument: say why the critics are wrong, with evidence. Check comma splices in paragraph two.',
  criteria: { thesis: { justification: 'Clear, arguable claim in the first sentence.' }, evidence: { justification: 'Two studies; the second is not cited.' }, clarity: { justification: 'Well organised; minor errors.' } },
};
const scan = scanSubmission(corpus.honest[0]!.text);
const postMicros = (fastest(rounds, () => {
  for (let i = 0; i < 1000; i += 1) assessResultForInjection(answer, scan, 10);
}) / 1000) * 1000;
console.log(`\nscan cost: ${(perKb * 1000).toFixed(0)} µs per KB over the corpus (${texts.length} texts, ${kb.toFixed(0)} KB, fastest of ${rounds} rounds); ${(longPerKb * 1000).toFixed(0)} µs per KB for one ${Math.round(Buffer.byteLength(long) / 1024)} KB text`);
console.log(`post-check (per result line at ingestion): ${postMicros.toFixed(1)} µs`);
