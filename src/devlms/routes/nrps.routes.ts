import { Router } from 'express';
import { z } from 'zod';
import type { DevLmsContext } from '../context.js';
import { findLink } from '../db/links.repository.js';
import { findCourse, listMembers } from '../db/people.repository.js';
import { jsonError, jsonErrors } from '../http/errors.js';
import { sendMedia } from '../http/media.js';
import { nextLink, offsetOf, pagingQuery } from '../http/paging.js';
import { injectFaults, requireScope, serviceClient } from '../http/service-auth.js';
import { parseWith } from '../http/validate.js';
import { MEDIA_TYPE, SCOPE } from '../lti/claims.js';

const membershipsQuerySchema = z.strictObject({
  /** A full role URI or its short name (`Learner`). */
  role: z.string({ error: 'must be given once, as text' }).min(1).optional(),
  /** Members with access to this resource link (all members here; checked so a wrong id is reported). */
  rlid: z.string({ error: 'must be given once, as text' }).min(1).optional(),
  ...pagingQuery,
});

/** LTI Names and Role Provisioning Services 2.0: the course's membership container. */
export function nrpsRoutes(ctx: DevLmsContext): Router {
  const router = Router({ mergeParams: true });
  router.use(jsonErrors, injectFaults(ctx, 'nrps'));

  router.get('/', requireScope(ctx, [SCOPE.membershipReadonly]), async (req, res) => {
    const query = parseWith(membershipsQuerySchema, req.query, (m) => jsonError(400, 'invalid_request', m));
    const contextId = String(req.params.contextId);
    const course = await findCourse(ctx.pool, contextId);
    if (!course) throw jsonError(404, 'not_found', `There is no course "${contextId}".`);
    if (query.rlid) {
      const link = await findLink(ctx.pool, query.rlid);
      if (!link || link.contextId !== course.contextId || link.clientId !== serviceClient(res.locals).clientId) {
        throw jsonError(400, 'invalid_request', `rlid "${query.rlid}" is not a link of this tool in ${course.contextId}.`);
      }
    }
    const page = await listMembers(ctx.pool, course.contextId, { role: query.role, limit: query.limit, offset: offsetOf(query) });
    const url = ctx.endpoints.memberships(course.contextId);
    if (page.hasMore) res.set('Link', nextLink(url, query, query.page));
    sendMedia(res, 200, MEDIA_TYPE.membershipContainer, {
      id: url,
      context: { id: course.contextId, label: course.label, title: course.title },
      members: page.members.map((m) => ({
        status: m.status,
        name: m.name,
        given_name: m.givenName,
        family_name: m.familyName,
        email: m.email,
        user_id: m.sub,
        lis_person_sourcedid: `sis-${m.login}`,
        roles: m.roles,
      })),
    });
  });
  return router;
}
