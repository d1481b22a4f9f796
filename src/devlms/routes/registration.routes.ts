import express, { Router } from 'express';
import type { DevLmsContext } from '../context.js';
import { findRegistrationToken } from '../db/tokens.repository.js';
import { jsonError, jsonErrors, pageError } from '../http/errors.js';
import { hashToken } from '../http/service-auth.js';
import { parseWith } from '../http/validate.js';
import { issueRegistrationToken, registerTool, registrationResponse } from '../lti/registration.service.js';
import { registrationFramePage } from '../views/registration.view.js';
import { registrationRequestSchema, startRegistrationFormSchema } from './registration.schema.js';

const badToken = () =>
  jsonError(401, 'invalid_token', 'A valid one-time registration token is required as "Authorization: Bearer <registration_token>".', {
    'WWW-Authenticate': 'Bearer realm="devlms", error="invalid_token"',
  });

/** LTI Dynamic Registration, platform side: the registration endpoint, and the page that starts a registration. */
export function registrationRoutes(ctx: DevLmsContext): Router {
  const router = Router();

  router.post('/register', jsonErrors, express.json({ limit: '256kb' }), async (req, res) => {
    const token = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
    const stored = token ? await findRegistrationToken(ctx.pool, hashToken(token)) : null;
    if (!token || !stored || stored.usedAt || stored.expiresAt.getTime() <= Date.now()) throw badToken();
    if (!req.is('application/json')) throw jsonError(400, 'invalid_client_metadata', 'The registration must be JSON (Content-Type: application/json).');
    const request = parseWith(registrationRequestSchema, req.body, (m) => jsonError(400, 'invalid_client_metadata', m));
    const registration = await registerTool(ctx, token, request);
    if (!registration) throw badToken();
    res.status(200).set('Cache-Control', 'no-store').json(registrationResponse(request, registration));
  });

  router.post('/dynamic-registration', express.urlencoded({ extended: false, limit: '16kb' }), async (req, res) => {
    const form = parseWith(startRegistrationFormSchema, req.body ?? {}, (m) => pageError(400, `Cannot start the registration: ${m}.`));
    const token = await issueRegistrationToken(ctx);
    const frame = new URL(form.registration_url);
    frame.searchParams.set('openid_configuration', ctx.endpoints.openidConfiguration);
    frame.searchParams.set('registration_token', token);
    res.set('Cache-Control', 'no-store').type('html').send(registrationFramePage({ frameSrc: frame.toString(), toolOrigin: frame.origin }));
  });
  return router;
}
