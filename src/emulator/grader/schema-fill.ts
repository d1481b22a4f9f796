import { unitHash } from '../hash.js';

/**
 * A value that satisfies a JSON schema, for response formats that are not our grading schema: every property
 * (strict mode requires them all), numbers inside their range, the first enum value. Deterministic per key.
 */

type Schema = Record<string, unknown>;

function isSchema(v: unknown): v is Schema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function resolveRef(ref: string, root: Schema): Schema | null {
  const m = /^#\/(\$defs|definitions)\/(.+)$/.exec(ref);
  if (!m?.[1] || !m[2]) return null;
  const defs = root[m[1]];
  const target = isSchema(defs) ? defs[m[2]] : undefined;
  return isSchema(target) ? target : null;
}

export function fillSchema(schema: Schema, key: string, root: Schema = schema, path: string[] = [], depth = 0): unknown {
  if (depth > 12) return null;
  if (typeof schema.$ref === 'string') {
    const target = resolveRef(schema.$ref, root);
    return target ? fillSchema(target, key, root, path, depth + 1) : null;
  }
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  for (const k of ['anyOf', 'oneOf'] as const) {
    const options = schema[k];
    if (Array.isArray(options)) {
      const pick = options.find((o) => isSchema(o) && o.type !== 'null') ?? options[0];
      return isSchema(pick) ? fillSchema(pick, key, root, path, depth + 1) : null;
    }
  }
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  const name = path[path.length - 1] ?? 'value';
  switch (type) {
    case 'object': {
      const props = isSchema(schema.properties) ? schema.properties : {};
      return Object.fromEntries(
        Object.entries(props).map(([prop, child]) => [prop, isSchema(child) ? fillSchema(child, key, root, [...path, prop], depth + 1) : null]),
      );
    }
    case 'array': {
      const items = isSchema(schema.items) ? schema.items : {};
      const n = Math.max(1, typeof schema.minItems === 'number' ? schema.minItems : 1);
      return Array.from({ length: n }, (_, i) => fillSchema(items, key, root, [...path, String(i)], depth + 1));
    }
    case 'integer':
    case 'number': {
      const min = typeof schema.minimum === 'number' ? schema.minimum : 0;
      const max = typeof schema.maximum === 'number' ? schema.maximum : min + 10;
      const v = min + unitHash(key, ...path) * (max - min);
      return type === 'integer' ? Math.min(max, Math.max(min, Math.round(v))) : Math.round(v * 100) / 100;
    }
    case 'boolean':
      return unitHash(key, ...path) < 0.5;
    case 'null':
      return null;
    default:
      return `Simulated ${name.replace(/_/g, ' ')} (llm-assess emulator).`;
  }
}
