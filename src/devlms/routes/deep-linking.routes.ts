import express, { Router } from 'express';
import type { DevLmsContext } from '../context.js';
import { pageError } from '../http/errors.js';
import { parseWith } from '../http/validate.js';
import { applyDeepLinking, verifyDeepLinkingResponse } from '../lti/deep-linking.service.js';
import { deepLinkingResultPage } from '../views/deep-linking.view.js';
import { deepLinkingFormSchema } from './deep-linking.schema.js';

/** The deep-linking return URL: the tool's auto-submitted form lands here, inside the LMS iframe. */
export function deepLinkingRoutes(ctx: DevLmsContext): Router {
  const router = Router();
  router.post('/deep_link_return', express.urlencoded({ extended: false, limit: '256kb' }), async (req, res) => {
    const form = parseWith(deepLinkingFormSchema, req.body ?? {}, (m) => pageError(400, `The deep-linking response was refused: ${m}.`));
    const response = await verifyDeepLinkingResponse(ctx, ctx.pool, form.JWT);
    const links = await applyDeepLinking(ctx, response);
    res.type('html').send(
      deepLinkingResultPage({
        added: links.map((l) => ({
          title: l.title,
          launchHref: `/launch/${encodeURIComponent(response.data.login)}?client=${encodeURIComponent(l.clientId)}&link=${encodeURIComponent(l.id)}`,
        })),
        msg: response.msg,
        errormsg: response.errormsg,
      }),
    );
  });
  return router;
}
