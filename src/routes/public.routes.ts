import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Router } from 'express';
import YAML from 'yaml';
import { ROOT } from '../paths.js';
import { canvasConfig } from '../lti/canvas-config.js';
import { LTI_ROUTES } from '../lti/provider.js';
import { render } from '../http/render.js';

interface OpenApiDocument {
  paths: Record<string, unknown>;
  components: { schemas?: Record<string, unknown>; responses?: Record<string, unknown> };
  [key: string]: unknown;
}

let openApiDocument: OpenApiDocument | undefined;

/**
 * The OpenAPI document of the JSON API: openapi/openapi.yaml with every fragment of openapi/paths/ merged in
 * (each area documents its own endpoints). A path or schema defined twice is a mistake, reported at once.
 */
export function loadOpenApi(): OpenApiDocument {
  if (openApiDocument) return openApiDocument;
  const dir = path.join(ROOT, 'openapi');
  const doc = YAML.parse(readFileSync(path.join(dir, 'openapi.yaml'), 'utf8')) as OpenApiDocument;
  doc.paths ??= {};
  doc.components.schemas ??= {};
  for (const file of readdirSync(path.join(dir, 'paths')).filter((f) => f.endsWith('.yaml')).sort()) {
    const fragment = YAML.parse(readFileSync(path.join(dir, 'paths', file), 'utf8')) as Partial<OpenApiDocument>;
    for (const [key, value] of Object.entries(fragment.paths ?? {})) {
      if (key in doc.paths) throw new Error(`openapi/paths/${file}: path ${key} is already defined`);
      doc.paths[key] = value;
    }
    for (const [key, value] of Object.entries(fragment.components?.schemas ?? {})) {
      if (key in doc.components.schemas) throw new Error(`openapi/paths/${file}: schema ${key} is already defined`);
      doc.components.schemas[key] = value;
    }
  }
  openApiDocument = doc;
  return doc;
}

/** Routes anyone may read: no session, nothing secret. */
export function publicRoutes(deps: { toolUrl: string }): Router {
  const router = Router();
  router.get('/api/openapi.json', (_req, res) => {
    res.json({ ...loadOpenApi(), servers: [{ url: deps.toolUrl }] });
  });
  router.get('/lti/canvas-config.json', (_req, res) => res.json(canvasConfig(deps.toolUrl)));
  // The address opened in a browser, outside any LMS: how to register the first LMS (nothing about who is registered).
  router.get('/', (req, res) => {
    const endpoints = { login: `${deps.toolUrl}${LTI_ROUTES.login}`, launch: `${deps.toolUrl}${LTI_ROUTES.launch}`, keys: `${deps.toolUrl}${LTI_ROUTES.keys}` };
    render(req, res, 'pages/welcome', { title: 'Welcome', endpoints });
  });
  return router;
}
