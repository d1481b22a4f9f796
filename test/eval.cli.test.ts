import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.js';
import { startStack, testEnv, type Stack } from './helpers/stack.js';
import { freePort } from './helpers/ports.js';
import { activatePrompt, allowLlm, homeIds, type Home } from './helpers/queue-fixtures.js';

/**
 * `npm run eval` (issue 22, item 3) over the emulator: the figures it prints and writes on the shipped labelled set
 * match a direct computation here, and on a small fixed set a computation by hand; a run naming a task passes the
 * spending gate and is charged; every bad call ends with a message and a non-zero exit, nothing sent.
 */

const run = promisify(execFile);
const SHIPPED_SET = 'data/eval/boston-tea-party.jsonl';
const SHIPPED_PROMPT = 'data/eval/boston-tea-party.prompt.json';

interface Report {
  figures: {
    items: number;
    scored: number;
    overall: { n: number; qwk: number; mae: number; exact: number; adjacent: number; max: number };
    criteria: Array<{ id: string; n: number; qwk: number | null; mae: number; exact: number; adjacent: number }>;
    cost: { realtimeMicros: number; batchMicros: number; inputTokens: number; outputTokens: number };
    time: { elapsedMs: number };
  };
  items: Array<{ id: string; human: number; model: number | null; criteria: Record<string, { human: number | null; model: number | null }> }>;
  provider: { demoMode: boolean };
}

/**
 * Quadratic weighted kappa by another road than src/analytics: for quadratic weights it equals
 * 2·cov(x, y) / (var(x) + var(y) + (mean x − mean y)²), population moments, on the rounded integer scores.
 */
function qwkByMoments(pairs: Array<[number, number]>, max: number): number {
  const cat = (v: number) => Math.min(max, Math.max(0, Math.round(v)));
  const xs = pairs.map(([x]) => cat(x));
  const ys = pairs.map(([, y]) => cat(y));
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const mx = mean(xs);
  const my = mean(ys);
  const cov = mean(xs.map((x, i) => (x - mx) * (ys[i]! - my)));
  const vx = mean(xs.map((x) => (x - mx) ** 2));
  const vy = mean(ys.map((y) => (y - my) ** 2));
  return (2 * cov) / (vx + vy + (mx - my) ** 2);
}

