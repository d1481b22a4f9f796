import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { anonymize, anonymizedSpans, compileRoster } from '../src/grading/anonymize-text.js';
import type { CorpusEntry } from './fixtures/anonymization/generate.js';

/**
 * The labelled corpus (test/fixtures/anonymization/corpus.json, made by generate.ts beside it): recall of planted
 * personal data and the share of ordinary words changed. The tuning split's targets are asserted; the held-out
 * split (other people, other sentences, another seed; never tuned on) is only reported.
 */
const corpus = JSON.parse(readFileSync(new URL('./fixtures/anonymization/corpus.json', import.meta.url), 'utf8')) as CorpusEntry[];

function measure(entries: CorpusEntry[]) {
  let planted = 0;
  let removed = 0;
  let words = 0;
  let changed = 0;
  const misses: string[] = [];
  const byKind: Record<string, [number, number]> = {};
  for (const c of entries) {
    const spans = anonymizedSpans(c.text, c.author, compileRoster(c.roster));
    const inSpan = (i: number) => spans.some((s) => s.start <= i && i < s.end);
    for (const p of c.pii) {
      planted++;
      const k = (byKind[p.kind] ??= [0, 0]);
      k[1]++;
      let ok = true;
      for (let i = p.start; i < p.end && ok; i++) if (!/\s/.test(c.text[i]!) && !inSpan(i)) ok = false;
      if (ok) {
        removed++;
        k[0]++;
      } else misses.push(`${c.id} ${p.kind} ${JSON.stringify(p.value)}`);
    }
    for (const m of c.text.matchAll(/[\p{L}\p{N}]+/gu)) {
      const start = m.index;
      const end = start + m[0].length;
      if (c.pii.some((p) => p.start < end && start < p.end)) continue;
      words++;
      if (spans.some((s) => s.start < end && start < s.end)) changed++;
    }
  }
  return { submissions: entries.length, planted, recall: removed / planted, words, falsePositiveRate: changed / words, misses, byKind };
}

const report = (name: string, m: ReturnType<typeof measure>) =>
  `${name}: ${m.submissions} submissions, recall ${(m.recall * 100).toFixed(2)} % of ${m.planted} planted items ` +
  `(${Object.entries(m.byKind).map(([k, [a, b]]) => `${k} ${a}/${b}`).join(', ')}), ordinary words changed ${(m.falsePositiveRate * 100).toFixed(3)} % of ${m.words}`;

describe('anonymization corpus', () => {
  it('has at least 200 tuning submissions in English, German, French, Spanish and Dutch, with every kind planted', () => {
    const tuning = corpus.filter((c) => c.split === 'tuning');
    expect(tuning.length).toBeGreaterThanOrEqual(200);
    expect(new Set(tuning.map((c) => c.lang))).toEqual(new Set(['en', 'de', 'fr', 'es', 'nl']));
    expect(new Set(tuning.flatMap((c) => c.pii.map((p) => p.kind)))).toEqual(new Set(['name', 'email', 'phone', 'id', 'url', 'address', 'login']));
  });

  it('removes ≥ 99 % of planted personal data and changes ≤ 1 % of ordinary words (tuning split)', () => {
    const m = measure(corpus.filter((c) => c.split === 'tuning'));
    process.stdout.write(`${report('tuning', m)}\n${m.misses.length ? `missed: ${m.misses.join('; ')}\n` : ''}`);
    expect(m.recall).toBeGreaterThanOrEqual(0.99);
    expect(m.falsePositiveRate).toBeLessThanOrEqual(0.01);
  });

  it('reports the held-out split (not asserted: it measures, it is not tuned on)', () => {
    const m = measure(corpus.filter((c) => c.split === 'held-out'));
    process.stdout.write(`${report('held-out', m)}\n${m.misses.length ? `missed: ${m.misses.join('; ')}\n` : ''}`);
    expect(m.planted).toBeGreaterThan(0);
  });

  it('leaves no planted value in the text that would be sent', () => {
    const leaks: string[] = [];
    for (const c of corpus.filter((x) => x.split === 'tuning')) {
      const out = anonymize(c.text, c.author, compileRoster(c.roster)).text;
      for (const p of c.pii) if (p.value.length >= 4 && out.includes(p.value)) leaks.push(`${c.id}: ${p.value}`);
    }
    expect(leaks).toEqual([]);
  });
});
