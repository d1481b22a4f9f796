/**
 * The rules OpenAI's structured outputs apply to a `strict: true` JSON schema, so a schema the real API would
 * refuse is refused here too, before it costs a batch: the root is an object, and every object lists all of its
 * properties as required and sets additionalProperties to false. Returns the API's message, or null if fine.
 */
export function checkStrictSchema(schema: Record<string, unknown>): string | null {
  if (schema.type !== 'object') {
    return `schema must be a JSON Schema of 'type: "object"', got 'type: "${String(schema.type)}"'.`;
  }
  return checkNode(schema, []);
}

function context(path: string[]): string {
  return `In context=(${path.map((p) => `'${p}'`).join(', ')}${path.length === 1 ? ',' : ''})`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkNode(node: Record<string, unknown>, path: string[]): string | null {
  const props = node.properties;
  if (node.type === 'object' || isRecord(props)) {
    if (node.additionalProperties !== false) {
      return `${context(path)}, 'additionalProperties' is required to be supplied and to be false.`;
    }
    const keys = isRecord(props) ? Object.keys(props) : [];
    const required = Array.isArray(node.required) ? node.required : [];
    const missing = keys.filter((k) => !required.includes(k));
    if (missing.length) {
      return `${context(path)}, 'required' is required to be supplied and to be an array including every key in properties. Missing '${missing[0]}'.`;
    }
    if (isRecord(props)) {
      for (const [key, child] of Object.entries(props)) {
        if (isRecord(child)) {
          const problem = checkNode(child, [...path, 'properties', key]);
          if (problem) return problem;
        }
      }
    }
  }
  if (isRecord(node.items)) {
    const problem = checkNode(node.items, [...path, 'items']);
    if (problem) return problem;
  }
  for (const key of ['anyOf', 'allOf'] as const) {
    const list = node[key];
    if (Array.isArray(list)) {
      for (const [i, child] of list.entries()) {
        if (isRecord(child)) {
          const problem = checkNode(child, [...path, key, String(i)]);
          if (problem) return problem;
        }
      }
    }
  }
  for (const key of ['$defs', 'definitions'] as const) {
    const defs = node[key];
    if (isRecord(defs)) {
      for (const [name, child] of Object.entries(defs)) {
        if (isRecord(child)) {
          const problem = checkNode(child, [...path, key, name]);
          if (problem) return problem;
        }
      }
    }
  }
  return null;
}
