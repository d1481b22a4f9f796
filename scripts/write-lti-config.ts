// Regenerates lti-config.json (the Canvas developer key JSON for a local tool) from src/lti/canvas-config.ts.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { canvasConfig } from '../src/lti/canvas-config.js';
import { ROOT } from '../src/paths.js';

writeFileSync(path.join(ROOT, 'lti-config.json'), JSON.stringify(canvasConfig('http://localhost:3000'), null, 2) + '\n');
