import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Router } from 'express';
import YAML from 'yaml';
import { ROOT } from '../paths.js';
import { canvasConfig } from '../lti/canvas-config.js';

let openApiDocument: unknown;

/** The OpenAPI document of the JSON API (openapi/openapi.yaml), parsed once. */
export function loadOpenApi(): unknown {
  openApiDocument ??= YAML.parse(readFileSync(path.join(ROOT, 'openapi', 'openapi.yaml'), 'utf8'));
  return openApiDocument;
}

/** Routes anyone may read: no session, nothing secret. */
export function publicRoutes(deps: { toolUrl: string }): Router {
  const router = Router();
  router.get('/api/openapi.json', (_req, res) => {
    const doc = loadOpenApi() as { servers?: unknown };
    res.json({ ...(doc as object), servers: [{ url: deps.toolUrl }] });
  });
  router.get('/lti/canvas-config.json', (_req, res) => res.json(canvasConfig(deps.toolUrl)));
  return router;
}