describe('npm run eval', () => {
  let emulator: RunningEmulator;
  let dir: string;
  const baseEnv = () => ({
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    NODE_ENV: 'test',
    LTI_KEY: randomBytes(32).toString('hex'),
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'silent',
    EMULATOR_URL: emulator.url,
  });
  const cli = async (args: string[], env: Record<string, string> = baseEnv()) => {
    try {
      const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/eval.ts', ...args], { env, timeout: 120_000 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  const report = (out: string) => JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, host: '127.0.0.1', timings: { validatingMs: 0, inProgressMs: 0, finalizingMs: 0 } });
    dir = mkdtempSync(join(tmpdir(), 'llm-assess-eval-'));
  });
  afterAll(async () => {
    await emulator?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('grades the shipped set and prints and writes figures that match a direct computation', async () => {
    const out = join(dir, 'shipped');
    const res = await cli(['--prompt', SHIPPED_PROMPT, '--set', SHIPPED_SET, '--out', out]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const r = report(out);
    const shipped = readFileSync(SHIPPED_SET, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; score: number; criteria: Record<string, number> });
    expect(r.figures.items).toBe(shipped.length);
    expect(r.figures.scored).toBe(shipped.length);
    // Every item's human scores are the file's.
    expect(r.items.map((i) => [i.id, i.human])).toEqual(shipped.map((s) => [s.id, s.score]));
    for (const s of shipped) for (const [c, points] of Object.entries(s.criteria)) expect(r.items.find((i) => i.id === s.id)!.criteria[c]!.human).toBe(points);

    const pairs = r.items.map((i) => [i.model!, i.human] as [number, number]);
    const direct = {
      qwk: qwkByMoments(pairs, 10),
      mae: pairs.reduce((a, [x, y]) => a + Math.abs(x - y), 0) / pairs.length,
      exact: pairs.filter(([x, y]) => Math.round(x) === Math.round(y)).length / pairs.length,
      adjacent: pairs.filter(([x, y]) => Math.abs(Math.round(x) - Math.round(y)) <= 1).length / pairs.length,
    };
    expect(r.figures.overall.n).toBe(20);
    expect(r.figures.overall.qwk).toBeCloseTo(direct.qwk, 10);
    expect(r.figures.overall.mae).toBeCloseTo(direct.mae, 10);
    expect(r.figures.overall.exact).toBeCloseTo(direct.exact, 10);
    expect(r.figures.overall.adjacent).toBeCloseTo(direct.adjacent, 10);
    for (const c of [{ id: 'cause', max: 4 }, { id: 'consequence', max: 4 }, { id: 'clarity', max: 2 }]) {
      const cp = r.items.map((i) => [i.criteria[c.id]!.model!, i.criteria[c.id]!.human!] as [number, number]);
      const fig = r.figures.criteria.find((x) => x.id === c.id)!;
      expect(fig.qwk).toBeCloseTo(qwkByMoments(cp, c.max), 10);
      expect(fig.mae).toBeCloseTo(cp.reduce((a, [x, y]) => a + Math.abs(x - y), 0) / cp.length, 10);
    }
    // What it printed is what it wrote.
    const line = `QWK ${direct.qwk.toFixed(3)}   MAE ${direct.mae.toFixed(2)}   exact ${(direct.exact * 100).toFixed(1)} %   adjacent ${(direct.adjacent * 100).toFixed(1)} %   (20 items)`;
    expect(res.stdout).toContain(`Agreement with the human scores (0–10):\n  ${line}`);
    // Cost: what the tokens would cost (the emulator bills nothing), the batch price half the real-time one.
    expect(r.provider.demoMode).toBe(true);
    expect(r.figures.cost.inputTokens).toBeGreaterThan(0);
    expect(r.figures.cost.realtimeMicros).toBeGreaterThan(0);
    expect(Math.abs(r.figures.cost.batchMicros * 2 - r.figures.cost.realtimeMicros)).toBeLessThanOrEqual(20);
    expect(res.stdout).toContain('Demo mode: the simulated grader bills nothing');
    expect(res.stdout).toMatch(/Time: \d+\.\d+ s in all; per call/);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<caption>Agreement with the human scores</caption>');
    expect(html).toContain(`<td>${direct.qwk.toFixed(3)}</td>`);
  }, 120_000);

  it('on a small fixed set, gives the figures computed by hand', async () => {
    const chosen = ['btp-08', 'btp-12', 'btp-13', 'btp-05'];
    const lines = readFileSync(SHIPPED_SET, 'utf8').trim().split('\n').filter((l) => chosen.includes((JSON.parse(l) as { id: string }).id));
    const set = join(dir, 'four.jsonl');
    writeFileSync(set, lines.join('\n') + '\n');
    const out = join(dir, 'four');
    expect((await cli(['--prompt', SHIPPED_PROMPT, '--set', set, '--out', out, '--concurrency', '1'])).code).toBe(0);
    const r = report(out);
    // The emulator's grader is deterministic; the hand computation below takes these grades (model, human):
    // total (5, 0) (7, 10) (3, 3) (5.5, 5); cause (2, 0) (3, 4) (1, 1) (2.5, 2).
    expect(r.items.map((i) => [i.id, i.model, i.human])).toEqual([['btp-05', 5.5, 5], ['btp-08', 5, 0], ['btp-12', 7, 10], ['btp-13', 3, 3]]);
    expect(r.items.map((i) => [i.criteria.cause!.model, i.criteria.cause!.human])).toEqual([[2.5, 2], [2, 0], [3, 4], [1, 1]]);
    // Total, 0..10, categories rounded half up: (6,5) (5,0) (7,10) (3,3).
    //  MAE = (0.5 + 5 + 3 + 0) / 4 = 2.125; exact 1/4 (3,3); adjacent 2/4 (6,5) and (3,3).
    //  QWK, w = (i−j)²/100: Σw·O = (1 + 25 + 9 + 0)/100 = 0.35.
    //  Σw·E = Σ_i Σ_j (i−j)² / 100 / 4 over i ∈ {6,5,7,3}, j ∈ {5,0,10,3}:
    //   i=6: 1+36+16+9 = 62; i=5: 0+25+25+4 = 54; i=7: 4+49+9+16 = 78; i=3: 4+9+49+0 = 62 → 256 / 400 = 0.64.
    //  κ = 1 − 0.35 / 0.64 = 29/64 = 0.453125.
    expect(r.figures.overall).toEqual({ n: 4, qwk: expect.closeTo(29 / 64, 12), mae: 2.125, exact: 0.25, adjacent: 0.5, max: 10 });
    // Cause, 0..4: (3,2) (2,0) (3,4) (1,1). MAE = (0.5 + 2 + 1 + 0) / 4 = 0.875; exact 1/4; adjacent 3/4.
    //  w = (i−j)²/16: Σw·O = (1 + 4 + 1 + 0)/16 = 6/16.
    //  Σw·E over i ∈ {3,2,3,1}, j ∈ {2,0,4,1}: i=3: 1+9+1+4 = 15 (twice: 30); i=2: 0+4+4+1 = 9; i=1: 1+1+9+0 = 11 → 50/64.
    //  κ = 1 − (6/16) / (50/64) = 1 − 24/50 = 0.52.
    expect(r.figures.criteria.find((c) => c.id === 'cause')).toMatchObject({ n: 4, qwk: expect.closeTo(0.52, 12), mae: 0.875, exact: 0.25, adjacent: 0.75 });
  }, 120_000);

  it('refuses bad calls with a message and a non-zero exit, before anything is sent', async () => {
    const badSet = join(dir, 'bad.jsonl');
    writeFileSync(badSet, ['{"id":"a","submission":"x","score":11}', 'not json', '{"id":"a","submission":"y","score":2,"criteria":{"cause":9,"nope":1}}', '{"submission":"z","score":1,"extra":true}'].join('\n'));
    const badPrompt = join(dir, 'bad-prompt.json');
    writeFileSync(badPrompt, JSON.stringify({ task: { title: 'T' }, template: 'no placeholder', model: 'gpt-nope', rubric: [] }));
    const cases: Array<[string[], Record<string, string> | undefined, RegExp]> = [
      [['--prompt', SHIPPED_PROMPT], undefined, /--set <labelled\.jsonl> is required\./],
      [['--set', SHIPPED_SET], undefined, /Name the prompt: --task <id> \(its active prompt\) or --prompt <file>\./],
      [['--prompt', SHIPPED_PROMPT, '--set', SHIPPED_SET, '--concurrency', '0'], undefined, /--concurrency must be a whole number from 1 to 16, not "0"\./],
      [['--task', 'abc', '--set', SHIPPED_SET], undefined, /--task must be a task id \(a whole number\), not "abc"\./],
      [['--prompt', SHIPPED_PROMPT, '--set', SHIPPED_SET, '--bogus'], undefined, /Unknown option '--bogus'/],
      [['--prompt', SHIPPED_PROMPT, '--set', join(dir, 'missing.jsonl')], undefined, /Cannot read the labelled set .*missing\.jsonl: no such file\./],
      [['--prompt', badPrompt, '--set', SHIPPED_SET], undefined, /The prompt file cannot be used:\n {2}- /],
      [['--prompt', SHIPPED_PROMPT, '--set', badSet], undefined, /The labelled set cannot be used:\n {2}- line 1: score 11 is outside 0–10\.\n {2}- line 2: not JSON[^\n]*\n {2}- line 3: id "a" is used already on line 1\.\n {2}- line 3: cause 9 is outside 0–4\.\n {2}- line 3: criterion "nope" is not in the rubric \(cause, consequence, clarity\)\.\n {2}- line 4: id: a name or number for the item is required\.\n {2}- line 4: unknown field\(s\) extra/],
      // A real provider spends money: only with a task, whose course's budgets it passes. (Nothing listens at the
      // URL: a call would fail differently.)
      [['--prompt', SHIPPED_PROMPT, '--set', SHIPPED_SET], { ...baseEnv(), OPENAI_API_KEY: 'sk-test-not-used', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' }, /A run on OpenAI-compatible API at 127\.0\.0\.1:9 spends money: add --task <id>.*Nothing was sent\./],
    ];
    const results = await Promise.all(cases.map(([args, env]) => cli(args, env)));
    results.forEach((res, i) => {
      expect({ args: cases[i]![0], code: res.code, stderr: res.stderr }).toEqual({ args: cases[i]![0], code: 1, stderr: expect.stringMatching(cases[i]![2]) });
    });
  }, 180_000);

  describe('with a task', () => {
    let stack: Stack;
    let home: Home;
    const db = () => stack.db.db;
    const taskSet = () => {
      const file = join(dir, 'task.jsonl');
      writeFileSync(file, [
        { id: 't1', submission: 'The Boston Tea Party was a protest against taxation without representation and the Tea Act.', score: 6, criteria: { accuracy: 3, completeness: 2, clarity: 1 } },
        { id: 't2', submission: 'It was about tea.', score: 1 },
      ].map((x) => JSON.stringify(x)).join('\n'));
      return file;
    };
    const env = async () => ({ ...testEnv(stack.db, await freePort()), PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', EMULATOR_URL: stack.emulator!.url });
    const ledger = async () => (await db().execute<{ kind: string; mode: string; amount_micros: string; task_id: string }>(sql`
      select kind, mode, amount_micros, task_id from cost_ledger where course_id = ${home.courseId} order by id`)).rows;

    beforeAll(async () => {
      stack = await startStack({ emulator: true });
      await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
      await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '2' });
      home = await homeIds(stack);
      await allowLlm(db(), home.courseId, home.instructorId);
      await activatePrompt(db(), home, home.taskId);
    }, 90_000);
    afterAll(async () => {
      await stack?.close();
    });

    it('grades with the task\'s active prompt and charges the run to its course through the spending gate', async () => {
      const out = join(dir, 'task');
      const res = await cli(['--task', String(home.taskId), '--set', taskSet(), '--out', out], await env());
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(new RegExp(`with task ${home.taskId} ".*", prompt v1 \\(gpt-4o-mini, demo mode: simulated grader\\)`));
      expect(res.stdout).toContain(`Charged to the ledger of course ${home.courseId} (task ${home.taskId}), as real-time spend.`);
      const r = report(out);
      expect(r.figures.scored).toBe(2);
      // Criteria compared where people gave them: one item for each of the rubric's criteria.
      expect(r.figures.criteria.map((c) => [c.id, c.n])).toEqual([['accuracy', 1], ['completeness', 1], ['clarity', 1]]);
      // The worst case reserved, then settled by the charge of what the calls cost.
      const rows = await ledger();
      expect(rows.map((x) => [x.kind, x.mode, Number(x.task_id)])).toEqual([['reservation', 'realtime', home.taskId], ['charge', 'realtime', home.taskId]]);
      expect(Number(rows[1]!.amount_micros)).toBe(r.figures.cost.realtimeMicros);
    }, 120_000);

    it('sends nothing while the course\'s budget is frozen, and names what it cannot find', async () => {
      await db().execute(sql`insert into budgets (platform_id, course_id, month, limit_micros, frozen) values (${home.platformId}, ${home.courseId}, date_trunc('month', now())::date, 100000000, true)`);
      const before = (await ledger()).length;
      const e = await env();
      const [frozen, missing, noPrompt] = await Promise.all([
        cli(['--task', String(home.taskId), '--set', taskSet()], e),
        cli(['--task', '999999', '--set', taskSet()], e),
        cli(['--task', String(home.task2Id), '--set', taskSet()], e),
      ]);
      expect(frozen).toMatchObject({ code: 1, stderr: expect.stringContaining('for this month is frozen: nothing can be sent until an administrator unfreezes it.') });
      expect(missing).toMatchObject({ code: 1, stderr: expect.stringContaining('Task 999999 was not found.') });
      expect(noPrompt).toMatchObject({ code: 1, stderr: expect.stringContaining(`Task ${home.task2Id} ("Short answer: The Boston Tea Party") has no active grading prompt`) });
      expect((await ledger()).length).toBe(before);
    }, 120_000);
  });
});
