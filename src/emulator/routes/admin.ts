import { Router } from 'express';
import { ApiError } from '../api-error.js';
import type { EmulatorContext } from '../context.js';
import { FaultsError, NO_FAULTS, parseFaults } from '../faults.js';

/**
 * Test and demo controls, outside the OpenAI API: GET/POST /__emulator/faults, POST /__emulator/reset,
 * GET /__emulator/health. No key needed; the emulator listens on localhost only by default.
 */
export function adminRouter(ctx: EmulatorContext): Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    res.json({ ok: true, files: ctx.store.files.size, batches: ctx.store.batches.size, messageBatches: ctx.store.anthropicBatches.size });
  });
  router.get('/faults', (_req, res) => {
    res.json({ faults: ctx.faults.current });
  });
  router.post('/faults', (req, res) => {
    try {
      ctx.faults.set(parseFaults(req.body));
    } catch (err) {
      if (err instanceof FaultsError) throw new ApiError(400, err.message, 'invalid_request_error', null, 'invalid_faults');
      throw err;
    }
    res.json({ faults: ctx.faults.current });
  });
  router.post('/reset', (_req, res) => {
    ctx.store.clear();
    ctx.faults.set(NO_FAULTS);
    res.json({ ok: true });
  });
  return router;
}
