import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildMessages, type PromptInput } from '../src/grading/messages.js';
import { responseFormatFor } from '../src/grading/result.schema.js';
import { parseTemplate } from '../src/grading/template.js';
import type { RubricCriterion } from '../src/grading/rubric.js';
import { customIdFor } from '../src/providers/custom-id.js';
import { buildOpenAIRequestLine } from '../src/providers/openai/request-line.js';
import { countChatTokens } from '../src/providers/tokens.js';
import { scanSubmission } from '../src/grading/injection.js';
import { rng } from './lib/prng.js';

/**
 * Builds a batch request file the way the batch job does — render each submission with buildMessages, count its
 * prompt tokens exactly, serialize it with buildRequestLine — streamed to disk line by line. Reports requests/s
 * and peak RSS for 5,000 and 50,000 requests: memory must stay flat (nothing held), and the target is ≥ 2,000/s.
 *
 *   npx tsx bench/jsonl-build.bench.ts [--repeats 3]
 */

const MODEL = 'gpt-4o-mini';
const TARGET_PER_SECOND = 2000;

const rubric: RubricCriterion[] = [
  { id: 'thesis', name: 'Thesis', description: 'States a clear, arguable thesis that answers the question.', maxPoints: 4 },
  { id: 'evidence', name: 'Evidence', description: 'Supports every claim with relevant evidence and cites its sources.', maxPoints: 6 },
  { id: 'analysis', name: 'Analysis', description: 'Explains how the evidence supports the thesis; weighs counter-arguments.', maxPoints: 6 },
  { id: 'writing', name: 'Writing', description: 'Clear structure, paragraphs, correct grammar and spelling.', maxPoints: 4 },
];

const prompt: PromptInput = {
  // Parsed once, as the job does with a prompt version.
  template: parseTemplate(
    'Grade the submission for the task below.\n\nTask: {task_title}\n{task_description}\n\nRubric:\n{task_criteria}\n\nMaximum score: {max_score}\n\n{student_submission}',
  ),
  systemInstructions: 'You are an experienced history teacher grading essays fairly and consistently against the rubric.',
  graderInstructions: 'Reward precise evidence; do not reward length for its own sake.',
  rubric,
  maxScore: 20,
};
const task = { title: 'Causes of the First World War', description: 'In 300–600 words, explain the main causes of the First World War and which mattered most.' };
const responseFormat = responseFormatFor(rubric, 20);

const VOCABULARY = (
  'alliance militarism imperialism nationalism assassination archduke sarajevo mobilisation july crisis empire austria hungary serbia russia germany france britain ' +
  'naval race dreadnought schlieffen plan belgium neutrality treaty ultimatum kaiser tsar parliament historians argue evidence sources clark macmillan fischer ' +
  'the a of and to in that is was it for on as with by this which but not be were their they had have from at or an also because however therefore although ' +
  'économie société guerre 戦争 帝国 — “quoted” 1914 1918 37% (see p. 12)'
).split(' ');


function submission(i: number): string {
  const rand = rng(i + 1);
  const words = 150 + Math.floor(rand() * 450);
  const paragraphs: string[] = [];
  let current: string[] = [];
  for (let w = 0; w < words; w += 1) {
    current.push(VOCABULARY[Math.floor(rand() * VOCABULARY.length)] ?? 'war');
    if (rand() < 0.07) current.push('.');
    if (current.length > 60 && rand() < 0.1) {
      paragraphs.push(current.join(' '));
      current = [];
    }
  }
  paragraphs.push(current.join(' '));
  if (i % 5 === 0) paragraphs.push('- alliances\n- militarism\n- imperialism');
  return paragraphs.join('\n\n');
}

export interface SizeResult {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  peakRssMb: number;
  fileMb: number;
  promptTokens: number;
}

