/**
 * Anonymization cost per KB of text: every text of the labelled corpus (test/fixtures/anonymization) anonymized
 * once per round against its course's roster, compiled beforehand as the send step compiles it once per course;
 * the median round reported (µs per KB), and the same texts against a roster of 300 (a large course), and what
 * compiling such a roster costs. Pure: no database, no servers.
 *
 * `npx tsx bench/anonymize.bench.ts [--rounds 20]`
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { anonymize, compileRoster, type Person } from '../src/grading/anonymize-text.js';
import type { CorpusEntry } from '../test/fixtures/anonymization/generate.js';
import { percentile } from './lib/stats.js';

function timeRounds(rounds: number, run: () => void): number[] {
  run();
  const times: number[] = [];
  for (let i = 0; i < rounds; i += 1) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  return times;
}

export async function run(rounds = 20) {
  const corpus = JSON.parse(readFileSync(new URL('../test/fixtures/anonymization/corpus.json', import.meta.url), 'utf8')) as CorpusEntry[];
  const kb = corpus.reduce((s, c) => s + Buffer.byteLength(c.text), 0) / 1024;
  const own = corpus.map((c) => ({ c, roster: compileRoster(c.roster) }));
  const perKb = (ms: number) => Math.round((ms * 1000) / kb);
  const small = timeRounds(rounds, () => own.forEach(({ c, roster }) => anonymize(c.text, c.author, roster)));
  // A course of 300: every person of the corpus, so most texts' names are among many.
  const everyone: Person[] = [];
  for (const c of corpus) for (const p of c.roster) if (everyone.length < 300) everyone.push(p);
  const compileMs = percentile(timeRounds(rounds, () => compileRoster(everyone)), 50);
  const big = compileRoster(everyone);
  const large = timeRounds(rounds, () => corpus.forEach((c) => anonymize(c.text, c.author, big)));
  return {
    texts: corpus.length,
    kb: Math.round(kb),
    rounds,
    roster10: { medianMicrosPerKb: perKb(percentile(small, 50)), fastestMicrosPerKb: perKb(Math.min(...small)) },
    roster300: { medianMicrosPerKb: perKb(percentile(large, 50)), fastestMicrosPerKb: perKb(Math.min(...large)), compileMs: Math.round(compileMs * 100) / 100 },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '20' } } });
  process.stdout.write(`${JSON.stringify(await run(Number(values.rounds)), null, 2)}\n`);
}
