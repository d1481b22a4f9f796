import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import YAML from 'yaml';
import { ROOT } from '../../../src/paths.js';

/**
 * Validators for schemas of the official OpenAI OpenAPI spec: the subset kept in the repository
 * (test/contracts/openai-openapi.subset.yaml, made by scripts/vendor-openai-spec.ts), or a whole spec named by
 * OPENAI_OPENAPI_SPEC. Only the named schemas and what they reference are compiled: the whole 3 MB spec holds
 * 2019-09 keywords Ajv's 2020-12 dialect refuses, in schemas we never touch.
 */

type Json = Record<string, unknown>;

/**
 * Fields the spec types as optional strings/integers but the live API sends as null — the spec's own Batch
 * example has `"errors": null` and `"failed_at": null`; a batch with no successes has `output_file_id: null`
 * (kaapi-backend#723); an empty list has null first_id/last_id. We allow null for exactly these, nothing else.
 */
const NULLABLE_IN_PRACTICE: Record<string, string[]> = {
  Batch: ['model', 'errors', 'output_file_id', 'error_file_id', 'in_progress_at', 'finalizing_at', 'completed_at', 'failed_at', 'expired_at', 'cancelling_at', 'cancelled_at'],
  ListFilesResponse: ['first_id', 'last_id'],
  ListBatchesResponse: ['first_id', 'last_id'],
};

function specPath(): string {
  const p = process.env.OPENAI_OPENAPI_SPEC ?? path.join(ROOT, 'test', 'contracts', 'openai-openapi.subset.yaml');
  if (!existsSync(p)) throw new Error(`The OpenAI OpenAPI spec was not found at ${p}: set OPENAI_OPENAPI_SPEC to its path.`);
  return p;
}

function refsIn(node: unknown, found: Set<string>): void {
  if (Array.isArray(node)) {
    for (const item of node) refsIn(item, found);
  } else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && value.startsWith('#/components/schemas/')) found.add(value.slice('#/components/schemas/'.length));
      else refsIn(value, found);
    }
  }
}

function rewriteRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node && typeof node === 'object') {
    return Object.fromEntries(
      Object.entries(node).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' ? v.replace('#/components/schemas/', '#/$defs/') : rewriteRefs(v)]),
    );
  }
  return node;
}

function formatsIn(node: unknown, found: Set<string>): void {
  if (Array.isArray(node)) node.forEach((n) => formatsIn(n, found));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'format' && typeof v === 'string') found.add(v);
      else formatsIn(v, found);
    }
  }
}

export interface SpecValidators {
  /** Validation errors of data against a spec schema, as readable strings; [] when valid. */
  errors(schemaName: string, data: unknown): string[];
}

export function loadSpecValidators(roots: string[]): SpecValidators {
  const spec = YAML.parse(readFileSync(specPath(), 'utf8')) as { components: { schemas: Record<string, Json> } };
  const all = spec.components.schemas;
  const wanted = new Set<string>();
  const queue = [...roots];
  while (queue.length) {
    const name = queue.pop() as string;
    if (wanted.has(name)) continue;
    if (!all[name]) throw new Error(`The spec has no schema named ${name}`);
    wanted.add(name);
    const refs = new Set<string>();
    refsIn(all[name], refs);
    queue.push(...refs);
  }
  const defs: Record<string, unknown> = {};
  for (const name of wanted) {
    const schema = rewriteRefs(structuredClone(all[name])) as Json;
    const props = schema.properties as Record<string, unknown> | undefined;
    for (const field of NULLABLE_IN_PRACTICE[name] ?? []) {
      if (props?.[field]) props[field] = { anyOf: [props[field], { type: 'null' }] };
    }
    defs[name] = schema;
  }

  const ajv = new Ajv2020({ strict: false, allErrors: true });
  // ajv-formats is CommonJS: under Node's ESM loader the default import is module.exports (the plugin itself),
  // while TypeScript types it as the module namespace. Take whichever is callable.
  type Plugin = (a: Ajv2020) => void;
  const imported = addFormatsModule as unknown as Plugin | { default: Plugin };
  (typeof imported === 'function' ? imported : imported.default)(ajv);
  const formats = new Set<string>();
  formatsIn(defs, formats);
  for (const f of formats) if (!ajv.formats[f]) ajv.addFormat(f, true);
  ajv.addSchema({ $id: 'openai', $defs: defs });

  const cache = new Map<string, ValidateFunction>();
  return {
    errors(schemaName, data) {
      let validate = cache.get(schemaName);
      if (!validate) {
        validate = ajv.getSchema(`openai#/$defs/${schemaName}`);
        if (!validate) throw new Error(`${schemaName} was not loaded: add it to loadSpecValidators()`);
        cache.set(schemaName, validate);
      }
      return validate(data) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
    },
  };
}