export interface BenchResult {
  name: 'jsonl-build';
  model: string;
  target: { requestsPerSecond: number };
  baselineRssMb: number;
  /** Median of the repeats, per size. */
  sizes: SizeResult[];
  /** The send step's per-line work (render + injection scan + serialize), 5,000 lines, median of the repeats. */
  send: SizeResult;
  runs: SizeResult[];
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/**
 * `count`: render + exact token count + serialize (what submitting estimates, per line). `send`: what the batch send
 * step does per line — render, scan the text for prompt injection, serialize — without counting.
 */
type Mode = 'count' | 'send';

async function buildFile(n: number, file: string, mode: Mode = 'count'): Promise<SizeResult> {
  const out = createWriteStream(file);
  let peakRss = process.memoryUsage().rss;
  let promptTokens = 0;
  const started = performance.now();
  for (let i = 0; i < n; i += 1) {
    const text = submission(i);
    if (mode === 'send') scanSubmission(text);
    const messages = buildMessages(prompt, task, text);
    if (mode === 'count') promptTokens += countChatTokens(MODEL, messages);
    const line = buildOpenAIRequestLine({ customId: customIdFor(i + 1, 1), model: MODEL, messages, temperature: 0.2, maxOutputTokens: 1500, responseFormat });
    if (!out.write(`${line}\n`)) await once(out, 'drain');
    if (i % 1000 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  out.end();
  await once(out, 'finish');
  const seconds = (performance.now() - started) / 1000;
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  return { requests: n, seconds: Math.round(seconds * 100) / 100, requestsPerSecond: Math.round(n / seconds), peakRssMb: mb(peakRss), fileMb: mb((await stat(file)).size), promptTokens };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export async function run(options: { sizes?: number[]; repeats?: number } = {}): Promise<BenchResult> {
  const sizes = options.sizes ?? [5000, 50_000];
  const repeats = options.repeats ?? 3;
  const dir = await mkdtemp(path.join(tmpdir(), 'llm-assess-bench-'));
  try {
    // Load the tokenizer before measuring: a one-off cost per process, not per request.
    countChatTokens(MODEL, [{ role: 'user', content: 'warm up' }]);
    await buildFile(500, path.join(dir, 'warmup.jsonl'));
    const baselineRssMb = mb(process.memoryUsage().rss);
    const runs: SizeResult[] = [];
    const summary: SizeResult[] = [];
    for (const n of sizes) {
      const mine: SizeResult[] = [];
      for (let r = 0; r < repeats; r += 1) {
        const file = path.join(dir, `requests-${n}-${r}.jsonl`);
        mine.push(await buildFile(n, file));
        await rm(file);
      }
      runs.push(...mine);
      const first = mine[0] as SizeResult;
      summary.push({
        requests: n,
        seconds: median(mine.map((m) => m.seconds)),
        requestsPerSecond: median(mine.map((m) => m.requestsPerSecond)),
        peakRssMb: Math.max(...mine.map((m) => m.peakRssMb)),
        fileMb: first.fileMb,
        promptTokens: first.promptTokens,
      });
    }
    const sends: SizeResult[] = [];
    for (let r = 0; r < repeats; r += 1) {
      const file = path.join(dir, `send-${r}.jsonl`);
      sends.push(await buildFile(5000, file, 'send'));
      await rm(file);
    }
    const send = { ...sends[0]!, seconds: median(sends.map((m) => m.seconds)), requestsPerSecond: median(sends.map((m) => m.requestsPerSecond)), peakRssMb: Math.max(...sends.map((m) => m.peakRssMb)) };
    return { name: 'jsonl-build', model: MODEL, target: { requestsPerSecond: TARGET_PER_SECOND }, baselineRssMb, sizes: summary, send, runs };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function printTable(result: BenchResult): void {
  console.log(`JSONL build (${result.model}: buildMessages + exact token count + buildRequestLine, streamed to disk)`);
  console.log(`baseline RSS after warm-up: ${result.baselineRssMb} MB; target ≥ ${result.target.requestsPerSecond} requests/s`);
  console.log('requests | median s | median req/s | peak RSS MB | file MB | prompt tokens');
  console.log('-------- | -------- | ------------ | ----------- | ------- | -------------');
  for (const s of result.sizes) {
    console.log(
      `${String(s.requests).padStart(8)} | ${s.seconds.toFixed(2).padStart(8)} | ${String(s.requestsPerSecond).padStart(12)} | ${s.peakRssMb.toFixed(1).padStart(11)} | ${s.fileMb.toFixed(1).padStart(7)} | ${String(s.promptTokens).padStart(13)}`,
    );
  }
  console.log(`send step (render + injection scan + serialize, no count), ${result.send.requests} lines: median ${result.send.requestsPerSecond} lines/s, peak RSS ${result.send.peakRssMb} MB`);
  const slow = result.sizes.filter((s) => s.requestsPerSecond < result.target.requestsPerSecond);
  console.log(slow.length ? `BELOW TARGET at ${slow.map((s) => s.requests).join(', ')} requests` : 'target met');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf('--repeats');
  const repeats = i !== -1 ? Number(process.argv[i + 1]) : 3;
  run({ repeats: Number.isInteger(repeats) && repeats > 0 ? repeats : 3 })
    .then(printTable)
    .catch((err: unknown) => {
      console.error('The benchmark failed:', err instanceof Error ? err.message : err);
      process.exit(1);
    });
}
