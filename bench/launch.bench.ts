/**
 * Tool-side LTI launch latency: 500 launches from the development LMS with the platform's keys cached.
 * A launch costs the tool four requests: the OIDC login (redirect to the LMS), the id_token POST (verification,
 * session), the launch GET (tenancy recorded, redirect) and the role's home page. Their summed time, measured
 * by the client over loopback, is the tool-side latency; the LMS's own /auth step is excluded.
 *
 *   npx tsx bench/launch.bench.ts [--launches 500]
 */
import { parseArgs } from 'node:util';
import { LtiBrowser } from '../test/helpers/lti-browser.js';
import { startBenchStack } from './lib/stack.js';
import { printTable, summarize } from './lib/stats.js';

const PEOPLE: Array<[string, Record<string, string>]> = [
  ['student1', { task: '1' }],
  ['student2', { task: '2' }],
  ['student3', { task: '1' }],
  ['instructor', { task: '1' }],
  ['instructor', { task: 'nav' }],
  ['admin', {}],
];

export async function run(options: { launches?: number } = {}) {
  const launches = options.launches ?? 500;
  const { tool, lms, close } = await startBenchStack('launch_bench');

  const steps = { login: [] as number[], verify: [] as number[], record: [] as number[], home: [] as number[], total: [] as number[] };
  const timed = async <T>(fn: () => Promise<T>, into: number[]): Promise<T> => {
    const t0 = performance.now();
    const out = await fn();
    into.push(performance.now() - t0);
    return out;
  };
  const once = async (login: string, query: Record<string, string>, record: boolean) => {
    const browser = new LtiBrowser();
    const qs = new URLSearchParams(query).toString();
    const lmsPage = await browser.request(`${lms.url}/launch/${login}${qs ? `?${qs}` : ''}`);
    const loginUrl = new URL(lmsPage.html.match(/<iframe[^>]*src="([^"]+)"/)![1]!.replace(/&amp;/g, '&'), lms.url).href;
    const t: number[] = [];
    const login1 = await timed(() => browser.request(loginUrl, { follow: false }), t);
    const auth = await browser.request(login1.headers.get('location')!);
    const idToken = auth.html.match(/name="id_token" value="([^"]+)"/)![1]!;
    const state = auth.html.match(/name="state" value="([^"]+)"/)![1]!;
    const action = auth.html.match(/action="([^"]+)"/)![1]!;
    const posted = await timed(() => browser.request(action, { form: { id_token: idToken, state }, follow: false }), t);
    const launched = await timed(() => browser.request(new URL(posted.headers.get('location')!, action).href, { follow: false }), t);
    const home = await timed(() => browser.request(new URL(launched.headers.get('location')!, action).href), t);
    if (home.status !== 200) throw new Error(`launch of ${login} failed: ${home.status}`);
    if (record) {
      steps.login.push(t[0]!);
      steps.verify.push(t[1]!);
      steps.record.push(t[2]!);
      steps.home.push(t[3]!);
      steps.total.push(t[0]! + t[1]! + t[2]! + t[3]!);
    }
  };

  for (let i = 0; i < 30; i++) await once(...PEOPLE[i % PEOPLE.length]!, false); // warm-up: JIT, pools, key cache
  const fetchesBefore = tool.tool!.jwks.fetches;
  const started = performance.now();
  for (let i = 0; i < launches; i++) await once(...PEOPLE[i % PEOPLE.length]!, true);
  const seconds = (performance.now() - started) / 1000;
  const result = {
    launches,
    jwksFetchesDuringRun: tool.tool!.jwks.fetches - fetchesBefore,
    launchesPerSecondEndToEnd: Math.round((launches / seconds) * 10) / 10,
    toolMs: Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, summarize(v)])),
  };
  await close();
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { launches: { type: 'string', default: '500' } } });
  const result = await run({ launches: Number(values.launches) });
  printTable(
    `Tool-side launch latency over ${result.launches} launches (ms; keys cached: ${result.jwksFetchesDuringRun} JWKS fetches during the run)`,
    Object.entries(result.toolMs).map(([step, s]) => ({ step, p50: s.p50, p95: s.p95, p99: s.p99, max: s.max })),
  );
  console.log(`\nEnd-to-end (including the LMS's own pages): ${result.launchesPerSecondEndToEnd} launches/s, sequential.`);
  process.exit(0);
}
