import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { DevLmsContext } from '../context.js';
import { findLineItemForLink } from '../db/line-items.repository.js';
import { listLinks } from '../db/links.repository.js';
import { findMembershipRoles, firstCourse, listPeople, type Course, type Person } from '../db/people.repository.js';
import { listRegistrations, type Registration } from '../db/registrations.repository.js';
import { pageError } from '../http/errors.js';
import { parseWith } from '../http/validate.js';
import { ROLE } from '../lti/claims.js';
import { SEEDED_CLIENT_ID } from '../lti/launch.service.js';
import { roleLabel } from '../lti/roles-label.js';
import { coursePage, type CourseView } from '../views/course.view.js';
import { duplicateLink } from '../lti/duplicate.service.js';
import { returnPage } from '../views/gradebook.view.js';

const courseQuerySchema = z.object({ registered: z.literal('1').optional() });

const returnQuerySchema = z.object({
  lti_msg: z.string().max(2000).optional(),
  lti_errormsg: z.string().max(2000).optional(),
  lti_log: z.string().optional(),
  lti_errorlog: z.string().optional(),
});

/** The course home page and the launch return URL. */
export function courseRoutes(ctx: DevLmsContext): Router {
  const router = Router();
  router.get('/', (req, res) => sendCoursePage(ctx, req, res));
  router.post('/links/:linkId/duplicate', express.urlencoded({ extended: false, limit: '8kb' }), async (req, res) => {
    const copy = await duplicateLink(ctx, req.params.linkId);
    if (!copy) throw pageError(404, 'No such activity to duplicate.');
    res.redirect(303, '/');
  });
  router.get('/return', (req, res) => {
    const query = parseWith(returnQuerySchema, req.query, (m) => pageError(400, `Invalid return: ${m}.`));
    res.type('html').send(returnPage({ msg: query.lti_msg, errormsg: query.lti_errormsg }));
  });
  return router;
}

/** The first course: its people, and per registered tool its activities with a launch link for each person. */
async function sendCoursePage(ctx: DevLmsContext, req: Request, res: Response): Promise<void> {
  const query = parseWith(courseQuerySchema, req.query, (m) => pageError(400, `Invalid course page request: ${m}.`));
  const course = await firstCourse(ctx.pool);
  if (!course) throw pageError(404, 'The LMS has no course yet: call seed() first.');
  const [people, registrations] = await Promise.all([listPeople(ctx.pool), listRegistrations(ctx.pool)]);
  const personRows = await Promise.all(people.map((p) => personRow(ctx, course, p)));
  const tools = await Promise.all(registrations.map((r) => toolView(ctx, course, r)));
  res.type('html').send(
    coursePage({
      course,
      registered: query.registered === '1',
      defaultRegistrationUrl: `${new URL(ctx.tool.launchUrl).origin}/lti/dynamic-registration/…`,
      tools,
      people: personRows,
    }),
  );
}

async function personRow(ctx: DevLmsContext, course: Course, p: Person): Promise<CourseView['people'][number]> {
  const roles = [...((await findMembershipRoles(ctx.pool, course.contextId, p.login)) ?? []), ...p.institutionRoles];
  return { login: p.login, name: p.name, role: roleLabel(roles), canAddActivities: roles.includes(ROLE.instructor) || roles.includes(ROLE.institutionAdministrator) };
}

async function toolView(ctx: DevLmsContext, course: Course, r: Registration): Promise<CourseView['tools'][number]> {
  const links = await listLinks(ctx.pool, course.contextId, r.clientId);
  // The seeded tool keeps the short URLs of the contract (/launch/student1?task=2).
  const clientParam = r.clientId === SEEDED_CLIENT_ID ? '' : `&client=${encodeURIComponent(r.clientId)}`;
  const nav = links.find((l) => l.placement === 'course_navigation');
  const tasks = await Promise.all(
    links
      .filter((l) => l.placement === 'assignment')
      .map(async (l, i) => {
        const lineItem = await findLineItemForLink(ctx.pool, l.id);
        return {
          duplicateAction: `/links/${encodeURIComponent(l.id)}/duplicate`,
          title: l.title,
          description: l.description,
          grading: lineItem ? `graded out of ${lineItem.scoreMaximum}` : null,
          href: (login: string) => `/launch/${encodeURIComponent(login)}?task=${i + 1}${clientParam}`,
        };
      }),
  );
  return {
    clientId: r.clientId,
    name: r.name,
    deploymentId: r.deploymentId,
    dynamic: r.source === 'dynamic',
    tasks,
    nav: nav ? { title: nav.title, href: (login: string) => `/launch/${encodeURIComponent(login)}?task=nav${clientParam}` } : null,
    deepLinkHref: r.deepLinkUri ? (login: string) => `/launch/${encodeURIComponent(login)}?message=deep_linking${clientParam}` : null,
  };
}
