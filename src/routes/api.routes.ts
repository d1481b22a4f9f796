import { Router } from 'express';
import { actorOf } from '../lti/actor.js';

/** The JSON API. Same session and checks as the pages; errors answer `{ "error": { code, message } }`. */
export function apiRoutes(): Router {
  const router = Router();

  router.get('/api/session', (_req, res) => {
    const actor = actorOf(res);
    res.json({
      user: { id: actor.userId, name: actor.name },
      role: actor.role,
      platform: { id: actor.platformId, name: actor.platformName },
      course: actor.courseId == null ? null : { id: actor.courseId, title: actor.courseTitle },
      csrfToken: (res.locals.view as { csrfToken?: string } | undefined)?.csrfToken,
    });
  });

  return router;
}
