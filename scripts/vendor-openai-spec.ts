/**
 * Copies the schemas the emulator's contract tests check against (and everything they reference) out of the
 * official OpenAI OpenAPI spec into test/contracts/openai-openapi.subset.yaml, with the spec's version and the
 * date. The tests read only that file: a clone of this repository needs nothing beside it.
 *
 *   npx tsx scripts/vendor-openai-spec.ts <path to openai-openapi.yaml> [retrieved YYYY-MM-DD]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ROOT } from '../src/paths.js';

export const CONTRACT_SCHEMAS = ['Batch', 'OpenAIFile', 'ListBatchesResponse', 'ListFilesResponse', 'DeleteFileResponse', 'ErrorResponse', 'CreateChatCompletionResponse'];

type Json = Record<string, unknown>;

function refsIn(node: unknown, found: Set<string>): void {
  if (Array.isArray(node)) for (const item of node) refsIn(item, found);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && value.startsWith('#/components/schemas/')) found.add(value.slice('#/components/schemas/'.length));
      else refsIn(value, found);
    }
  }
}

const [specFile, retrieved] = process.argv.slice(2);
if (!specFile) {
  console.error('usage: npx tsx scripts/vendor-openai-spec.ts <openai-openapi.yaml> [retrieved YYYY-MM-DD]');
  process.exit(1);
}
const spec = YAML.parse(readFileSync(specFile, 'utf8')) as { info: { version: string }; components: { schemas: Record<string, Json> } };
const wanted = new Set<string>();
const queue = [...CONTRACT_SCHEMAS];
while (queue.length) {
  const name = queue.pop()!;
  if (wanted.has(name)) continue;
  if (!spec.components.schemas[name]) throw new Error(`the spec has no schema ${name}`);
  wanted.add(name);
  const refs = new Set<string>();
  refsIn(spec.components.schemas[name], refs);
  queue.push(...refs);
}
const schemas = Object.fromEntries([...wanted].sort().map((n) => [n, spec.components.schemas[n]]));
const header = [
  `# The schemas of the official OpenAI OpenAPI spec (version ${spec.info.version}) that the emulator's contract`,
  `# tests check against, and everything they reference: ${CONTRACT_SCHEMAS.join(', ')}.`,
  '# Source: https://github.com/openai/openai-openapi (openapi.yaml), as kept in the project brief\'s contracts,',
  `# retrieved ${retrieved ?? new Date().toISOString().slice(0, 10)}. Regenerate with scripts/vendor-openai-spec.ts; do not edit by hand.`,
].join('\n');
const out = path.join(ROOT, 'test', 'contracts', 'openai-openapi.subset.yaml');
writeFileSync(out, `${header}\n${YAML.stringify({ openapi: '3.1.0', info: { title: 'OpenAI API (subset)', version: spec.info.version }, components: { schemas } }, { lineWidth: 0 })}`);
console.log(`${wanted.size} schemas → ${path.relative(ROOT, out)}`);
