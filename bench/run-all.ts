/**
 * `npm run bench`: every benchmark in bench/*.bench.ts, one after another (they share the machine's two
 * cores, so never in parallel), with results written to bench/results/<name>.json and a summary printed.
 * One benchmark: `npx tsx bench/<name>.bench.ts`.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => !only.length || only.some((o) => f.includes(o)))
  .sort();
mkdirSync(path.join(dir, 'results'), { recursive: true });

let failed = false;
for (const file of files) {
  const name = file.replace(/\.bench\.ts$/, '');
  console.log(`\n=== ${name} ===`);
  const started = Date.now();
  try {
    const mod = (await import(path.join(dir, file))) as { run?: () => Promise<unknown> };
    if (!mod.run) throw new Error(`${file} exports no run()`);
    const result = await mod.run();
    const record = { benchmark: name, at: new Date().toISOString(), seconds: Math.round((Date.now() - started) / 100) / 10, node: process.version, result };
    writeFileSync(path.join(dir, 'results', `${name}.json`), JSON.stringify(record, null, 2) + '\n');
    console.log(JSON.stringify(result, null, 2));
  } catch (err) {
    failed = true;
    console.error(`${name} failed:`, err);
  }
}
process.exit(failed ? 1 : 0);
