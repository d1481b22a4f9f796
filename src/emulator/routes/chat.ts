import { Router } from 'express';
import { completeChat } from '../chat/completion.js';
import { validateChatRequest } from '../chat/request.js';
import type { EmulatorContext } from '../context.js';
import { overloaded, rateLimited, serverError } from './shared.js';

/** POST /v1/chat/completions: the real-time call, answered by the same grader as batch lines. */
export function chatRouter(ctx: EmulatorContext): Router {
  const router = Router();
  router.post('/chat/completions', (req, res) => {
    const injected = ctx.faults.takeChatFailure();
    if (injected === 429) {
      throw rateLimited('Rate limit reached for requests in organization org-emulator on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 1s.');
    }
    if (injected === 500) throw serverError();
    if (injected === 503) throw overloaded();
    const request = validateChatRequest(req.body);
    res.json(completeChat(request, ctx.faults.output(), { nowMs: ctx.clock() }));
  });
  return router;
}
