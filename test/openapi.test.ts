import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startStack, type Stack } from './helpers/stack.js';
import { listRoutes } from './helpers/routes.js';

/** The served OpenAPI document documents every JSON route behind a session, and its references resolve. */
describe('OpenAPI document', () => {
  let stack: Stack;
  let doc: { openapi: string; paths: Record<string, Record<string, { responses?: unknown }>>; servers: Array<{ url: string }> };
  beforeAll(async () => {
    stack = await startStack({ register: false });
    doc = (await (await fetch(`${stack.toolUrl}/api/openapi.json`)).json()) as typeof doc;
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('is OpenAPI 3.1 served with this deployment as its server', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers).toEqual([{ url: stack.toolUrl }]);
  });

  it('documents every /api route with its responses', () => {
    const apiRoutes = listRoutes(stack.tool.tool!.sessionRouter)
      .filter((r) => r.split(' ')[1]!.startsWith('/api/'))
      .map((r) => {
        const [method, route] = r.split(' ');
        return `${method!.toLowerCase()} ${route!.replace(/:(\w+)/g, '{$1}')}`;
      });
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
    for (const route of apiRoutes) expect(documented).toContain(route);
    for (const [p, ops] of Object.entries(doc.paths)) for (const [m, op] of Object.entries(ops)) expect({ op: `${m} ${p}`, responses: Boolean(op.responses) }).toEqual({ op: `${m} ${p}`, responses: true });
  });

  it('has no dangling $ref', () => {
    const refs = JSON.stringify(doc).match(/"\$ref":"#\/[^"]+"/g) ?? [];
    for (const ref of refs) {
      const pointer = ref.slice(9, -1).split('/').slice(1);
      let node: unknown = doc;
      for (const part of pointer) node = (node as Record<string, unknown>)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
      expect({ ref, resolved: node !== undefined }).toEqual({ ref, resolved: true });
    }
  });
});
